// Several read-only probes as one command: each runs in its own subshell (its `exit` and
// variables stay its own), followed by a marker carrying a random nonce on stdout (with its
// exit status) and on stderr. splitProbeBatch() gives back each probe's exact stdout, stderr
// and status, as if it had run alone. Used to read many tasks' state in one round trip.
import { randomBytes } from 'node:crypto';

export interface BatchedProbeResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** sshd hands a command to the login shell as one argv string (Linux caps one at 128 KiB). */
export const MAX_BATCH_BYTES = 64 * 1024;

export function batchNonce(): string {
  return `__DROVER_PROBE_${randomBytes(8).toString('hex')}__`;
}

export function probeBatchScript(commands: readonly string[], nonce: string): string {
  // The newline before `)` ends a trailing comment of the probe, if any; `:` stands in for
  // an empty one (`( )` does not parse). A probe that does not parse ends the batch there.
  return commands
    .map((c) => `(\n${c.trim() ? c : ':'}\n) </dev/null; __drover_rc=$?; printf '\\n%s %s\\n' '${nonce}' "$__drover_rc"; printf '\\n%s\\n' '${nonce}' >&2`)
    .join('\n');
}

/**
 * Each probe's result, in order; stops at the first probe whose markers are missing (the
 * batch died there: those probes are simply run again on their own).
 */
export function splitProbeBatch(stdout: string, stderr: string, nonce: string, count: number): BatchedProbeResult[] {
  const out: BatchedProbeResult[] = [];
  let o = 0;
  let e = 0;
  const outMark = `\n${nonce} `;
  const errMark = `\n${nonce}\n`;
  for (let i = 0; i < count; i++) {
    const at = stdout.indexOf(outMark, o);
    const eat = stderr.indexOf(errMark, e);
    if (at < 0 || eat < 0) break;
    const eol = stdout.indexOf('\n', at + outMark.length);
    if (eol < 0) break;
    const code = Number(stdout.slice(at + outMark.length, eol));
    out.push({ stdout: stdout.slice(o, at), stderr: stderr.slice(e, eat), code: Number.isInteger(code) ? code : null });
    o = eol + 1;
    e = eat + errMark.length;
  }
  return out;
}

/**
 * The inverse of probeBatchScript: the nonce and the probes of a batch script (a probe given
 * as "" comes back as ":"), or undefined when `script` is not one. For recording a run probe
 * by probe and answering a batch from a recording (lib/testing/replay-transport.ts).
 */
export function parseProbeBatchScript(script: string): { nonce: string; commands: string[] } | undefined {
  const nonce = /__DROVER_PROBE_[0-9a-f]{16}__/.exec(script)?.[0];
  if (!nonce) return undefined;
  // What follows each probe: the script of the one-probe batch `:` without its `(\n:`.
  const tail = probeBatchScript([':'], nonce).slice('(\n:'.length);
  const parts = script.split(tail);
  if (parts.length < 2 || parts.pop() !== '') return undefined;
  const commands: string[] = [];
  for (const [i, p] of parts.entries()) {
    const head = i === 0 ? '(\n' : '\n(\n';
    if (!p.startsWith(head)) return undefined;
    commands.push(p.slice(head.length));
  }
  return probeBatchScript(commands, nonce) === script ? { nonce, commands } : undefined;
}
