// gatherFacts: the whole probe in one exec, parsed locally. The script is the command itself
// (run by `sh -c`), not stdin to `sh -s`: without stdin it can go through the connection's
// pipelined shell instead of a session of its own (lib/transport/pipelined-shell.ts).
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
  const r = await t.exec(PROBE_SCRIPT, { timeoutMs: options.timeoutMs ?? 30_000, sudo: false });
  if (r.code !== 0) throw new FactsError(t.name, `probe exited ${r.code}: ${r.stderr.trim()}`);
  try {
    return parseFactsOutput(r.stdout);
  } catch (e) {
    throw new FactsError(t.name, (e as Error).message, { cause: e });
  }
}
