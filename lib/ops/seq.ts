// seq: several ops as one (a task's run() returns one result). Runs in order and stops at
// the first failure; changed if any changed; diffs and commands concatenated.
import { ProbeCaptured, type CapturedProbe } from '../errors.ts';
import type { FileDiff, Op, OpResult, OpStatus } from './types.ts';

/** Falsy entries are left out, so `seq(a, cond && b)` reads naturally. */
export function seq(...ops: Array<Op | false | null | undefined>): Op {
  return parts(ops, true);
}

/**
 * Independent ops, each run whatever the others gave (a failed part does not stop the
 * rest); `data.results` holds every part's result, in order, for a caller that judges them
 * one by one. Unlike awaiting them in turn, every part's first probe is read ahead.
 */
export function each(...ops: Array<Op | false | null | undefined>): Op {
  return parts(ops, false);
}

/** The results `seq`/`each` keep in `data.results`. */
export function partResults(r: OpResult): OpResult[] {
  const rs = (r.data as { results?: unknown } | undefined)?.results;
  return Array.isArray(rs) ? (rs as OpResult[]) : [r];
}

function parts(ops: Array<Op | false | null | undefined>, stopOnFailure: boolean): Op {
  const list = ops.filter((o): o is Op => typeof o === 'function');
  return async (ctx) => {
    const results: OpResult[] = [];
    // Only while the runner learns probes (lib/run/probe-ahead.ts): each part's first probe,
    // as if the parts before it changed nothing (a change drops whatever was read ahead).
    const learnt: CapturedProbe[] = [];
    for (const op of list) {
      let r: OpResult;
      try {
        r = await op(ctx);
      } catch (e) {
        if (!(e instanceof ProbeCaptured)) throw e;
        learnt.push(...e.probes);
        if (e.probes.length) continue;
        break;
      }
      results.push(r);
      if (stopOnFailure && r.status === 'failed') break;
    }
    if (learnt.length) throw new ProbeCaptured(learnt);
    return combine(results);
  };
}

/** Aggregate results: failed > changed > ok > skipped (all skipped = skipped). */
export function combine(results: readonly OpResult[]): OpResult {
  const has = (s: OpStatus) => results.some((r) => r.status === s);
  const status: OpStatus = has('failed')
    ? 'failed'
    : has('changed')
      ? 'changed'
      : results.length && results.every((r) => r.status === 'skipped')
        ? 'skipped'
        : 'ok';
  // The message of a failure leads; otherwise what changed (or, if nothing did, every part).
  const pick = status === 'failed' ? results.filter((r) => r.status === 'failed') : status === 'changed' ? results.filter((r) => r.status === 'changed') : results;
  const msgs = pick.map((r) => r.msg).filter((m): m is string => !!m);
  const diff: FileDiff[] = results.flatMap((r) => r.diff ?? []);
  const commands = results.flatMap((r) => r.commands ?? []);
  const stdout = results.map((r) => r.stdout).filter(Boolean).join('\n');
  const stderr = results.map((r) => r.stderr).filter(Boolean).join('\n');
  const firstFailed = results.find((r) => r.status === 'failed');
  const out: OpResult = { status, data: { results } };
  if (msgs.length) out.msg = msgs.join('; ');
  if (diff.length) out.diff = diff;
  if (commands.length) out.commands = commands;
  if (stdout) out.stdout = stdout;
  if (stderr) out.stderr = stderr;
  if (firstFailed?.rc !== undefined) out.rc = firstFailed.rc;
  return out;
}
