// Who is who among the database hosts, from the inventory alone (no host is asked): this
// host's role, the primary, the replicas with their slot names, and every address: the one
// peers use (lookup.addressOf: drover_peer_address, else ansible_host), from merged variables.
import { isIP } from 'node:net';
import type { InventoryLookup } from '../../lib/run/lookup.ts';

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
  lookup: InventoryLookup;
  groups: readonly string[];
  /** Fallback address for this host when neither drover_peer_address nor ansible_host is set. */
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

export function pgTopology(i: TopologyInput): PgTopology {
  const { lookup, vars } = i;
  const role = vars.postgres_role ?? (i.groups.includes(vars.postgres_replica_group) ? 'replica' : 'primary');
  // addressOf falls back to the name: then this host's own default-route address is better.
  const own = lookup.addressOf(i.host);
  const self = { name: i.host, address: own !== i.host ? own : (i.defaultAddress ?? i.host) };
  const primaryName = vars.postgres_primary_host ?? lookup.hostsOf(vars.postgres_primary_group)[0];
  const primary = primaryName === undefined ? undefined : primaryName === i.host ? self : { name: primaryName, address: lookup.addressOf(primaryName) };
  const replicas = lookup
    .hostsOf(vars.postgres_replica_group)
    .filter((n) => n !== primaryName)
    .map((name) => {
      const override = lookup.varsOf(name).postgres_replication_slot;
      return {
        name,
        address: name === i.host ? self.address : lookup.addressOf(name),
        slot: typeof override === 'string' && override ? slotName(override) : slotName(name),
      };
    });
  const names = [...new Set([...(primaryName ? [primaryName] : []), ...lookup.hostsOf(vars.postgres_primary_group), ...replicas.map((r) => r.name)])];
  const peers = names.filter((n) => n !== i.host).map((name) => ({ name, address: lookup.addressOf(name) }));
  return { role, self, primary, replicas, peers };
}

/** pg_hba.conf ADDRESS for a host address: an IP gets /32 or /128; a CIDR or hostname stays. */
export function hbaAddress(address: string): string {
  if (address.includes('/')) return address;
  const family = isIP(address);
  return family === 4 ? `${address}/32` : family === 6 ? `${address}/128` : address;
}
