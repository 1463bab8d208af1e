// Who is who among the database hosts, from the inventory alone (no host is asked): this
// host's role, the primary, the replicas with their slot names, and every address.
import type { Inventory } from '../../lib/inventory/types.ts';
import { isIP } from 'node:net';

export interface PgPeer {
  name: string;
  address: string;
}

export interface PgReplica extends PgPeer {
  slot: string;
}

export interface PgTopology {
  role: 'primary' | 'replica';
  self: PgPeer;
  /** Undefined when no primary is named and the primary group is empty. */
  primary: PgPeer | undefined;
  replicas: PgReplica[];
  /** Every database host (primary group + replica group) except this one, in inventory order. */
  peers: PgPeer[];
}

export interface TopologyInput {
  host: string;
  inventory: Inventory;
  groups: readonly string[];
  hostVars: Readonly<Record<string, unknown>>;
  /** Fallback address for this host when ansible_host is not set. */
  defaultAddress?: string | null;
  vars: {
    postgres_role?: 'primary' | 'replica';
    postgres_primary_group: string;
    postgres_replica_group: string;
    postgres_primary_host?: string;
  };
}

/** A physical replication slot name for a replica: lowercase, [a-z0-9_], at most 63 chars. */
export function slotName(host: string): string {
  const s = host
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 63);
  return /^[a-z_]/.test(s) ? s : `r_${s}`.slice(0, 63);
}

function addressOf(inv: Inventory, name: string): string {
  const v = inv.hosts.get(name)?.vars.ansible_host;
  return typeof v === 'string' && v ? v : name;
}

function membersOf(inv: Inventory, group: string): string[] {
  return [...inv.hosts.values()].filter((h) => h.groups.includes(group)).map((h) => h.name);
}

export function pgTopology(i: TopologyInput): PgTopology {
  const { inventory: inv, vars } = i;
  const role = vars.postgres_role ?? (i.groups.includes(vars.postgres_replica_group) ? 'replica' : 'primary');
  const ownHost = i.hostVars.ansible_host;
  const self = { name: i.host, address: typeof ownHost === 'string' && ownHost ? ownHost : (i.defaultAddress ?? i.host) };
  const primaryName = vars.postgres_primary_host ?? membersOf(inv, vars.postgres_primary_group)[0];
  const primary = primaryName === undefined ? undefined : primaryName === i.host ? self : { name: primaryName, address: addressOf(inv, primaryName) };
  const replicas = membersOf(inv, vars.postgres_replica_group)
    .filter((n) => n !== primaryName)
    .map((name) => {
      const override = inv.hosts.get(name)?.vars.postgres_replication_slot;
      return {
        name,
        address: name === i.host ? self.address : addressOf(inv, name),
        slot: typeof override === 'string' && override ? slotName(override) : slotName(name),
      };
    });
  const names = [...new Set([...(primaryName ? [primaryName] : []), ...membersOf(inv, vars.postgres_primary_group), ...replicas.map((r) => r.name)])];
  const peers = names.filter((n) => n !== i.host).map((name) => ({ name, address: addressOf(inv, name) }));
  return { role, self, primary, replicas, peers };
}

/** pg_hba.conf ADDRESS for a host address: an IP gets /32 or /128; a CIDR or hostname stays. */
export function hbaAddress(address: string): string {
  if (address.includes('/')) return address;
  const family = isIP(address);
  return family === 4 ? `${address}/32` : family === 6 ? `${address}/128` : address;
}
