// Builds the HostCtx a task sees: this host's variables and registry, with the transport
// and facts of whichever host actually runs it (itself, or the delegate).
import { factsGathered } from '../facts/missing.ts';
import type { Facts } from '../facts/types.ts';
import type { Inventory } from '../inventory/types.ts';
import type { OpResult } from '../ops/types.ts';
import type { Transport } from '../transport/types.ts';
import { hostShell } from '../ops/shell.ts';
import { inventoryLookup } from './lookup.ts';
import type { HostCtx } from './types.ts';

/** Ansible booleans as they come from YAML or INI inventories. */
export function truthy(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  const s = String(v).trim().toLowerCase();
  if (['true', 'yes', 'on', '1', 'y'].includes(s)) return true;
  if (['false', 'no', 'off', '0', 'n', ''].includes(s)) return false;
  return undefined;
}

/**
 * The one become of a context, resolved once: the play's `become` if set, else the host's
 * drover_become/ansible_become, else off; off when logged in as root (facts.uid 0). Without
 * gathered facts the transport still skips sudo for a root login that becomes root.
 */
export function wantsBecome(playBecome: boolean | undefined, vars: Readonly<Record<string, unknown>>, facts: Facts): boolean {
  const want = playBecome ?? truthy(vars.drover_become ?? vars.ansible_become) ?? false;
  return want && (!factsGathered(facts) || facts.uid !== 0);
}

export interface CtxInput {
  host: string;
  transport: Transport;
  facts: Facts;
  check: boolean;
  diff: boolean;
  become: boolean;
  vars: unknown;
  hostVars: Readonly<Record<string, unknown>>;
  inventory: Inventory;
  groups: readonly string[];
  registered: Record<string, OpResult>;
  factsOf: (host: string) => Facts | undefined;
  log: (msg: string) => void;
  /** Another host's merged variables (play vars and -e applied); default: the inventory's. */
  varsOf?: (host: string) => Readonly<Record<string, unknown>> | undefined;
}

export function makeHostCtx(i: CtxInput): HostCtx<unknown> {
  const lookup = inventoryLookup(i.inventory, (h) => (h === i.host ? i.hostVars : i.varsOf?.(h)));
  const ctx: HostCtx<unknown> = {
    ...lookup,
    host: i.host,
    transport: i.transport,
    facts: i.facts,
    check: i.check,
    diff: i.diff,
    become: i.become,
    log: i.log,
    vars: i.vars,
    hostVars: i.hostVars,
    inventory: i.inventory,
    groups: i.groups,
    factsOf: i.factsOf,
    registered: i.registered,
    run: (op) => op(ctx),
    $: hostShell({ transport: i.transport, become: i.become, log: i.log }),
  };
  return ctx;
}
