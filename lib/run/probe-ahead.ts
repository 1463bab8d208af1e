// Probe-ahead: read the state of a host's next tasks in one round trip.
//
// A no-change run is mostly probes (stat this file, is that package installed, is the
// service enabled), one exec per task, and a host waits one round trip for each. The floor
// (one shell script per host that runs every check) waits one. So before a host's task the
// runner learns the first probe of each of its next few tasks (running the task's code with
// a transport that stops at the first call: see captureProbe), runs them all as one exec,
// and keeps the results. When a task then runs for real and asks for the very same probe
// (same command, same sudo), it gets the result read ahead, as long as nothing has been
// changed on the host since: any exec that is not a probe, and any put, drops every result
// read ahead. A result is never guessed: a probe that differs or comes after a change just
// runs.
//
// The window adapts: it doubles after tasks that changed nothing (a converged host soon reads
// a whole role at once) and falls back to one (no read-ahead) after a change (a first
// converge, where later probes would go stale, reads no more than it did before).
// drover_probe_ahead: false (inventory) or DROVER_PROBE_AHEAD=0 turn it off.
import { ProbeCaptured, type CapturedProbe } from '../errors.ts';
import { MAX_BATCH_BYTES, batchNonce, probeBatchScript, splitProbeBatch } from '../transport/probe-batch.ts';
import type { BecomeOptions, ExecOptions, ExecResult, PutOptions, RoundTrips, Transport } from '../transport/types.ts';

export const FIRST_WINDOW = 8;
export const MAX_WINDOW = 64;

/** Only a probe with nothing but sudo can join a batch (stdin, env, cwd, timeouts run alone). */
function batchable(o: ExecOptions | undefined): boolean {
  if (!o?.probe) return false;
  return !o.fresh && o.stdin === undefined && o.env === undefined && o.cwd === undefined && o.timeoutMs === undefined;
}

function sudoKey(sudo: CapturedProbe['sudo']): string {
  return JSON.stringify(sudo ?? null);
}

function keyOf(command: string, sudo: CapturedProbe['sudo']): string {
  return `${sudoKey(sudo)}\n${command}`;
}

export type { CapturedProbe };

/** A transport that records the first call and stops the task there. */
export class CaptureTransport implements Transport {
  constructor(readonly name: string) {}
  async connect(): Promise<void> {}
  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    throw new ProbeCaptured(batchable(options) ? [{ command, sudo: options?.sudo }] : []);
  }
  async put(): Promise<void> {
    throw new ProbeCaptured([]);
  }
  async get(): Promise<Buffer> {
    throw new ProbeCaptured([]);
  }
  async close(): Promise<void> {}
}

/**
 * The first probe a task would run (the first of each part, for ops.seq): call it with a
 * context on a CaptureTransport. Task code before its first op runs twice (here, then for
 * real), so it must not change anything itself: a role promises that with readAhead.
 */
export async function captureProbes(run: () => unknown): Promise<CapturedProbe[]> {
  try {
    await run();
  } catch (e) {
    if (e instanceof ProbeCaptured) return [...e.probes];
  }
  return [];
}

export interface ProbeAheadStats {
  /** Exec round trips that carried read-ahead probes. */
  batches: number;
  /** Probes read ahead. */
  read: number;
  /** Probes answered from what was read ahead. */
  hits: number;
}

/**
 * Wraps a host's transport: answers probes read ahead, and drops them on any change. Every
 * user of the host (its own tasks, handlers, tasks delegated to it) goes through this one
 * wrapper, so no change can slip past it.
 */
export class ProbeAheadTransport implements Transport {
  private readonly ahead = new Map<string, ExecResult>();
  /** Bumped by every call that may change the host. */
  private changes = 0;
  /** Changes in flight (a read-ahead that overlaps one is thrown away). */
  private changing = 0;
  readonly stats: ProbeAheadStats = { batches: 0, read: 0, hits: 0 };

  constructor(readonly inner: Transport) {}

  get name(): string {
    return this.inner.name;
  }

  /** Counter of changes so far: equal before and after a task means the task changed nothing. */
  get epoch(): number {
    return this.changes;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    if (options?.probe) {
      if (batchable(options)) {
        const key = keyOf(command, options.sudo);
        const have = this.ahead.get(key);
        // Kept after use: it stays true until a change (two tasks may ask the same thing).
        if (have) {
          this.stats.hits++;
          return { ...have };
        }
      }
      return this.inner.exec(command, options);
    }
    return this.changing_(() => this.inner.exec(command, options));
  }

  put(path: string, content: string | Buffer, options?: PutOptions): Promise<void> {
    return this.changing_(() => this.inner.put(path, content, options));
  }

  get(path: string, options?: { sudo?: boolean | BecomeOptions }): Promise<Buffer> {
    return this.inner.get(path, options);
  }

  close(): Promise<void> {
    this.ahead.clear();
    return this.inner.close();
  }

  roundTrips(): RoundTrips | undefined {
    return this.inner.roundTrips?.();
  }

  private async changing_<T>(f: () => Promise<T>): Promise<T> {
    this.ahead.clear();
    this.changes++;
    this.changing++;
    try {
      return await f();
    } finally {
      this.changing--;
      this.changes++;
    }
  }

  /** Forget what was read ahead (a new window starts). */
  drop(): void {
    this.ahead.clear();
  }

  /**
   * Run these probes as few execs as possible (grouped by sudo, split by size) and keep
   * the results, unless something changed the host meanwhile.
   */
  async readAhead(probes: readonly CapturedProbe[]): Promise<void> {
    const groups: CapturedProbe[][] = [];
    let size = 0;
    for (const p of probes) {
      const last = groups[groups.length - 1];
      const sameSudo = last && sudoKey(last[0]!.sudo) === sudoKey(p.sudo);
      if (last && sameSudo && size + p.command.length < MAX_BATCH_BYTES) {
        last.push(p);
        size += p.command.length + 120;
      } else {
        groups.push([p]);
        size = p.command.length + 120;
      }
    }
    await Promise.all(
      groups.map(async (g) => {
        if (g.length < 2) return; // one probe gains nothing from a batch: it runs in its task
        const epoch = this.changes;
        if (this.changing) return;
        const nonce = batchNonce();
        const r = await this.inner.exec(probeBatchScript(g.map((p) => p.command), nonce), { sudo: g[0]!.sudo });
        this.stats.batches++;
        if (this.changes !== epoch || this.changing) return;
        const parts = splitProbeBatch(r.stdout, r.stderr, nonce, g.length);
        const each = Math.round(r.durationMs / g.length);
        parts.forEach((part, i) => {
          const p = g[i]!;
          this.ahead.set(keyOf(p.command, p.sudo), { ...part, durationMs: each });
        });
        this.stats.read += parts.length;
      }),
    );
  }
}

/**
 * Per host, for the whole run: how far the current window reaches and how wide the next one
 * is. A new play (or batch) restarts it at its first task; a host that changed nothing since
 * its last window keeps the width it reached, so a converged host reads a whole play's
 * probes at once instead of starting again at FIRST_WINDOW in every play.
 */
export class ProbeWindow {
  private to = -1;
  private epoch = -1;
  private width = FIRST_WINDOW;

  /**
   * Called before the task at `index`: the step indexes to read ahead now, or [] when the
   * current window still covers it (or the window is one task wide).
   */
  next(index: number, epoch: number, last: number): number[] {
    const changed = epoch !== this.epoch;
    if (this.to < 0) {
      // A first window, or a new play's: only the width carries over, and only when nothing
      // changed since (a window never used has epoch -1, so it starts at FIRST_WINDOW).
      this.width = changed ? FIRST_WINDOW : Math.max(this.width, FIRST_WINDOW);
    } else {
      if (index <= this.to && !changed) return [];
      this.width = changed ? 1 : Math.min(this.width * 2, MAX_WINDOW);
    }
    this.to = Math.min(last, index + this.width - 1);
    this.epoch = epoch;
    if (this.to <= index) return [];
    const out: number[] = [];
    for (let i = index; i <= this.to; i++) out.push(i);
    return out;
  }

  /** A new play or batch: its task indexes start again at 0. */
  restart(): void {
    this.to = -1;
  }

  /** The read-ahead itself ran execs: start counting changes after it. */
  settle(epoch: number): void {
    this.epoch = epoch;
  }
}
