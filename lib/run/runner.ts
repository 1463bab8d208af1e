// runPlays(): plays -> batches -> tasks across hosts, with Ansible's semantics (see README
// "Execution semantics"). Events go out through one redacting sink; the recap is returned
// and also emitted as the last event. The caller owns (and closes) the sink.
import PQueue from 'p-queue';
import { UnreachableError } from '../errors.ts';
import { pendingInCheck, type OpResult } from '../ops/types.ts';
import type { DroverEvent, EventSink, TaskStatus } from '../report/events.ts';
import { redactingSink } from '../report/redacting-sink.ts';
import { redact } from '../secrets/redact.ts';
import type { InventoryHost } from '../inventory/types.ts';
import type { Transport } from '../transport/types.ts';
import { errorMessage, runWithRetries, normaliseResult } from './attempts.ts';
import { serialBatches, serialLabel } from './batches.ts';
import { makeHostCtx, truthy, wantsBecome } from './context.ts';
import { defaultCheckConnections, defaultConnect, defaultGatherFacts, defaultSelectHosts } from './defaults.ts';
import { HostPool, lookupHost } from './host-pool.ts';
import type { Recap, RunOptions } from './options.ts';
import { planPlays, type HandlerStep, type HostPlan, type PlayPlan, type Step } from './plan.ts';
import { CaptureTransport, ProbeAheadTransport, ProbeWindow, captureProbes, type CapturedProbe } from './probe-ahead.ts';
import { RecapBuilder } from './recap.ts';
import { CheckModeRefusal, TaskTransport, refusalsOf, unwrapTransport } from './task-transport.ts';
import type { HostCtx, Play, Task } from './types.ts';
import { mergeHostVars } from './vars.ts';

/** DROVER_CHECK_FIRST=0: serial plays roll every host, as Ansible does (the bench's drover-rolling). */
function checkFirstOn(env: NodeJS.ProcessEnv = process.env): boolean {
  return truthy(env.DROVER_CHECK_FIRST) ?? true;
}

type NoTs<T> = T extends unknown ? Omit<T, 'ts'> : never;
export type EventInput = NoTs<DroverEvent>;

/** Output kept per stream in task_end events (the tail: errors are usually at the end). */
const MAX_OUTPUT = 32 * 1024;

function clip(s: string | undefined): string | undefined {
  if (!s) return undefined;
  if (s.length <= MAX_OUTPUT) return s;
  return `[... ${s.length - MAX_OUTPUT} chars cut]\n${s.slice(-MAX_OUTPUT)}`;
}

/** Per host, for the whole run. */
interface RunHost {
  registered: Record<string, OpResult>;
  failed: boolean;
  unreachable: boolean;
}

/** Per host, for one batch of one play. */
interface BatchHost {
  name: string;
  plan: HostPlan;
  run: RunHost;
  ready: boolean;
  /** Its tasks are over (failed or unreachable). */
  stopped: boolean;
  failedHere: boolean;
  unreachableHere: boolean;
  /** Index of the next task it has not started (for aborted counts). */
  next: number;
  notified: Set<number>;
  handlersRun: Set<number>;
  handlerFailed: boolean;
  /** Which of its next tasks' probes to read ahead (probe-ahead.ts). */
  window: ProbeWindow;
  /** Where its events and counts go (the run's, or a check-first pass's until judged). */
  out: Outlet;
  /** In a check-first pass: --check for this host, and it stops at the first would-change. */
  checking: boolean;
  /** Check-first: the first task that would change something (or was refused in check mode). */
  wouldChange?: string;
}

/**
 * Where a batch host's events and recap counts go. A check-first pass keeps them aside until
 * it knows whether they are the host's real results (nothing to change) or a preview to drop.
 */
interface Outlet {
  emit(ev: EventInput): void;
  recap: RecapBuilder;
}

/** A check-first pass's outlet: events kept with their time, counts in a recap of its own. */
interface HeldOutlet extends Outlet {
  held: Array<{ ts: number; ev: EventInput }>;
}

interface Batch {
  plan: PlayPlan;
  hosts: BatchHost[];
  /** run_once results by step index, shared by the batch's hosts. */
  once: Map<number, Promise<Outcome>>;
  /** Why the play stopped early (any_errors_fatal, max_fail_percentage). */
  stop: string | null;
  /** A check-first pass (Play.checkFirst): no handlers, no failure policy until judged. */
  checkFirst?: boolean;
}

interface Outcome {
  status: TaskStatus;
  result: OpResult;
  durationMs: number;
  attempts?: number;
  delegatedTo?: string;
  /** Host that actually ran it (differs for run_once). */
  ranOn: string;
}

export async function runPlays(plays: readonly Play[], options: RunOptions): Promise<Recap> {
  const select = options.selectHosts ?? (await defaultSelectHosts());
  // Validate everything first: a bad variable stops the run before any host is touched.
  const plans = planPlays(plays, {
    inventory: options.inventory,
    select,
    limit: options.limit,
    tags: options.tags,
    skipTags: options.skipTags,
    extraVars: options.extraVars,
    extraVarOrigins: options.extraVarOrigins,
  });
  if (!options.connect) {
    const check = await defaultCheckConnections(options.connectionDefaults);
    for (const name of new Set(plans.flatMap((p) => p.hosts))) check(withExtraVars(options.inventory.hosts.get(name)!, options));
  }
  return new Run(options, plans).execute();
}

/** -e has the last word on connection variables too (-e ansible_user=debian), as in Ansible. */
function withExtraVars(host: InventoryHost, options: RunOptions): InventoryHost {
  const extra = options.extraVars;
  if (!extra || Object.keys(extra).length === 0) return host;
  const origins = { ...host.origins };
  for (const k of Object.keys(extra)) origins[k] = options.extraVarOrigins?.[k] ?? { file: '--extra-vars' };
  return { ...host, vars: { ...host.vars, ...extra }, origins };
}

class Run {
  private readonly sink: EventSink;
  private readonly recap = new RecapBuilder();
  private readonly pool: HostPool;
  private readonly queue: PQueue;
  private readonly hosts = new Map<string, RunHost>();
  /** Per host: its probe-ahead window, kept across plays (see ProbeWindow). */
  private readonly windows = new Map<string, ProbeWindow>();
  private readonly check: boolean;
  private readonly diff: boolean;
  private readonly forks: number;
  /** Set when a play's failure policy ends the whole run. */
  private stopRun: string | null = null;

  constructor(
    private readonly options: RunOptions,
    private readonly plans: PlayPlan[],
  ) {
    this.sink = redactingSink(options.sink);
    this.check = options.check ?? false;
    this.diff = options.diff ?? false;
    this.forks = Math.max(1, Math.floor(options.forks ?? 10));
    this.queue = new PQueue({ concurrency: this.forks });
    const connect = options.connect;
    const gather = options.gatherFacts;
    this.pool = new HostPool(
      options.inventory,
      // Transport notices (waiting for a host lock, a retry, a recorded host key) are warnings in the output.
      async () => connect ?? (await defaultConnect(options.connectionDefaults, (host, msg) => this.emit({ type: 'log', host, level: 'warn', msg }))),
      async () => gather ?? (await defaultGatherFacts()),
      (h) => withExtraVars(h, options),
    );
  }

  private get aborted(): boolean {
    return this.options.signal?.aborted ?? false;
  }

  private sinkFailed = false;

  /** The run's own outlet: events to the sink, counts to the run's recap. */
  private readonly live: Outlet = { emit: (ev) => this.emit(ev), recap: this.recap };

  /** A broken reporter must not stop a run halfway through a change: say so once, go on. */
  private emit(ev: EventInput, ts = Date.now()): void {
    try {
      this.sink.emit({ ts, ...ev } as DroverEvent);
    } catch (e) {
      if (this.sinkFailed) return;
      this.sinkFailed = true;
      process.stderr.write(`drover: event reporter failed, output may be incomplete: ${redact(errorMessage(e))}\n`);
    }
  }

  private runHost(name: string): RunHost {
    let h = this.hosts.get(name);
    if (!h) {
      h = { registered: {}, failed: false, unreachable: false };
      this.hosts.set(name, h);
    }
    return h;
  }

  async execute(): Promise<Recap> {
    const started = Date.now();
    const touched = new Set(this.plans.flatMap((p) => p.hosts));
    const all = [...this.options.inventory.hosts.keys()].filter((h) => touched.has(h));
    this.emit({
      type: 'run_start',
      playbook: this.options.playbook ?? 'playbook',
      check: this.check,
      diff: this.diff,
      hosts: all,
      forks: this.forks,
    });
    for (const h of all) this.recap.touch(h);
    try {
      if (all.length) await this.pool.preload();
      for (const plan of this.plans) {
        if (this.aborted || this.stopRun) break;
        await this.runPlay(plan);
      }
    } finally {
      const connected = await this.pool.connected();
      for (const [host, t] of connected) {
        if (!(t instanceof ProbeAheadTransport) || !t.stats.batches) continue;
        const { batches, read, hits } = t.stats;
        this.emit({ type: 'log', host, level: 'debug', msg: `probe-ahead: ${read} probes read in ${batches} round trips, ${hits} answered from them` });
      }
      await this.pool.closeAll();
      for (const [host, t] of connected) {
        const r = t.roundTrips?.();
        if (r) this.recap.roundTrips(host, r);
      }
    }
    const recap = this.recap.build(Date.now() - started, this.aborted);
    this.emit({
      type: 'recap',
      hosts: recap.hosts,
      durationMs: recap.durationMs,
      exitCode: recap.exitCode,
      ...(recap.aborted ? { aborted: true } : {}),
    });
    return recap;
  }

  private async runPlay(plan: PlayPlan): Promise<void> {
    const { play } = plan;
    const started = Date.now();
    // Like Ansible, hosts that failed or were unreachable in an earlier play sit out the rest.
    const hosts = plan.hosts.filter((h) => !this.runHost(h).failed && !this.runHost(h).unreachable);
    for (const w of plan.warnings) this.emit({ type: 'log', level: 'warn', msg: w });
    const serial = serialLabel(play.serial);
    this.emit({
      type: 'play_start',
      play: play.name,
      hosts,
      strategy: play.strategy ?? 'linear',
      ...(serial !== undefined ? { serial } : {}),
    });
    for (const h of hosts) this.emit({ type: 'host_state', host: h, state: 'waiting' });

    // check-first: the hosts with nothing to change are done at once; only the others roll.
    const rolling = play.checkFirst && checkFirstOn() && !this.check && serialBatches(hosts, play.serial).length > 1 ? await this.checkFirst(plan, hosts) : hosts;
    const batches = serialBatches(rolling, play.serial);
    for (let bi = 0; bi < batches.length; bi++) {
      const names = batches[bi]!;
      if (this.aborted || this.stopRun) {
        for (const h of names) {
          if (this.aborted) this.recap.addAborted(h, plan.steps.length);
          this.emit({ type: 'host_state', host: h, state: 'done', msg: this.aborted ? 'not run (aborted)' : `not run: ${this.stopRun}` });
        }
        continue;
      }
      const batch: Batch = { plan, once: new Map(), stop: null, hosts: names.map((name) => this.batchHost(name, plan, this.live, this.runHost(name), false)) };
      if (play.strategy === 'free') await this.free(batch);
      else await this.linear(batch);
      this.finishBatch(batch, bi < batches.length - 1);
    }
    this.emit({ type: 'play_end', play: play.name, durationMs: Date.now() - started });
  }

  /** The host's read-ahead window, restarted for a new play or batch (the width it learnt stays). */
  private windowOf(name: string): ProbeWindow {
    let w = this.windows.get(name);
    if (!w) this.windows.set(name, (w = new ProbeWindow()));
    w.restart();
    return w;
  }

  private batchHost(name: string, plan: PlayPlan, out: Outlet, run: RunHost, checking: boolean): BatchHost {
    return {
      name,
      plan: plan.vars.get(name)!,
      run,
      ready: false,
      stopped: false,
      failedHere: false,
      unreachableHere: false,
      next: 0,
      notified: new Set(),
      handlersRun: new Set(),
      handlerFailed: false,
      window: this.windowOf(name),
      out,
      checking,
    };
  }

  /**
   * Play.checkFirst: run every host's tasks at once in check mode (reads only), each host
   * stopping at its first task that would change something. A host that gets through with
   * nothing to change is done: those were its real results (a real run makes the same
   * reads), and its events and counts go out now. So is a host that failed or was
   * unreachable there: it failed before anything of ours would have changed on it, and the
   * play's failure policy applies before any host rolls. The hosts with something to change
   * are returned, in order, to roll in serial batches as usual; their preview is dropped.
   */
  private async checkFirst(plan: PlayPlan, hosts: readonly string[]): Promise<string[]> {
    const { play } = plan;
    // Only hosts already connected (with facts): connecting and gathering stay in their batch.
    const ready = hosts.filter((h) => this.pool.isOpen(h) && (play.gatherFacts === false || this.pool.hasFacts(h)));
    if (!ready.length) return [...hosts];
    const outlets = new Map<string, HeldOutlet>();
    const batch: Batch = {
      plan,
      once: new Map(),
      stop: null,
      checkFirst: true,
      hosts: ready.map((name) => {
        const recap = new RecapBuilder();
        const held: HeldOutlet['held'] = [];
        const out: HeldOutlet = { held, recap, emit: (ev) => held.push({ ts: Date.now(), ev }) };
        outlets.set(name, out);
        const real = this.runHost(name);
        // Its own registry: a dropped preview must not leave check-mode results behind.
        return this.batchHost(name, plan, out, { registered: { ...real.registered }, failed: false, unreachable: false }, true);
      }),
    };
    this.emit({ type: 'log', level: 'info', msg: `play "${play.name}": checking ${ready.length} host(s) at once first; only those with something to change roll (serial ${serialLabel(play.serial)})` });
    for (const bh of batch.hosts) this.emit({ type: 'host_state', host: bh.name, state: 'running', msg: 'check first' });
    // Each host at its own pace, whatever the play's strategy: the pass changes nothing, and
    // a host sees only its own registered results, so lockstep would order nothing; it would
    // only make every task wait for the slowest host's round trips (the sum of each task's
    // slowest instead of the slowest host's sum). Its events are held and go out per host.
    await this.free(batch);

    const roll = new Set(hosts.filter((h) => !outlets.has(h)));
    const finished: BatchHost[] = [];
    for (const bh of batch.hosts) {
      const final = bh.failedHere || bh.unreachableHere;
      const complete = !bh.stopped && bh.next >= plan.steps.length;
      if (!final && (bh.wouldChange !== undefined || !complete || this.aborted)) {
        roll.add(bh.name);
        // What it read ahead may be stale once an earlier batch changed something.
        const t = await this.pool.transport(bh.name).catch(() => undefined);
        if (t instanceof ProbeAheadTransport) t.drop();
        this.emit({ type: 'host_state', host: bh.name, state: 'waiting', msg: bh.wouldChange ? `would change (${bh.wouldChange}): rolls in its batch` : 'rolls in its batch' });
        continue;
      }
      const out = outlets.get(bh.name)!;
      for (const { ts, ev } of out.held) this.emit(ev, ts);
      this.recap.merge(bh.name, out.recap);
      const real = this.runHost(bh.name);
      Object.assign(real.registered, bh.run.registered);
      real.failed ||= bh.run.failed;
      real.unreachable ||= bh.run.unreachable;
      if (!final) this.emit({ type: 'host_state', host: bh.name, state: 'done', msg: 'nothing to change (checked first)' });
      finished.push(bh);
    }
    // The failure policy, over the play's hosts, before any host rolls.
    const failed = finished.filter((bh) => bh.failedHere || bh.unreachableHere);
    if (failed.length && !this.stopRun) {
      const why = policyStop(play, failed[0]!.name, failed.length, hosts.length) ?? (failed.length === hosts.length ? `every host of the batch failed in play "${play.name}"` : null);
      if (why) this.stopPlay(play, why);
    }
    return hosts.filter((h) => roll.has(h));
  }

  /** Lockstep: every host of the batch finishes task N before any starts task N+1. */
  private async linear(batch: Batch): Promise<void> {
    await Promise.all(batch.hosts.map((bh) => this.queue.add(() => this.prepare(bh, batch))));
    for (const step of batch.plan.steps) {
      if (this.aborted || batch.stop) break;
      const active = batch.hosts.filter((bh) => bh.ready && !bh.stopped);
      if (active.length === 0) break;
      await Promise.all(active.map((bh) => this.queue.add(() => this.runStep(bh, step, batch))));
    }
    for (const h of batch.plan.handlers) {
      if (this.aborted) break;
      const due = batch.hosts.filter((bh) => this.handlerDue(bh, h));
      await Promise.all(due.map((bh) => this.queue.add(() => this.runHandler(bh, h, batch))));
    }
  }

  /** Each host runs its whole list (then its handlers) on its own; forks bounds hosts at once. */
  private async free(batch: Batch): Promise<void> {
    await Promise.all(
      batch.hosts.map((bh) =>
        this.queue.add(async () => {
          if (!(await this.prepare(bh, batch))) return;
          for (const step of batch.plan.steps) {
            if (this.aborted || batch.stop || bh.stopped) break;
            await this.runStep(bh, step, batch);
          }
          for (const h of batch.plan.handlers) {
            if (this.aborted) break;
            if (this.handlerDue(bh, h)) await this.runHandler(bh, h, batch);
          }
        }),
      ),
    );
  }

  private handlerDue(bh: BatchHost, h: HandlerStep): boolean {
    // Notified handlers run even after a later task failed on the host (force_handlers).
    return !bh.checking && bh.ready && bh.notified.has(h.index) && !bh.handlersRun.has(h.index) && !bh.unreachableHere && !bh.handlerFailed;
  }

  private finishBatch(batch: Batch, moreBatches: boolean): void {
    const { plan } = batch;
    for (const bh of batch.hosts) {
      if (this.aborted && !bh.unreachableHere) {
        const tasksLeft = bh.stopped ? 0 : plan.steps.length - bh.next;
        const handlersLeft = bh.handlerFailed ? 0 : [...bh.notified].filter((i) => !bh.handlersRun.has(i)).length;
        bh.out.recap.addAborted(bh.name, tasksLeft + handlersLeft);
      }
      if (bh.failedHere || bh.unreachableHere) continue;
      const msg = this.aborted ? 'aborted' : batch.stop ? `stopped: ${batch.stop}` : undefined;
      bh.out.emit({ type: 'host_state', host: bh.name, state: 'done', ...(msg ? { msg } : {}) });
    }
    const failed = batch.hosts.filter((bh) => bh.failedHere || bh.unreachableHere).length;
    if (!this.stopRun && failed === batch.hosts.length && batch.hosts.length > 0 && !this.aborted) {
      // Ansible ends the playbook when every host of a batch failed: nothing is left to run on.
      this.stopRun = `every host of the batch failed in play "${plan.play.name}"`;
      if (moreBatches || this.plans.indexOf(plan) < this.plans.length - 1) this.emit({ type: 'log', level: 'error', msg: `NO MORE HOSTS LEFT: ${this.stopRun}` });
    }
  }

  /** Connect (once per run) and gather facts (once per run) before the host's first task. */
  private async prepare(bh: BatchHost, batch: Batch): Promise<boolean> {
    if (this.aborted) return false;
    const { play } = batch.plan;
    const t0 = Date.now();
    if (!this.pool.isOpen(bh.name)) bh.out.emit({ type: 'host_state', host: bh.name, state: 'connecting' });
    let t: Transport;
    try {
      t = await this.pool.transport(bh.name);
    } catch (e) {
      bh.out.recap.count(bh.name, 'unreachable');
      this.markUnreachable(bh, errorMessage(e), batch);
      return false;
    }
    if (play.gatherFacts !== false && !this.pool.hasFacts(bh.name)) {
      const base = { host: bh.name, play: play.name, task: 'Gathering Facts' };
      bh.out.emit({ type: 'task_start', ...base });
      const f0 = Date.now();
      let status: TaskStatus = 'ok';
      let msg: string | undefined;
      try {
        await this.pool.gatherFacts(bh.name, t);
      } catch (e) {
        status = e instanceof UnreachableError ? 'unreachable' : 'failed';
        msg = errorMessage(e);
      }
      const durationMs = Date.now() - f0;
      bh.out.emit({ type: 'task_end', ...base, status, durationMs, ...(msg ? { msg } : {}) });
      bh.out.recap.count(bh.name, status);
      bh.out.recap.task({ host: bh.name, task: base.task, durationMs });
      if (status !== 'ok') {
        bh.out.recap.addTime(bh.name, Date.now() - t0);
        if (status === 'unreachable') this.markUnreachable(bh, msg ?? 'unreachable', batch);
        else this.markFailed(bh, msg ?? 'fact gathering failed', batch);
        return false;
      }
    }
    bh.out.recap.addTime(bh.name, Date.now() - t0);
    bh.ready = true;
    bh.out.emit({ type: 'host_state', host: bh.name, state: 'running' });
    return true;
  }

  private async runStep(bh: BatchHost, step: Step, batch: Batch): Promise<void> {
    if (this.aborted || bh.stopped) return;
    bh.next = step.index + 1;
    if (!step.task.runOnce) {
      this.apply(bh, step, await this.execTask(bh, step, batch), batch);
      return;
    }
    // run_once: the first host to reach the task runs it (in linear order, the batch's
    // first active host); every other host of the batch gets the same result.
    let shared = batch.once.get(step.index);
    if (!shared) {
      shared = this.execTask(bh, step, batch);
      batch.once.set(step.index, shared);
      this.apply(bh, step, await shared, batch);
      return;
    }
    const out = await shared;
    const base = { host: bh.name, play: batch.plan.play.name, role: step.role.name, task: step.task.name };
    bh.out.emit({ type: 'task_start', ...base });
    bh.out.emit({ type: 'task_end', ...base, ...this.endFields(out, step), msg: `run_once on ${out.ranOn}${out.result.msg ? `: ${out.result.msg}` : ''}` });
    this.apply(bh, step, out, batch);
  }

  private endFields(out: Outcome, step: Step | null) {
    const r = out.result;
    const ignored = step?.task.ignoreErrors && out.status === 'failed';
    const msg = ignored ? `ignored: ${r.msg ?? 'failed'}` : r.msg;
    return {
      status: out.status,
      durationMs: out.durationMs,
      ...(msg ? { msg } : {}),
      ...(r.stderr ? { stderr: clip(r.stderr) } : {}),
      ...(r.stdout ? { stdout: clip(r.stdout) } : {}),
      ...(r.rc !== undefined ? { rc: r.rc } : {}),
      ...(r.diff?.length ? { diff: r.diff } : {}),
      ...(out.attempts !== undefined ? { attempts: out.attempts } : {}),
      ...(out.delegatedTo ? { delegatedTo: out.delegatedTo } : {}),
    };
  }

  /** Another host's variables as its own tasks in this play see them (ctx.varsOf). */
  private mergedVarsOf(play: Play, host: string): Readonly<Record<string, unknown>> | undefined {
    const planned = this.plans.find((p) => p.play === play)?.vars.get(host);
    if (planned) return planned.hostVars;
    const h = this.options.inventory.hosts.get(host);
    return h ? mergeHostVars(h, play, this.options.extraVars, this.options.extraVarOrigins).vars : undefined;
  }

  private ctxFor(bh: BatchHost, ri: number, transport: Transport, factsHost: string, play: Play, quiet = false, checkModeSafe = false): HostCtx<unknown> {
    const facts = this.pool.factsOrUnknown(factsHost);
    // become resolved once (play > host vars > off; off as root) and handed to the transport
    // explicitly; in --check only reads reach the host (lib/run/task-transport.ts).
    const become = wantsBecome(play.become, bh.plan.hostVars, facts);
    return makeHostCtx({
      host: bh.name,
      transport: new TaskTransport(unwrapTransport(transport), { become, readOnly: (this.check || bh.checking) && !checkModeSafe }),
      facts,
      check: this.check || bh.checking,
      diff: this.diff,
      become,
      vars: bh.plan.roleVars[ri],
      hostVars: bh.plan.hostVars,
      inventory: this.options.inventory,
      groups: this.options.inventory.hosts.get(bh.name)?.groups ?? [],
      registered: bh.run.registered,
      factsOf: (h) => this.pool.factsOf(h),
      varsOf: (h) => this.mergedVarsOf(play, h),
      log: quiet ? () => {} : (msg) => bh.out.emit({ type: 'log', host: bh.name, level: 'debug', msg }),
    });
  }

  /**
   * Before a task: when the host's read-ahead window has run out, learn the first probe of
   * each of its next tasks and read them all in one exec (see probe-ahead.ts).
   */
  private async readAhead(bh: BatchHost, step: Step, batch: Batch, t: Transport): Promise<void> {
    if (!(t instanceof ProbeAheadTransport)) return;
    const { steps, play } = batch.plan;
    const indexes = bh.window.next(step.index, t.epoch, steps.length - 1);
    if (!indexes.length) return;
    t.drop();
    const capture = new CaptureTransport(bh.name);
    const probes: CapturedProbe[] = [];
    for (const i of indexes) {
      const s = steps[i]!;
      // Those run with another host's context or result: they are not this host's to guess.
      if (s.task.runOnce || s.task.delegateTo || !(s.task.readAhead ?? s.role.readAhead)) continue;
      const ctx = this.ctxFor(bh, s.ri, capture, bh.name, play, true);
      const found = await captureProbes(() => {
        const w = s.task.when ? s.task.when(ctx) : true;
        return w === true ? s.task.run(ctx) : undefined;
      });
      probes.push(...found);
    }
    await t.readAhead(probes);
    bh.window.settle(t.epoch);
  }

  /** Context on the delegate: its transport and facts, this host's vars and registry. */
  private async delegateCtx(bh: BatchHost, ri: number, target: string, play: Play, checkModeSafe = false): Promise<HostCtx<unknown>> {
    if (!lookupHost(this.options.inventory, target)) throw new Error(`delegateTo: host "${target}" is not in the inventory`);
    const t = await this.pool.transport(target);
    if (play.gatherFacts !== false && !this.pool.hasFacts(target)) {
      try {
        await this.pool.gatherFacts(target, t);
      } catch (e) {
        if (e instanceof UnreachableError) throw e;
        bh.out.emit({ type: 'log', host: bh.name, level: 'warn', msg: `facts of delegate ${target} unavailable: ${errorMessage(e)}` });
      }
    }
    return this.ctxFor(bh, ri, t, target, play, false, checkModeSafe);
  }

  private async execTask(bh: BatchHost, step: Step, batch: Batch): Promise<Outcome> {
    const { task } = step;
    const { play } = batch.plan;
    const base = { host: bh.name, play: play.name, role: step.role.name, task: task.name };
    bh.out.emit({ type: 'task_start', ...base });
    const t0 = Date.now();
    let status: TaskStatus;
    let result: OpResult;
    let attempts: number | undefined;
    let delegatedTo: string | undefined;
    try {
      const transport = await this.pool.transport(bh.name);
      if (!task.runOnce && !task.delegateTo) await this.readAhead(bh, step, batch, transport);
      const ctx = this.ctxFor(bh, step.ri, transport, bh.name, play, false, task.checkModeSafe === true);
      const w = task.when ? task.when(ctx) : true;
      if (w !== true) {
        result = { status: 'skipped', msg: typeof w === 'string' && w ? w : 'conditional false' };
      } else {
        let runCtx = ctx;
        const target = typeof task.delegateTo === 'function' ? task.delegateTo(ctx) : task.delegateTo;
        if (target && target !== bh.name) {
          delegatedTo = target;
          runCtx = await this.delegateCtx(bh, step.ri, target, play, task.checkModeSafe === true);
        }
        ({ result, attempts } = await runWithRetries(checkModeReported(task, runCtx), runCtx, {
          signal: this.options.signal,
          onRetry: (n, max, last) => {
            // A retry waits for the host to change by itself: it must look again, not be
            // answered from what was read ahead (nothing of ours changed the host meanwhile).
            for (const t of new Set([transport, unwrapTransport(runCtx.transport)])) if (t instanceof ProbeAheadTransport) t.drop();
            bh.out.emit({ type: 'log', host: bh.name, level: 'info', msg: `${task.name}: retrying (attempt ${n} of ${max} failed${last.msg ? `: ${last.msg}` : ''})` });
          },
        }));
      }
      status = result.status;
    } catch (e) {
      status = e instanceof UnreachableError ? 'unreachable' : 'failed';
      result = { status: 'failed', msg: errorMessage(e) };
    }
    const out: Outcome = { status, result, durationMs: Date.now() - t0, attempts, delegatedTo, ranOn: bh.name };
    bh.out.emit({ type: 'task_end', ...base, ...this.endFields(out, step) });
    bh.out.recap.addTime(bh.name, out.durationMs);
    bh.out.recap.task({ host: bh.name, role: step.role.name, task: task.name, durationMs: out.durationMs });
    return out;
  }

  /** Count, register, notify, and apply the failure policy for one host's result. */
  private apply(bh: BatchHost, step: Step, out: Outcome, batch: Batch): void {
    const { task } = step;
    const ignored = out.status === 'failed' && task.ignoreErrors === true;
    // Ansible counts an ignored failure as ok (and the host goes on).
    bh.out.recap.count(bh.name, ignored ? 'ok' : out.status);
    if (task.register) bh.run.registered[task.register] = out.result;
    if (out.status === 'changed') {
      for (const hi of step.notify) {
        bh.notified.add(hi);
        bh.out.emit({ type: 'handler_notify', host: bh.name, handler: batch.plan.handlers[hi]!.handler.name, by: task.name });
      }
    }
    if (out.status === 'unreachable') this.markUnreachable(bh, out.result.msg ?? 'unreachable', batch);
    else if (out.status === 'failed' && !ignored) this.markFailed(bh, out.result.msg ?? `task "${task.name}" failed`, batch);
    else if (bh.checking && pendingInCheck(out.result)) {
      // Check-first: this host has something to change; the rest of its preview is moot.
      bh.wouldChange = task.name;
      bh.stopped = true;
    }
  }

  private async runHandler(bh: BatchHost, h: HandlerStep, batch: Batch): Promise<void> {
    if (this.aborted || !this.handlerDue(bh, h)) return;
    bh.handlersRun.add(h.index);
    const { play } = batch.plan;
    const base = { host: bh.name, play: play.name, role: h.role.name, task: h.handler.name, handler: true };
    bh.out.emit({ type: 'task_start', ...base });
    const t0 = Date.now();
    let status: TaskStatus;
    let result: OpResult;
    try {
      const ctx = this.ctxFor(bh, h.ri, await this.pool.transport(bh.name), bh.name, play);
      const w = h.handler.when ? h.handler.when(ctx) : true;
      result = w === true ? await checkModeReported(h.handler, ctx).run(ctx) : { status: 'skipped', msg: typeof w === 'string' && w ? w : 'conditional false' };
      status = result.status;
    } catch (e) {
      status = e instanceof UnreachableError ? 'unreachable' : 'failed';
      result = { status: 'failed', msg: errorMessage(e) };
    }
    const out: Outcome = { status, result, durationMs: Date.now() - t0, ranOn: bh.name };
    bh.out.emit({ type: 'task_end', ...base, ...this.endFields(out, null) });
    bh.out.recap.count(bh.name, status);
    bh.out.recap.addTime(bh.name, out.durationMs);
    bh.out.recap.task({ host: bh.name, role: h.role.name, task: h.handler.name, durationMs: out.durationMs, handler: true });
    if (status === 'unreachable') this.markUnreachable(bh, result.msg ?? 'unreachable', batch);
    else if (status === 'failed') {
      // A failed handler ends this host's handlers; the host is failed.
      bh.handlerFailed = true;
      if (!bh.failedHere) this.markFailed(bh, result.msg ?? `handler "${h.handler.name}" failed`, batch);
    }
  }

  private markFailed(bh: BatchHost, msg: string, batch: Batch): void {
    bh.stopped = true;
    bh.failedHere = true;
    bh.run.failed = true;
    bh.out.recap.markFailed(bh.name);
    bh.out.emit({ type: 'host_state', host: bh.name, state: 'failed', msg });
    this.applyPolicy(batch, bh.name);
  }

  private markUnreachable(bh: BatchHost, msg: string, batch: Batch): void {
    bh.stopped = true;
    bh.unreachableHere = true;
    bh.run.unreachable = true;
    bh.out.recap.markUnreachable(bh.name);
    bh.out.emit({ type: 'host_state', host: bh.name, state: 'unreachable', msg });
    this.applyPolicy(batch, bh.name);
  }

  /** any_errors_fatal and max_fail_percentage: stop the batch, and the run after it. */
  private applyPolicy(batch: Batch, host: string): void {
    // A check-first pass judges its failures once it is over (checkFirst()).
    if (batch.stop || batch.checkFirst) return;
    const { play } = batch.plan;
    const failed = batch.hosts.filter((bh) => bh.failedHere || bh.unreachableHere).length;
    batch.stop = policyStop(play, host, failed, batch.hosts.length);
    if (batch.stop) this.stopPlay(play, batch.stop);
  }

  /** The play's failure policy ended it: the run stops after it. */
  private stopPlay(play: Play, why: string): void {
    this.stopRun ??= why;
    this.emit({ type: 'log', level: 'error', msg: `play "${play.name}" stopped: ${why}` });
  }
}

/**
 * any_errors_fatal and max_fail_percentage: why the play stops, now that `failedHost` failed
 * and `failed` of its `total` hosts have; null when it goes on.
 */
function policyStop(play: Play, failedHost: string, failed: number, total: number): string | null {
  if (play.anyErrorsFatal) return `any_errors_fatal (${failedHost} failed)`;
  if (play.maxFailPercentage !== undefined && (failed / total) * 100 > play.maxFailPercentage) {
    return `max_fail_percentage ${play.maxFailPercentage}% exceeded (${failed}/${total} hosts failed)`;
  }
  return null;
}

/**
 * The task (or handler) with its check-mode refusals reported: when its transport refused an
 * exec or put (--check, lib/run/task-transport.ts), the result is skipped and says what
 * would have run, whatever the task made of the refusal (an op turns it into failed; a
 * skipped result is not retried either).
 */
function checkModeReported<T extends Pick<Task<unknown>, 'run'>>(task: T, ctx: HostCtx<unknown>): T & { run: (c: HostCtx<unknown>) => Promise<OpResult> } {
  const run = async (c: HostCtx<unknown>): Promise<OpResult> => {
    let result: OpResult | undefined;
    try {
      result = normaliseResult(await task.run(c));
    } catch (e) {
      // A refusal the task let through, or an error that followed one: the refusal is the story.
      if (!(e instanceof CheckModeRefusal) && !refusalsOf(ctx.transport).length) throw e;
    }
    const refused = refusalsOf(ctx.transport);
    if (!refused.length && result) return result;
    return { status: 'skipped', msg: `check mode: not run (would ${refused.join('; would ')})`, data: { checkModeRefused: [...refused] } };
  };
  return { ...task, run };
}
