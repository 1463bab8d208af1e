// Local commands through zx: every argument interpolated as an array element, so it is quoted.
// zx's default shell is bash fed through a socketpair; bash takes a socket on stdin with
// SHLVL<2 as "run by sshd" and sources ~/.bashrc (here: pyenv init + rehash with a lock, which
// stalled parallel commands for seconds). So: POSIX sh (dash), POSIX quoting, no `pipefail`
// prefix, and stdin closed unless there is input.
import { $, type ProcessOutput } from 'zx';
import { quote } from '../lib/shell/quote.ts';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  /** Default true: a non-zero exit rejects with the command and its stderr. */
  check?: boolean;
}

/** zx, set up as described above; options merged in by callers. */
export function shell(opts: { input?: string; timeoutMs?: number } = {}) {
  return $({
    shell: '/bin/sh',
    prefix: '',
    postfix: '',
    quote,
    quiet: true,
    nothrow: true,
    stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
  });
}

/** Run argv (no shell parsing of the words) and collect its output. */
export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const out: ProcessOutput = await shell(opts)`${[...argv]}`;
  const res = { stdout: out.stdout, stderr: out.stderr, code: out.exitCode };
  if ((opts.check ?? true) && res.code !== 0) {
    throw new Error(`command failed (exit ${res.code}): ${argv.join(' ')}\n${res.stderr.trim()}`);
  }
  return res;
}

/** True when argv exits 0; never throws for a non-zero exit. */
export async function succeeds(argv: readonly string[], timeoutMs?: number): Promise<boolean> {
  const r = await run(argv, { check: false, ...(timeoutMs ? { timeoutMs } : {}) });
  return r.code === 0;
}
