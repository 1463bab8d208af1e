// waitFor: poll on the target until a port is open/closed, a URL answers, or a command
// succeeds. The whole loop runs on the target in ONE exec (no round trip per attempt).
// Port probe without bash-only syntax at the top level: the script picks, in order,
// `nc -z`, bash's /dev/tcp (run through `bash -c`, never in dash), or python3.
// One fresh look first (a read: the runner's read-ahead stays good when the state is there);
// only a state not there yet is polled for. Check mode makes that one look and never waits:
// ok if ready now, else skipped as `wouldWait`.
import { quote } from '../shell/quote.ts';
import { defineOp, errText, run, sudoFor } from './exec.ts';
import { failed, ok, skipped, wouldWait, type Op, type OpContext } from './types.ts';

export interface WaitOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 1 s). */
  intervalMs?: number;
}

export interface WaitPortOptions extends WaitOptions {
  state?: 'open' | 'closed';
}

export interface WaitHttpOptions extends WaitOptions {
  /** Accepted status codes (curl only); default any 2xx/3xx. */
  status?: number | number[];
  /** Accept self-signed TLS certificates. */
  insecure?: boolean;
}

export interface WaitCommandOptions extends WaitOptions {
  /** Run through sudo (default: the context's become). */
  sudo?: boolean;
}

/** Defines chk(): exit 0 when the port accepts a connection. Exits 127 when no tool exists. */
export function portCheck(host: string, port: number): string {
  const h = quote(host);
  return [
    'if command -v nc >/dev/null 2>&1; then',
    `  chk() { nc -z -w 2 ${h} ${port} >/dev/null 2>&1; }`,
    'elif command -v bash >/dev/null 2>&1; then',
    `  chk() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' ${h} ${port} >/dev/null 2>&1; }`,
    'elif command -v python3 >/dev/null 2>&1; then',
    `  chk() { python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2).close()' ${h} ${port} >/dev/null 2>&1; }`,
    'else',
    "  echo 'waitFor.port needs nc, bash or python3 on the host' >&2; exit 127",
    'fi',
  ].join('\n');
}

/** Defines chk(): exit 0 when the URL answers with an accepted status. */
export function httpCheck(url: string, o: WaitHttpOptions = {}): string {
  const u = quote(url);
  const codes = o.status === undefined ? '2??|3??' : (Array.isArray(o.status) ? o.status : [o.status]).join('|');
  return [
    'if command -v curl >/dev/null 2>&1; then',
    `  chk() { c=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5${o.insecure ? ' -k' : ''} ${u} 2>&1); out="HTTP $c"; case $c in ${codes}) return 0;; esac; return 1; }`,
    ...(o.status === undefined
      ? [
          'elif command -v wget >/dev/null 2>&1; then',
          `  chk() { out=$(wget -q -O /dev/null -T 5${o.insecure ? ' --no-check-certificate' : ''} ${u} 2>&1); }`,
        ]
      : []),
    'else',
    `  echo 'waitFor.http needs curl${o.status === undefined ? ' or wget' : ' (for a status check)'} on the host' >&2; exit 127`,
    'fi',
  ].join('\n');
}

/** Defines chk(): exit 0 when the command succeeds (its last output kept for the error). */
export function commandCheck(cmd: string): string {
  return `chk() { out=$(sh -c ${quote(cmd)} 2>&1); }`;
}

/**
 * The polling loop around chk(): exit 0 when satisfied, 124 (and the last output on
 * stderr) at the deadline. timeoutSec 0 = one attempt.
 */
export function waitScript(check: string, timeoutSec: number, intervalSec: number, until: 'success' | 'failure' = 'success'): string {
  return [
    'out=',
    check,
    `end=$(( $(date +%s) + ${Math.max(0, Math.ceil(timeoutSec))} ))`,
    'while :; do',
    `  if ${until === 'success' ? '' : '! '}chk; then exit 0; fi`,
    `  if [ "$(date +%s)" -ge "$end" ]; then if [ -n "$out" ]; then printf '%s\\n' "$out" >&2; fi; exit 124; fi`,
    `  sleep ${Math.max(0.05, intervalSec)}`,
    'done',
  ].join('\n');
}

async function wait(
  ctx: OpContext,
  what: string,
  check: string,
  o: WaitOptions,
  until: 'success' | 'failure',
  sudo: ReturnType<typeof sudoFor>,
) {
  const timeoutMs = ctx.check ? 0 : (o.timeoutMs ?? 60_000);
  const start = Date.now();
  // First one look, a fresh read (in --check the only one): when the state is already there
  // nothing on the host changed, so what the runner read ahead stays good. Only a state not
  // there yet is waited for, by a loop that counts as a change (the host changes by itself
  // meanwhile, so what was read ahead is dropped): one round trip more, only when it waits.
  const look = (timeoutSec: number, probe: boolean) =>
    run(ctx, waitScript(check, timeoutSec, (o.intervalMs ?? 1000) / 1000, until), {
      sudo,
      timeoutMs: timeoutSec * 1000 + 30_000,
      ...(probe ? { probe: true, fresh: true } : {}),
    });
  let r = await look(0, true);
  if (r.code === 124 && timeoutMs > 0) r = await look(timeoutMs / 1000, false); // 0 in --check
  const elapsedMs = Date.now() - start;
  const data = { elapsedMs };
  if (r.code === 0) return ok(`${what} after ${(elapsedMs / 1000).toFixed(1)}s`, { data });
  if (r.code === 124) {
    if (ctx.check) return wouldWait(`would wait for ${what} (not yet; check mode does not wait)`, { data });
    return failed(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${r.stderr.trim() ? `: ${errText(r)}` : ''}`, {
      stderr: r.stderr,
      rc: r.code,
      data,
    });
  }
  return failed(`waiting for ${what} failed (rc ${r.code}): ${errText(r)}`, { stderr: r.stderr, rc: r.code, data });
}

export function waitForPort(host: string, port: number, opts: WaitPortOptions = {}): Op {
  const state = opts.state ?? 'open';
  return defineOp((ctx) =>
    wait(ctx, `port ${host}:${port} ${state}`, portCheck(host, port), opts, state === 'open' ? 'success' : 'failure', false),
  );
}

export function waitForHttp(url: string, opts: WaitHttpOptions = {}): Op {
  return defineOp((ctx) => wait(ctx, `${url} to answer`, httpCheck(url, opts), opts, 'success', false));
}

export function waitForCommand(cmd: string, opts: WaitCommandOptions = {}): Op {
  return defineOp((ctx) =>
    wait(ctx, `\`${cmd}\` to succeed`, commandCheck(cmd), opts, 'success', sudoFor(ctx, opts.sudo)),
  );
}

/** waitFor.port / waitFor.http / waitFor.command */
export const waitFor = { port: waitForPort, http: waitForHttp, command: waitForCommand } as const;
