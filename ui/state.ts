// The UI's view model: a pure reducer folds engine events (and a few keyboard actions) into
// what the screen shows. No engine logic here: the UI only reflects what the runner reports,
// so the reducer can be tested on event sequences without rendering anything.
import type { DroverEvent, EventOf, RecapEvent, TaskStatus } from '../lib/report/events.ts';

export type HostPhase = 'waiting' | 'connecting' | 'running' | 'ok' | 'changed' | 'failed' | 'unreachable';

export interface Counts {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
}

/** One finished task (or handler) on one host, as reported by task_end. */
export interface TaskResult {
  host: string;
  play: string;
  role?: string;
  task: string;
  handler: boolean;
  status: TaskStatus;
  durationMs: number;
  msg?: string;
  stderr?: string;
  stdout?: string;
  rc?: number | null;
  diff?: EventOf<'task_end'>['diff'];
  attempts?: number;
  delegatedTo?: string;
}

export interface HostView {
  name: string;
  phase: HostPhase;
  play?: string;
  role?: string;
  task?: string;
  /** The current (or last) task is a handler. */
  handler: boolean;
  /** A task has started and not yet ended. */
  inTask: boolean;
  counts: Counts;
  startedAt?: number;
  endedAt?: number;
  /** stderr of the latest task that printed any. */
  lastStderr?: string;
  /** host_state message (e.g. why it is unreachable). */
  msg?: string;
  /** The last few finished tasks, newest last (for the verbose detail panel). */
  recent: readonly TaskResult[];
  /** Handlers notified and not yet run. */
  pendingHandlers: readonly string[];
}

export interface SlowTask {
  host: string;
  role?: string;
  task: string;
  handler: boolean;
  durationMs: number;
}

/** Lines printed once above the live area (Ink <Static>): append-only, never changed. */
export type StaticItem =
  | { kind: 'play'; id: number; play: string; hosts: number; strategy: 'linear' | 'free'; serial?: number | string }
  | { kind: 'task'; id: number; result: TaskResult; showDiff: boolean }
  | { kind: 'notify'; id: number; host: string; handler: string; by: string }
  | { kind: 'host'; id: number; host: string; state: 'failed' | 'unreachable'; msg?: string }
  | { kind: 'log'; id: number; host?: string; level: 'debug' | 'info' | 'warn' | 'error'; msg: string }
  | { kind: 'recap'; id: number; recap: RecapEvent; order: readonly string[]; slowest: readonly SlowTask[] };

export interface UiState {
  playbook?: string;
  check: boolean;
  diff: boolean;
  forks?: number;
  play?: string;
  runStartedAt?: number;
  /** The clock as last reported (event timestamps and ticks): keeps rendering pure. */
  now: number;
  hosts: Readonly<Record<string, HostView>>;
  /** Host names in first-appearance (inventory) order: rows never jump. */
  order: readonly string[];
  staticItems: readonly StaticItem[];
  nextId: number;
  /** The slowest finished tasks so far, slowest first. */
  slowest: readonly SlowTask[];
  recap?: RecapEvent;
  /** --verbose: ok/skipped lines for every host. */
  verbose: boolean;
  /** Per-host overrides of `verbose` set with the v key. */
  verboseOverride: Readonly<Record<string, boolean>>;
  /** Index into `order` of the host the arrow keys select. */
  selected: number;
  aborting: boolean;
}

export type UiAction =
  | { type: 'ui:tick'; now: number }
  | { type: 'ui:select'; delta: number }
  | { type: 'ui:toggleVerbose' }
  | { type: 'ui:abort' };

export type UiInput = DroverEvent | UiAction;

export const RECENT_PER_HOST = 5;
export const SLOWEST_KEPT = 5;

const ZERO: Counts = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };

export function initialState(opts: { verbose?: boolean; diff?: boolean; now?: number } = {}): UiState {
  return {
    check: false,
    diff: opts.diff ?? false,
    now: opts.now ?? 0,
    hosts: {},
    order: [],
    staticItems: [],
    nextId: 1,
    slowest: [],
    verbose: opts.verbose ?? false,
    verboseOverride: {},
    selected: 0,
    aborting: false,
  };
}

export function isHostVerbose(state: UiState, host: string): boolean {
  return state.verboseOverride[host] ?? state.verbose;
}

export function selectedHost(state: UiState): string | undefined {
  return state.order[state.selected];
}

function newHost(name: string): HostView {
  return { name, phase: 'waiting', handler: false, inTask: false, counts: ZERO, recent: [], pendingHandlers: [] };
}

/** Add hosts not seen yet, keeping first-appearance order. */
function withHosts(state: UiState, names: readonly string[]): UiState {
  const fresh = names.filter((n, i) => !(n in state.hosts) && names.indexOf(n) === i);
  if (fresh.length === 0) return state;
  const hosts = { ...state.hosts };
  for (const n of fresh) hosts[n] = newHost(n);
  return { ...state, hosts, order: [...state.order, ...fresh] };
}

function patchHost(state: UiState, name: string, patch: (h: HostView) => HostView): UiState {
  const s = withHosts(state, [name]);
  const h = s.hosts[name];
  if (!h) return s;
  return { ...s, hosts: { ...s.hosts, [name]: patch(h) } };
}

function append(state: UiState, item: DistributiveOmit<StaticItem, 'id'>): UiState {
  const full = { ...item, id: state.nextId } as StaticItem;
  return { ...state, staticItems: [...state.staticItems, full], nextId: state.nextId + 1 };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const TERMINAL: ReadonlySet<HostPhase> = new Set(['failed', 'unreachable']);

function onHostState(state: UiState, e: EventOf<'host_state'>): UiState {
  const s = patchHost(state, e.host, (h) => {
    const msg = e.msg ?? h.msg;
    switch (e.state) {
      case 'waiting':
        return { ...h, phase: 'waiting', msg };
      case 'connecting':
        return { ...h, phase: 'connecting', startedAt: h.startedAt ?? e.ts, endedAt: undefined, msg };
      case 'running':
        return { ...h, phase: 'running', startedAt: h.startedAt ?? e.ts, endedAt: undefined, msg };
      case 'done':
        // "done" is ok or changed depending on what its tasks reported.
        return { ...h, phase: h.counts.changed > 0 ? 'changed' : 'ok', inTask: false, endedAt: e.ts, msg };
      case 'failed':
      case 'unreachable':
        return { ...h, phase: e.state, inTask: false, endedAt: e.ts, msg };
    }
  });
  // Why a host dropped out must outlive its row: an unreachable host always gets a line, a
  // failed one when the runner says why, unless that is the message its failed task's line
  // just printed (the runner passes the task's message on: the same text twice is noise).
  if (e.state === 'unreachable' || (e.state === 'failed' && e.msg && !saidByFailedTask(state, e.host, e.msg))) {
    const item: DistributiveOmit<StaticItem, 'id'> = { kind: 'host', host: e.host, state: e.state };
    if (e.msg !== undefined) item.msg = e.msg;
    return append(s, item);
  }
  return s;
}

/** The host's latest failed task already printed this message. */
function saidByFailedTask(state: UiState, host: string, msg: string): boolean {
  const last = [...(state.hosts[host]?.recent ?? [])].reverse().find((r) => r.status === 'failed');
  return last?.msg === msg;
}

function onTaskStart(state: UiState, e: EventOf<'task_start'>): UiState {
  return patchHost(state, e.host, (h) => ({
    ...h,
    // A failed host may still run its notified handlers: keep it shown as failed.
    phase: TERMINAL.has(h.phase) ? h.phase : 'running',
    startedAt: h.startedAt ?? e.ts,
    endedAt: TERMINAL.has(h.phase) ? h.endedAt : undefined,
    play: e.play,
    role: e.role,
    task: e.task,
    handler: e.handler ?? false,
    inTask: true,
  }));
}

function resultOf(e: EventOf<'task_end'>): TaskResult {
  const r: TaskResult = { host: e.host, play: e.play, task: e.task, handler: e.handler ?? false, status: e.status, durationMs: e.durationMs };
  if (e.role !== undefined) r.role = e.role;
  if (e.msg !== undefined) r.msg = e.msg;
  if (e.stderr !== undefined) r.stderr = e.stderr;
  if (e.stdout !== undefined) r.stdout = e.stdout;
  if (e.rc !== undefined) r.rc = e.rc;
  if (e.diff !== undefined) r.diff = e.diff;
  if (e.attempts !== undefined) r.attempts = e.attempts;
  if (e.delegatedTo !== undefined) r.delegatedTo = e.delegatedTo;
  return r;
}

function addSlow(slowest: readonly SlowTask[], r: TaskResult): readonly SlowTask[] {
  if (r.status === 'skipped') return slowest;
  const last = slowest[slowest.length - 1];
  if (slowest.length >= SLOWEST_KEPT && last && last.durationMs >= r.durationMs) return slowest;
  const entry: SlowTask = { host: r.host, task: r.task, handler: r.handler, durationMs: r.durationMs };
  if (r.role !== undefined) entry.role = r.role;
  return [...slowest, entry].sort((a, b) => b.durationMs - a.durationMs).slice(0, SLOWEST_KEPT);
}

function onTaskEnd(state: UiState, e: EventOf<'task_end'>): UiState {
  const r = resultOf(e);
  let s = patchHost(state, e.host, (h) => {
    const counts = { ...h.counts };
    counts[e.status] += 1;
    // As the recap (and Ansible's): a changed result is also an ok one.
    if (e.status === 'changed') counts.ok += 1;
    const pendingHandlers = r.handler ? h.pendingHandlers.filter((p) => p !== r.task) : h.pendingHandlers;
    return {
      ...h,
      phase: e.status === 'unreachable' ? 'unreachable' : h.phase === 'waiting' || h.phase === 'connecting' ? 'running' : h.phase,
      startedAt: h.startedAt ?? e.ts - e.durationMs,
      play: e.play,
      role: e.role,
      task: e.task,
      handler: r.handler,
      inTask: false,
      counts,
      lastStderr: e.stderr && e.stderr.trim() !== '' ? e.stderr : h.lastStderr,
      recent: [...h.recent, r].slice(-RECENT_PER_HOST),
      pendingHandlers,
    };
  });
  s = { ...s, slowest: addSlow(s.slowest, r) };
  // What scrolls by: anything that changed or failed, every handler run, and ok/skipped
  // lines only for hosts shown verbose.
  const notable = e.status === 'changed' || e.status === 'failed' || e.status === 'unreachable' || r.handler;
  if (notable || isHostVerbose(s, e.host)) {
    s = append(s, { kind: 'task', result: r, showDiff: s.diff && e.status === 'changed' && (r.diff?.length ?? 0) > 0 });
  }
  return s;
}

function onEvent(state: UiState, e: DroverEvent): UiState {
  const s = e.ts > state.now ? { ...state, now: e.ts } : state;
  switch (e.type) {
    case 'run_start':
      return withHosts({ ...s, playbook: e.playbook, check: e.check, diff: s.diff || e.diff, forks: e.forks, runStartedAt: e.ts }, e.hosts);
    case 'play_start': {
      const withPlay = withHosts({ ...s, play: e.play }, e.hosts);
      const item: DistributiveOmit<StaticItem, 'id'> = { kind: 'play', play: e.play, hosts: e.hosts.length, strategy: e.strategy };
      if (e.serial !== undefined) item.serial = e.serial;
      return append(withPlay, item);
    }
    case 'host_state':
      return onHostState(s, e);
    case 'task_start':
      return onTaskStart(s, e);
    case 'task_end':
      return onTaskEnd(s, e);
    case 'handler_notify': {
      const p = patchHost(s, e.host, (h) => (h.pendingHandlers.includes(e.handler) ? h : { ...h, pendingHandlers: [...h.pendingHandlers, e.handler] }));
      return isHostVerbose(p, e.host) ? append(p, { kind: 'notify', host: e.host, handler: e.handler, by: e.by }) : p;
    }
    case 'log': {
      const verbose = e.host !== undefined ? isHostVerbose(s, e.host) : s.verbose;
      const show = e.level === 'warn' || e.level === 'error' || (e.level === 'info' && verbose) || (e.level === 'debug' && s.verbose && verbose);
      if (!show) return s;
      const item: DistributiveOmit<StaticItem, 'id'> = { kind: 'log', level: e.level, msg: e.msg };
      if (e.host !== undefined) item.host = e.host;
      return append(s, item);
    }
    case 'play_end':
      return s;
    case 'recap': {
      const withRecapHosts = withHosts(s, Object.keys(e.hosts));
      return append({ ...withRecapHosts, recap: e }, { kind: 'recap', recap: e, order: withRecapHosts.order, slowest: withRecapHosts.slowest });
    }
  }
}

export function reduce(state: UiState, input: UiInput): UiState {
  switch (input.type) {
    case 'ui:tick':
      return input.now > state.now ? { ...state, now: input.now } : state;
    case 'ui:select': {
      if (state.order.length === 0) return state;
      const selected = Math.min(state.order.length - 1, Math.max(0, state.selected + input.delta));
      return selected === state.selected ? state : { ...state, selected };
    }
    case 'ui:toggleVerbose': {
      const host = selectedHost(state);
      if (host === undefined) return state;
      return { ...state, verboseOverride: { ...state.verboseOverride, [host]: !isHostVerbose(state, host) } };
    }
    case 'ui:abort':
      return state.aborting ? state : { ...state, aborting: true };
    default:
      return onEvent(state, input);
  }
}

/** Elapsed time of a host: until it ended, or until now while it runs. */
/** Width of the host-name column: the longest name, between 4 and 28 characters. */
export function hostNameWidth(state: UiState): number {
  return Math.min(28, Math.max(4, ...state.order.map((n) => n.length)));
}

export function hostElapsed(state: UiState, h: HostView): number | undefined {
  if (h.startedAt === undefined) return undefined;
  return Math.max(0, (h.endedAt ?? state.now) - h.startedAt);
}

export const FINISHED: ReadonlySet<HostPhase> = new Set(['ok', 'changed', 'failed', 'unreachable']);

/** Hidden-host summary order: the most common outcomes first, then what is still pending. */
export const PHASE_ORDER: readonly HostPhase[] = ['ok', 'changed', 'failed', 'unreachable', 'running', 'connecting', 'waiting'];

export interface HostWindow {
  rows: readonly HostView[];
  /** How many hosts are not shown, by phase (only phases with at least one). */
  hidden: ReadonlyArray<{ phase: HostPhase; count: number }>;
  hiddenCount: number;
}

/**
 * Which hosts get a row when they do not all fit in `maxRows` lines (one of them is then
 * the "... and N more" line). The selected host and the active ones win a row, then failed
 * ones, then the rest; the chosen rows are always shown in first-appearance order, so a row
 * never moves relative to the others.
 */
export function hostWindow(state: UiState, maxRows: number): HostWindow {
  const all = state.order.map((n) => state.hosts[n]).filter((h): h is HostView => h !== undefined);
  if (all.length <= maxRows) return { rows: all, hidden: [], hiddenCount: 0 };
  const capacity = Math.max(1, maxRows - 1);
  const rank = (h: HostView, i: number): number => {
    if (i === state.selected) return 0;
    if (h.phase === 'running' || h.phase === 'connecting') return 1;
    if (h.phase === 'failed' || h.phase === 'unreachable') return 2;
    return 3;
  };
  const chosen = all
    .map((h, i) => ({ h, i, r: rank(h, i) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .slice(0, capacity)
    .sort((a, b) => a.i - b.i);
  const shown = new Set(chosen.map((c) => c.i));
  const byPhase = new Map<HostPhase, number>();
  all.forEach((h, i) => {
    if (!shown.has(i)) byPhase.set(h.phase, (byPhase.get(h.phase) ?? 0) + 1);
  });
  const hidden = PHASE_ORDER.filter((p) => byPhase.has(p)).map((phase) => ({ phase, count: byPhase.get(phase) ?? 0 }));
  return { rows: chosen.map((c) => c.h), hidden, hiddenCount: all.length - chosen.length };
}
