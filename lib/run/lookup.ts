// The inventory as a task sees it: hosts of a group, another host's merged variables, and the
// address peers use to reach a host. One implementation for every role (haproxy backends,
// VRRP peers, pg_hba, chrony, /etc/hosts, K3s joins), so an override is honoured everywhere.
import type { Inventory } from '../inventory/types.ts';

export interface InventoryLookup {
  /** Host names of a group (children included), in inventory order; [] for an unknown group. */
  hostsOf(group: string): string[];
  /** A host's merged variables (inventory < play vars < -e), as its own tasks see them. */
  varsOf(host: string): Readonly<Record<string, unknown>>;
  /**
   * The address other hosts use to reach `host`: `drover_peer_address` (or `peer_address`)
   * when set, for NAT or a management network where the SSH address (ansible_host) is not the
   * one peers use; else ansible_host; else the inventory name.
   */
  addressOf(host: string): string;
}

/** Variables naming a host's peer-facing address, highest precedence first. */
export const PEER_ADDRESS_VARS = ['drover_peer_address', 'peer_address', 'ansible_host'] as const;

export function peerAddress(name: string, vars: Readonly<Record<string, unknown>>): string {
  for (const k of PEER_ADDRESS_VARS) {
    const v = vars[k];
    if (typeof v === 'string' && v.trim()) return v.trim();
  }
  return name;
}

/**
 * Lookups over an inventory. `mergedVars` gives a host's variables with play vars and -e
 * applied (the runner passes it); without it, the inventory's own variables are used.
 */
export function inventoryLookup(inventory: Inventory, mergedVars?: (host: string) => Readonly<Record<string, unknown>> | undefined): InventoryLookup {
  const varsOf = (host: string): Readonly<Record<string, unknown>> => {
    const merged = mergedVars?.(host);
    if (merged) return merged;
    const h = inventory.hosts.get(host);
    if (!h) throw new Error(`host "${host}" is not in the inventory`);
    return h.vars;
  };
  return {
    hostsOf: (group) => [...inventory.hosts.values()].filter((h) => h.groups.includes(group)).map((h) => h.name),
    varsOf,
    addressOf: (host) => peerAddress(host, varsOf(host)),
  };
}
