// gatherFacts: the whole probe in one exec (script on stdin to `sh -s`), parsed locally.
import type { Transport } from '../transport/types.ts';
import { parseFactsOutput } from './parse.ts';
import { PROBE_SCRIPT } from './probe.ts';
import type { Facts } from './types.ts';

export class FactsError extends Error {
  constructor(
    readonly host: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${host}: gathering facts failed: ${message}`, options);
    this.name = 'FactsError';
  }
}

/** Connection errors (UnreachableError, TimeoutError) pass through unchanged. */
export async function gatherFacts(t: Transport, options: { timeoutMs?: number } = {}): Promise<Facts> {
  const r = await t.exec('sh -s', { stdin: PROBE_SCRIPT, timeoutMs: options.timeoutMs ?? 30_000, sudo: false });
  if (r.code !== 0) throw new FactsError(t.name, `probe exited ${r.code}: ${r.stderr.trim()}`);
  try {
    return parseFactsOutput(r.stdout);
  } catch (e) {
    throw new FactsError(t.name, (e as Error).message, { cause: e });
  }
}
