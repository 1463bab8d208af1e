// The role/play API that roles and playbooks are written against.
// A role is a static list of tasks (so hosts can step through it in lockstep); each task's
// run() is ordinary async TypeScript that calls ops with the host's context and returns
// one OpResult (compose several ops with ops.seq()).
import type { z } from 'zod';
import type { Op, OpContext, OpResult } from '../ops/types.ts';
import type { Facts } from '../facts/types.ts';
import type { Inventory } from '../inventory/types.ts';
import type { InventoryLookup } from './lookup.ts';

export interface HostCtx<V = Record<string, unknown>> extends OpContext, InventoryLookup {
  /** This role's variables, parsed by its schema (defaults applied). */
  readonly vars: V;
  /** All merged variables of this host (inventory + play vars + extra vars). */
  readonly hostVars: Readonly<Record<string, unknown>>;
  readonly inventory: Inventory;
  /** Groups this host belongs to. */
  readonly groups: readonly string[];
  /** Facts of another host of the play, if gathered (Ansible's hostvars[h].ansible_facts). */
  factsOf(host: string): Facts | undefined;
  /** Results registered by earlier tasks on this host (`register`). */
  readonly registered: Readonly<Record<string, OpResult>>;
  /** Run an op with this context (sugar for op(ctx)). */
  run(op: Op): Promise<OpResult>;
}

export interface Task<V = Record<string, unknown>> {
  name: string;
  run: (ctx: HostCtx<V>) => Promise<OpResult> | OpResult;
  /** Skip unless true; a string return is a skip reason (skipped, not ok). */
  when?: (ctx: HostCtx<V>) => boolean | string;
  /** Handlers to notify when this task reports changed. */
  notify?: string | string[];
  tags?: string[];
  /** Store the result under this name in ctx.registered. */
  register?: string;
  /** Run on the first host of the batch only; result applies to all (Ansible run_once). */
  runOnce?: boolean;
  /** Run on another inventory host on this host's behalf. */
  delegateTo?: string | ((ctx: HostCtx<V>) => string);
  /** retries/until: re-run until `until` is true, up to `retries` more times, `delayMs` apart. */
  retries?: number;
  delayMs?: number;
  until?: (result: OpResult) => boolean;
  /** A failure is reported but the host goes on. */
  ignoreErrors?: boolean;
  /**
   * In --check only reads reach a host and other execs/puts are refused (the task is reported
   * skipped); true declares that this task only reads, so all its execs are sent. Ops still
   * see ctx.check. See lib/run/README.md, "Check mode".
   */
  checkModeSafe?: boolean;
  /** Overrides the role's readAhead for this task (false: its code must run exactly once). */
  readAhead?: boolean;
}

export type Handler<V = Record<string, unknown>> = Pick<Task<V>, 'name' | 'run' | 'when'>;

export interface Role<S extends z.ZodType = z.ZodType> {
  name: string;
  /** Variables schema with defaults; parsed from the host's merged vars (unknown keys ignored). */
  vars: S;
  tasks: Task<z.infer<S>>[];
  handlers?: Handler<z.infer<S>>[];
  /** Tags applied to every task of the role. */
  tags?: string[];
  /**
   * Roles this one needs applied first (Ansible's meta dependencies): the plan runs them
   * before it, unless an earlier play of the run already applied them to all its hosts.
   */
  dependencies?: Role[];
  /**
   * Read the state of the next tasks ahead, in one round trip (lib/run/probe-ahead.ts). A
   * promise of the role: its tasks do their I/O through ops, so the code of a task before its
   * first op (and a task that does no I/O at all) changes nothing and may run more than once.
   */
  readAhead?: boolean;
}

export function defineRole<S extends z.ZodType>(role: Role<S>): Role<S> {
  return role;
}

export interface Play {
  name: string;
  /** Host pattern, Ansible syntax: 'lb', 'masters:&debian', 'all:!storage1', 'web*'. */
  hosts: string;
  roles: Role[];
  /** linear: every host finishes a task before any starts the next; free: each host runs ahead. */
  strategy?: 'linear' | 'free';
  /** Rolling batches: a count (1) or a percentage ('30%'); a list ramps up: [1, '50%']. */
  serial?: number | string | Array<number | string>;
  /**
   * With serial: first run every host's tasks at once in check mode (reads only). A host with
   * nothing to change is done then (its results are that check's); one that failed there
   * fails (the failure policy applies before anything rolls); only the hosts with something to
   * change roll in serial batches. A converged rolling play then costs one pass, not one per
   * batch. Not Ansible's: off unless set (the K3s plays set it).
   */
  checkFirst?: boolean;
  anyErrorsFatal?: boolean;
  maxFailPercentage?: number;
  gatherFacts?: boolean;
  /** Use sudo for privileged operations (ignored when connected as root). */
  become?: boolean;
  vars?: Record<string, unknown>;
  tags?: string[];
}
