// One task's run() with retries/until. A thrown error is a failed result (redacted later by
// the sink), except UnreachableError which marks the host unreachable as Ansible does.
import { UnreachableError } from '../errors.ts';
import { describeFailure } from '../ops/shell.ts';
import type { OpResult } from '../ops/types.ts';
import type { HostCtx, Task } from './types.ts';

const STATUSES = new Set(['ok', 'changed', 'skipped', 'failed']);

export function errorMessage(e: unknown): string {
  return describeFailure(e) ?? (e instanceof Error ? e.message || e.name : String(e));
}

/** A run() that returned something that is not an OpResult is a bug in the role: say so. */
export function normaliseResult(r: unknown): OpResult {
  if (r && typeof r === 'object' && STATUSES.has((r as OpResult).status)) return r as OpResult;
  return { status: 'failed', msg: `task returned no result (got ${r === undefined ? 'undefined' : typeof r}); return ok()/changed()/... from run()` };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface Attempted {
  result: OpResult;
  /** Total runs, reported only when the task uses retries/until. */
  attempts?: number;
}

/**
 * Run until `until` holds, up to 1 + retries times. Without `until`, retries re-run a
 * failed result (current Ansible behaviour). Stops retrying once the run is aborted.
 */
export async function runWithRetries(
  task: Task<unknown>,
  ctx: HostCtx<unknown>,
  opts: { signal?: AbortSignal; onRetry?: (attempt: number, max: number, last: OpResult) => void },
): Promise<Attempted> {
  const retries = Math.max(0, task.retries ?? 0);
  const until = task.until ?? (retries > 0 ? (r: OpResult) => r.status !== 'failed' : undefined);
  let attempt = 0;
  for (;;) {
    attempt++;
    let result: OpResult;
    try {
      result = normaliseResult(await task.run(ctx));
    } catch (e) {
      if (e instanceof UnreachableError || !until) throw e;
      result = { status: 'failed', msg: errorMessage(e) };
    }
    if (!until) return { result };
    let met: boolean;
    try {
      met = until(result);
    } catch (e) {
      return { result: { ...result, status: 'failed', msg: `until() threw: ${errorMessage(e)}` }, attempts: attempt };
    }
    if (met) return { result, attempts: attempt };
    if (attempt > retries || opts.signal?.aborted) {
      const why = `until condition not met after ${attempt} attempt${attempt === 1 ? '' : 's'}`;
      return { result: { ...result, status: 'failed', msg: result.msg ? `${result.msg} (${why})` : why }, attempts: attempt };
    }
    opts.onRetry?.(attempt, retries + 1, result);
    await sleep(task.delayMs ?? 0, opts.signal);
  }
}
