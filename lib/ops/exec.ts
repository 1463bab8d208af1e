// Running commands from an op: sudo from the context, failures as results, never throws
// for a failed command (only an unreachable host escapes, so the runner can mark it).
import { ProbeCaptured, UnreachableError } from '../errors.ts';
import { factsGathered } from '../facts/missing.ts';
import type { BecomeOptions, ExecOptions, ExecResult } from '../transport/types.ts';
import { describeFailure, isProcessOutput } from './shell.ts';
import { failed, type Op, type OpContext, type OpResult } from './types.ts';

/** Thrown inside an op body to end it as failed; defineOp turns it into a result. */
export class OpFailure extends Error {
  constructor(
    message: string,
    readonly extra: Partial<OpResult> = {},
  ) {
    super(message);
    this.name = 'OpFailure';
  }
}

/**
 * The sudo option for privileged commands: the context's become (resolved once by the
 * runner: play > host vars > off, off as root), always explicit. `undefined` would mean
 * "the inventory's ansible_become" to the transport and override a play's become: false.
 */
export function sudoOf(ctx: OpContext): boolean | BecomeOptions {
  return ctx.become ? ctx.become : false;
}

/** An op's own `sudo` option over the context: undefined = the context's, true = become (with the host's settings), false = none. */
export function sudoFor(ctx: OpContext, own: boolean | undefined): boolean | BecomeOptions {
  if (own === undefined) return sudoOf(ctx);
  return own ? sudoOf(ctx) || true : false;
}

/**
 * May this context chown files (root login or become)? It decides whether a rewrite sets the
 * existing owner explicitly (a failed chown fails the op). Without gathered facts (a play with
 * gatherFacts: false) the login's uid is unknown, so only become counts: the put script then
 * keeps an existing file's owner itself wherever the login may (root), as it does for any
 * write without an owner, so the end state is the same and no fact is needed.
 */
export function canChown(ctx: OpContext): boolean {
  if (ctx.become) return true;
  return factsGathered(ctx.facts) && ctx.facts.uid === 0;
}

/**
 * Wrap an op body: OpFailure, exec timeouts and unexpected errors become a failed result;
 * UnreachableError is rethrown because it is a host state, not an op outcome.
 */
export function defineOp(body: (ctx: OpContext) => Promise<OpResult>): Op {
  return async (ctx) => {
    try {
      return await body(ctx);
    } catch (e) {
      if (e instanceof UnreachableError || e instanceof ProbeCaptured) throw e;
      if (e instanceof OpFailure) return failed(e.message, e.extra);
      if (isProcessOutput(e)) return failed(describeFailure(e)!, { stdout: e.stdout, stderr: e.stderr, rc: e.exitCode });
      return failed(e instanceof Error ? e.message : String(e));
    }
  };
}

/** Run with the context's sudo unless the options say otherwise. */
export function run(ctx: OpContext, command: string, options: ExecOptions = {}): Promise<ExecResult> {
  return ctx.transport.exec(command, { ...options, sudo: options.sudo ?? sudoOf(ctx) });
}

/**
 * mustRun for a read-only probe: marked `probe`, so the runner may have read it ahead,
 * batched with the next tasks' probes (lib/run/probe-ahead.ts), and it never counts as a change.
 */
export function mustProbe(ctx: OpContext, what: string, command: string, options: ExecOptions = {}): Promise<ExecResult> {
  return mustRun(ctx, what, command, { ...options, probe: true });
}

/** First useful line(s) of a failed command's output, for messages. */
export function errText(r: ExecResult): string {
  const s = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n');
  return s.length > 500 ? s.slice(0, 500) + '...' : s;
}

/** Run and require exit 0; otherwise end the op as failed with the output attached. */
export async function mustRun(ctx: OpContext, what: string, command: string, options: ExecOptions = {}): Promise<ExecResult> {
  const r = await run(ctx, command, options);
  if (r.code !== 0) {
    throw new OpFailure(`${what} failed (rc ${r.code}): ${errText(r)}`, { stdout: r.stdout, stderr: r.stderr, rc: r.code });
  }
  return r;
}

/** Several commands as one exec: `a && b` for one-liners, a `set -e` script otherwise. */
export function joinCommands(commands: readonly string[]): string {
  if (commands.length === 1) return commands[0]!;
  if (commands.every((c) => !c.includes('\n'))) return commands.join(' && ');
  return ['set -e', ...commands].join('\n');
}
