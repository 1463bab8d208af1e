// Every operation reads the current state, decides, and only then changes (pyinfra's
// lesson): the decision is a pure function of state + arguments, so check mode is free
// and unit tests are data ("given this state, expect these commands").
import type { Transport, BecomeOptions } from '../transport/types.ts';
import type { Facts } from '../facts/types.ts';
import type { HostShell } from './shell.ts';

export type OpStatus = 'ok' | 'changed' | 'skipped' | 'failed';

export interface FileDiff {
  path: string;
  before: string;
  after: string;
}

export interface OpResult {
  status: OpStatus;
  /** Short human text: what was (or would be) done, why skipped, why failed. */
  msg?: string;
  /** Unified-style content diffs (shown under --diff). */
  diff?: FileDiff[];
  /** Commands run (or that would run, in check mode) to apply the change. */
  commands?: string[];
  stdout?: string;
  stderr?: string;
  rc?: number | null;
  /** Free-form values for later tasks (Ansible's `register`). */
  data?: Record<string, unknown>;
}

/** What an operation gets: one host's connection, facts and run modes. */
export interface OpContext {
  readonly host: string;
  readonly transport: Transport;
  readonly facts: Facts;
  /** --check: decide and report, change nothing. */
  readonly check: boolean;
  /** --diff: compute content diffs. */
  readonly diff: boolean;
  /** Run privileged commands through sudo (false when connected as root). */
  readonly become: boolean | BecomeOptions;
  /** Debug log line (shown with -v), already redacted by the reporter. */
  log(message: string): void;
  /** Commands on this host, zx-style: `await ctx.$\`systemctl is-active ${unit}\``; `ctx.$.read` for probes. */
  readonly $: HostShell;
}

/** An operation: call it with a context; it never throws for a failed command, it returns failed. */
export type Op = (ctx: OpContext) => Promise<OpResult>;

export const ok = (msg?: string, extra: Partial<OpResult> = {}): OpResult => ({ status: 'ok', msg, ...extra });
export const changed = (msg?: string, extra: Partial<OpResult> = {}): OpResult => ({ status: 'changed', msg, ...extra });
export const skipped = (reason: string, extra: Partial<OpResult> = {}): OpResult => ({ status: 'skipped', msg: reason, ...extra });
export const failed = (msg: string, extra: Partial<OpResult> = {}): OpResult => ({ status: 'failed', msg, ...extra });
/**
 * --check looked once and the state is not there yet: a real run would wait for it. Skipped,
 * marked `wouldWait`, so that a check-first pass (Play.checkFirst) does not take the host for
 * one with nothing to do: it rolls and waits in its batch.
 */
export const wouldWait = (reason: string, extra: Partial<OpResult> = {}): OpResult => ({ status: 'skipped', msg: reason, ...extra, data: { ...(extra.data as object | undefined), wouldWait: true } });

/** A check-mode result that stands for something a real run would do or wait for (not a no-op). */
export function pendingInCheck(r: OpResult): boolean {
  const d = r.data as { checkModeRefused?: unknown; wouldWait?: unknown } | undefined;
  return r.status === 'changed' || d?.wouldWait === true || (Array.isArray(d?.checkModeRefused) && d.checkModeRefused.length > 0);
}
