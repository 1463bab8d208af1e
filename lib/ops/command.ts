// command: run a shell command, guarded like Ansible's creates/removes plus `unless`.
// With guards, one probe exec decides; without, the command just runs (and reports changed,
// unless changedWhen says otherwise). Check mode evaluates the guards and runs nothing
// (a `readOnly` command runs anyway and reports ok: for queries whose output later tasks use).
import { quote } from '../shell/quote.ts';
import type { ExecResult } from '../transport/types.ts';
import { defineOp, errText, run, sudoFor } from './exec.ts';
import { parseProbe } from './probe.ts';
import { changed, failed, ok, type Op, type OpResult } from './types.ts';

export interface CommandOptions {
  /** Skip when this path exists. */
  creates?: string;
  /** Skip when this path does not exist. */
  removes?: string;
  /** Skip when this command succeeds (exit 0). */
  unless?: string;
  env?: Record<string, string>;
  stdin?: string;
  /** Decide "changed" from the result (default: ran = changed; readOnly: never). */
  changedWhen?: (r: ExecResult) => boolean;
  /** Decide failure from the result (default: exit code not 0). */
  failedWhen?: (r: ExecResult) => boolean;
  /** Never report the command's text, output or error text (secrets in argv or output). */
  noLog?: boolean;
  /** A query: runs in check mode too, reports ok unless changedWhen says otherwise. */
  readOnly?: boolean;
  /** Run through sudo (default: the context's become). */
  sudo?: boolean;
  timeoutMs?: number;
}

export interface Guards {
  creates?: boolean;
  removes?: boolean;
  unlessRc?: number | null;
}

export function guardProbeScript(o: CommandOptions): string | undefined {
  const lines: string[] = [];
  if (o.creates) lines.push(`if [ -e ${quote(o.creates)} ]; then echo creates=1; fi`);
  if (o.removes) lines.push(`if [ -e ${quote(o.removes)} ]; then echo removes=1; fi`);
  if (o.unless) lines.push(`( ${o.unless} ) >/dev/null 2>&1; echo unless=$?`);
  return lines.length ? lines.join('\n') : undefined;
}

export function parseGuards(stdout: string, o: CommandOptions): Guards {
  const { kv } = parseProbe(stdout);
  const g: Guards = {};
  if (o.creates) g.creates = kv.has('creates');
  if (o.removes) g.removes = kv.has('removes');
  if (o.unless) g.unlessRc = kv.has('unless') ? Number(kv.get('unless')) : null;
  return g;
}

/** Why the command is not needed, or undefined to run it. */
export function guardReason(g: Guards, o: CommandOptions): string | undefined {
  if (o.creates && g.creates) return `${o.creates} exists`;
  if (o.removes && g.removes === false) return `${o.removes} does not exist`;
  if (o.unless && g.unlessRc === 0) return 'the unless command succeeded';
  return undefined;
}

export function command(cmd: string, opts: CommandOptions = {}): Op {
  const shown = opts.noLog ? '(command hidden: noLog)' : cmd;
  return defineOp(async (ctx) => {
    // Always an explicit sudo: the op's own (false wins over any become), else the context's.
    const execOpts = { sudo: sudoFor(ctx, opts.sudo), timeoutMs: opts.timeoutMs };
    const guard = guardProbeScript(opts);
    if (guard) {
      // A guard only looks (it runs under --check too): a probe, which may have been read ahead.
      const g = await run(ctx, guard, { ...execOpts, probe: true });
      if (g.code !== 0) return failed(`guard probe failed (rc ${g.code}): ${errText(g)}`, { rc: g.code, stderr: g.stderr });
      const reason = guardReason(parseGuards(g.stdout, opts), opts);
      if (reason) return ok(`skipped: ${reason}`, { data: { skipped: reason } });
    }
    if (ctx.check && !opts.readOnly) return changed(`would run: ${shown}`, { commands: [shown] });
    // A readOnly query runs in --check as a read (the only kind of exec check mode sends).
    const r = await run(ctx, cmd, { ...execOpts, env: opts.env, stdin: opts.stdin, ...(ctx.check && opts.readOnly ? { probe: true } : {}) });
    const out: Partial<OpResult> = opts.noLog
      ? { rc: r.code, commands: [shown] }
      : { rc: r.code, stdout: r.stdout, stderr: r.stderr, commands: [shown], data: { stdout: r.stdout, stderr: r.stderr, rc: r.code } };
    const isFailed = opts.failedWhen ? opts.failedWhen(r) : r.code !== 0;
    if (isFailed) return failed(`${opts.noLog ? 'command' : cmd} failed (rc ${r.code})${opts.noLog ? '' : `: ${errText(r)}`}`, out);
    const isChanged = opts.changedWhen ? opts.changedWhen(r) : !opts.readOnly;
    return isChanged ? changed(`ran: ${shown}`, out) : ok(`ran: ${shown}`, out);
  });
}
