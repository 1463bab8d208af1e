// The pure part of every op returns a Decision; applyDecision is the one place that turns
// it into I/O, so check mode ("decide, report, touch nothing") is enforced in one spot.
import { UnreachableError } from '../errors.ts';
import type { ExecResult } from '../transport/types.ts';
import { PutValidateError } from '../transport/types.ts';
import { formatMode } from './mode.ts';
import { errText, joinCommands, run, sudoOf } from './exec.ts';
import { changed, failed, ok, skipped, type FileDiff, type OpContext, type OpResult } from './types.ts';

/** A file to write atomically with transport.put. */
export interface PutPlan {
  path: string;
  content: string | Buffer;
  mode?: number;
  owner?: string;
  group?: string;
  validate?: string;
  mkdirs?: boolean;
}

export interface Decision {
  /** Does anything need to change? */
  change: boolean;
  /** Shell commands to apply the change, run in order as one exec (after `put`). */
  commands: string[];
  /** Imperative summary: "create /etc/x", "start nginx"; for no change, a state summary. */
  msg: string;
  diff?: FileDiff[];
  /** Commands run before `put` (e.g. create ~/.ssh), as one exec. */
  before?: string[];
  /** A file to write (between `before` and `commands`). */
  put?: PutPlan;
  /** stdin for the commands (e.g. a password hash for chpasswd -e); never reported. */
  stdin?: string;
  /** The state makes the op impossible (a directory where a file should be ...). */
  fail?: string;
  /**
   * A part that cannot be done on this host (e.g. a live kernel setting in a container):
   * reported as the skip reason when nothing else changes, appended to msg otherwise.
   */
  skip?: string;
  data?: Record<string, unknown>;
}

export const noChange = (msg: string, extra: Partial<Decision> = {}): Decision => ({ change: false, commands: [], msg, ...extra });
export const mustFail = (fail: string): Decision => ({ change: false, commands: [], msg: fail, fail });

export interface ApplyOptions {
  /** Hide stdout/stderr/diff (secret content). */
  noLog?: boolean;
  /**
   * When the commands fail, a reason to report the failed part as skipped instead
   * (e.g. read-only /proc/sys in a container); undefined keeps it a failure.
   */
  tolerate?: (r: ExecResult) => string | undefined;
  timeoutMs?: number;
}

function withSkip(msg: string, skip: string | undefined): string {
  return skip ? `${msg}; ${skip}` : msg;
}

export async function applyDecision(ctx: OpContext, d: Decision, o: ApplyOptions = {}): Promise<OpResult> {
  const shown: Partial<OpResult> = {};
  const commands = [...(d.before ?? []), ...d.commands];
  if (commands.length) shown.commands = commands;
  if (d.diff?.length && !o.noLog) shown.diff = d.diff;
  if (d.data) shown.data = d.data;
  if (d.fail) return failed(d.fail, shown);
  if (!d.change) return d.skip ? skipped(d.skip, shown) : ok(d.msg, shown);
  if (ctx.check) return changed(withSkip(`would ${d.msg}`, d.skip), shown);

  // -v trail of what is applied (the reporter redacts secrets; noLog ops log nothing).
  const log = (line: string) => {
    if (!o.noLog) ctx.log(line);
  };
  const hide = (r: ExecResult): Partial<OpResult> => (o.noLog ? { rc: r.code } : { stdout: r.stdout, stderr: r.stderr, rc: r.code });
  if (d.before?.length) {
    log(`run: ${joinCommands(d.before)}`);
    const r = await run(ctx, joinCommands(d.before), { timeoutMs: o.timeoutMs });
    if (r.code !== 0) return failed(`${d.msg}: failed (rc ${r.code}): ${o.noLog ? 'output hidden (noLog)' : errText(r)}`, { ...shown, ...hide(r) });
  }
  if (d.put) {
    const p = d.put;
    log(`put: ${p.path} (${Buffer.byteLength(p.content)} bytes${p.mode === undefined ? '' : `, mode ${formatMode(p.mode)}`})`);
    try {
      await ctx.transport.put(p.path, p.content, {
        mode: p.mode === undefined ? undefined : formatMode(p.mode),
        owner: p.owner,
        group: p.group,
        validate: p.validate,
        mkdirs: p.mkdirs,
        sudo: sudoOf(ctx),
      });
    } catch (e) {
      if (e instanceof UnreachableError) throw e;
      if (e instanceof PutValidateError) {
        return failed(`validation of ${p.path} failed (rc ${e.result.code}): ${errText(e.result)}`, { ...shown, ...hide(e.result) });
      }
      return failed(`cannot write ${p.path}: ${e instanceof Error ? e.message : String(e)}`, shown);
    }
  }
  let out: Partial<OpResult> = {};
  if (d.commands.length) {
    log(`run: ${joinCommands(d.commands)}`);
    const r = await run(ctx, joinCommands(d.commands), { stdin: d.stdin, timeoutMs: o.timeoutMs });
    out = hide(r);
    if (r.code !== 0) {
      const reason = o.tolerate?.(r);
      if (reason === undefined) {
        return failed(`${d.msg}: failed (rc ${r.code}): ${o.noLog ? 'output hidden (noLog)' : errText(r)}`, { ...shown, ...out });
      }
      // Only the tolerated part failed: what was written before it still counts.
      const skip = [d.skip, reason].filter(Boolean).join('; ');
      return d.put || d.before?.length ? changed(withSkip(d.msg, skip), { ...shown, ...out }) : skipped(skip, { ...shown, ...out });
    }
  }
  return changed(withSkip(d.msg, d.skip), { ...shown, ...out });
}
