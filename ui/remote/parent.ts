// The terminal UI as the runner uses it: Ink draws in a child process, and the playbook process
// only sends it the (redacted) events.
//
// Why a process and not a component on the engine's thread: measured on a 100-host run, the
// in-process UI cost the run 40-50% (bench/tui.ts). A third of that is drawing; the rest is
// that React, Ink and yoga's wasm add ~65 MiB to the process, and every command a local or
// delegated task runs is a fork() whose cost grows with the parent's memory (~1 ms per 50 MiB
// here). In its own process the UI draws on another core, the engine keeps its small heap, and
// the engine's part is a JSON message per batch of events, as cheap as the JSON reporter.
import { fork, type ChildProcess } from 'node:child_process';
import { getPriority, setPriority } from 'node:os';
import { format } from 'node:util';
import type { DroverEvent, EventSink } from '../../lib/report/events.ts';
import { PlainReporter } from '../../lib/report/plain.ts';
import { redact, redactDeep } from '../../lib/secrets/redact.ts';
import type { Tui } from '../index.ts';
import { CONSOLE_LEVELS, type ConsoleLevel, parseFromUi, type ToUi, type UiProcessOptions } from './protocol.ts';

export interface UiProcessStartOptions extends UiProcessOptions {
  /** Called once, when the user presses q or Ctrl-C in the UI. */
  onAbort: () => void;
  /** Node flags for the UI process (default: this process's, so tsx's loader comes along). */
  execArgv?: string[];
  /**
   * Start the UI from its prebuilt bundle under plain node when running from TypeScript
   * (child-bundle.ts; default true). Ignored when execArgv is given.
   */
  bundle?: boolean;
  /** stdin, stdout, stderr of the UI process (default: this process's, the terminal). */
  stdio?: Array<'inherit' | 'pipe' | 'ignore'>;
  /** Send console.* output of this process to the UI instead of tearing its screen (default true). */
  patchConsole?: boolean;
  /** Where output goes if the UI process dies mid-run (default process.stdout). */
  fallbackOut?: NodeJS.WritableStream;
  /** Longest wait for the UI process to draw its final frame and exit (default 10 s). */
  closeTimeoutMs?: number;
  /** Environment of the UI process (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

// No stats(): drawing is counted in the UI process, which writes them out (DROVER_UI_STATS).
export type UiProcess = Omit<Tui, 'stats'> & { child: ChildProcess };

const CHILD = new URL('./child.ts', import.meta.url).pathname;

/** Which file the UI process runs, and with which node flags. */
async function childCommand(opts: UiProcessStartOptions): Promise<{ file: string; execArgv: string[] }> {
  if (opts.execArgv) return { file: CHILD, execArgv: opts.execArgv };
  // Profiling flags follow the playbook into its UI process; debugger flags would clash.
  const inherited = process.execArgv.filter((a) => !a.startsWith('--inspect'));
  // From the TypeScript sources only (a checkout): the package ships the child prebuilt
  // (scripts/build.ts), so nothing is compiled at run time there.
  if (CHILD.endsWith('.ts') && opts.bundle !== false) {
    const { childBundle } = await import('./child-bundle.ts');
    const bundled = await childBundle();
    if (bundled) return { file: bundled, execArgv: inherited.filter((a) => a.startsWith('--cpu-prof')) };
  }
  return { file: CHILD, execArgv: inherited };
}

export async function startUiProcess(opts: UiProcessStartOptions): Promise<UiProcess> {
  const { onAbort, stdio, patchConsole = true, fallbackOut, closeTimeoutMs = 10_000, env = process.env, execArgv: _e, bundle: _b, ...uiOpts } = opts;
  const command = await childCommand(opts);
  const child = fork(command.file, [JSON.stringify(uiOpts)], {
    execArgv: command.execArgv,
    stdio: [...(stdio ?? ['inherit', 'inherit', 'inherit']), 'ipc'],
    // The UI picks React's production build unless told otherwise (ui/index.ts).
    env,
  });

  lowerPriority(child.pid);

  let pending: DroverEvent[] = [];
  let scheduled = false;
  let closing = false;
  /** Set when the UI process is gone before close(): the plain reporter takes over. */
  let fallback: EventSink | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const send = (m: ToUi): void => {
    if (child.connected) child.send(m);
  };
  // One message per turn of the event loop, not per event: a burst of 100 task_ends is one write.
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    send({ t: 'events', events: pending });
    pending = [];
  };

  const restoreConsole = patchConsole ? forwardConsole((level, text) => send({ t: 'console', level, text })) : () => {};

  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => {});
  child.on('message', (raw) => {
    const m = parseFromUi(raw);
    if (!m.ok) return;
    if (m.value.t === 'ready') resolveReady();
    // Every one: the first stops gracefully, a second (Ctrl-C while stopping) stops now.
    else onAbort();
  });
  // A fork that cannot start (no node, no file) reports here instead of as an exit.
  child.on('error', () => {});
  void exited.then((code) => {
    rejectReady(new Error(`the UI process exited (code ${code}) before it was ready`));
    if (closing) return;
    restoreConsole();
    const out = fallbackOut ?? process.stdout;
    out.write(`\nwarning: the terminal UI stopped (exit code ${code}); plain output from here on\n`);
    fallback = new PlainReporter({ out, verbosity: uiOpts.verbose ? 1 : 0, diff: uiOpts.diff });
    // Events not yet sent are not lost with it.
    for (const e of pending.splice(0)) fallback.emit(e);
  });

  let closed: Promise<void> | undefined;
  return {
    child,
    emit(event) {
      if (closing) return;
      if (fallback) return fallback.emit(event);
      // Redacted here: the secrets registry lives in this process, not in the UI's.
      pending.push(redactDeep(event));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    close() {
      closed ??= (async () => {
        if (fallback) {
          closing = true;
          await fallback.close?.();
          return;
        }
        flush();
        closing = true;
        send({ t: 'close' });
        const timer = setTimeout(() => child.kill('SIGTERM'), closeTimeoutMs);
        await exited;
        clearTimeout(timer);
        restoreConsole();
      })();
      return closed;
    },
    done: exited.then(() => undefined),
    ready,
  };
}

/** How much nicer than the playbook the UI process runs (see lowerPriority). */
export const UI_NICENESS = 19;

/**
 * Drawing is worth less than the run it shows: the UI process runs at the lowest CPU priority
 * (nice 19), so on a machine the run keeps busy it draws with the CPU the run leaves (a few
 * per cent of a contended core: frames come less often, the run is not slowed), and at full
 * speed on an idle one. Keys still get through: a keypress wakes it like any sleeping process.
 * Measured, 100 hosts over SSH to the lab, wall UI/plain: nice 10 1.051, nice 19 1.028.
 */
function lowerPriority(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, Math.min(19, getPriority(process.pid) + UI_NICENESS));
  } catch {
    // Not permitted here (a sandbox): the UI runs at the playbook's priority.
  }
}

/** Route console.* to `to` until the returned function is called. */
function forwardConsole(to: (level: ConsoleLevel, text: string) => void): () => void {
  const saved = CONSOLE_LEVELS.map((level) => [level, console[level]] as const);
  for (const level of CONSOLE_LEVELS) {
    console[level] = (...args: unknown[]) => to(level, redact(format(...args)));
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const [level, fn] of saved) console[level] = fn;
  };
}
