// From variables, facts and the inventory to the keepalived model: which interface holds the
// host's address, who the unicast peers are, and who starts as MASTER. Pure, so the decisions
// are unit-tested without a host. Addresses are the ones peers use (lookup.addressOf:
// drover_peer_address, else ansible_host); peers' priorities are their merged variables
// (inventory < play vars < -e), parsed by this role's own schema.
import { isIP } from 'node:net';
import type { Facts } from '../../lib/facts/types.ts';
import type { InventoryLookup } from '../../lib/run/lookup.ts';
import type { KeepalivedConfigInput } from './templates.ts';
import { priority as prioritySchema, type KeepalivedVars } from './vars.ts';

export const CHECK_NAME = 'chk_haproxy';

/** The host's own IP: its peer address when that is an IP, else the default-route address from facts. */
export function ownAddress(lookup: InventoryLookup, host: string, facts: Facts): string | undefined {
  const a = lookup.addressOf(host);
  if (isIP(a)) return a;
  if (isIP(host)) return host;
  return facts.defaultIpv4 ?? undefined;
}

/** The interface carrying `address`, with that address's prefix length. */
export function interfaceFor(facts: Facts, address: string): { name: string; prefix: number } | undefined {
  for (const i of facts.interfaces) {
    for (const cidr of i.addresses) {
      const [a, len] = cidr.split('/');
      if (a === address) return { name: i.name, prefix: len === undefined ? (isIP(a) === 6 ? 128 : 32) : Number(len) };
    }
  }
  return undefined;
}

/** A peer's keepalived_priority as its own run parses it (default 100). */
export function priorityOf(lookup: InventoryLookup, host: string): number {
  const p = lookup.varsOf(host).keepalived_priority;
  if (p === undefined || p === null) return 100;
  const r = prioritySchema.safeParse(p);
  if (!r.success) throw new ModelError(`keepalived_priority of peer ${host} is ${JSON.stringify(p)}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/**
 * Prefix length of the interface's address in the same family as `vip` (the host's own
 * address first, link-local IPv6 never), or undefined.
 */
export function subnetPrefix(facts: Facts, iface: string, vip: string, own: string | undefined): number | undefined {
  const family = isIP(vip);
  const addrs = (facts.interfaces.find((i) => i.name === iface)?.addresses ?? [])
    .map((c) => c.split('/'))
    .filter(([a, len]) => a !== undefined && len !== undefined && isIP(a) === family && !/^fe80:/i.test(a));
  const pick = addrs.find(([a]) => a === own) ?? addrs[0];
  return pick ? Number(pick[1]) : undefined;
}

/** MASTER when this host's priority is strictly the highest of the group (ties: the first host). */
export function initialState(lookup: InventoryLookup, host: string, group: string, priority: number): 'MASTER' | 'BACKUP' {
  const members = lookup.hostsOf(group);
  const me = members.indexOf(host);
  for (const [i, p] of members.entries()) {
    if (p === host) continue;
    const other = priorityOf(lookup, p);
    if (other > priority || (other === priority && (me < 0 || i < me))) return 'BACKUP';
  }
  return 'MASTER';
}

export class ModelError extends Error {
  override name = 'ModelError';
}

export interface ModelInput {
  host: string;
  vars: KeepalivedVars;
  lookup: InventoryLookup;
  facts: Facts;
}

export function keepalivedModel({ host, vars: v, lookup, facts }: ModelInput): KeepalivedConfigInput {
  const own = ownAddress(lookup, host, facts);
  const found = own ? interfaceFor(facts, own) : undefined;
  const iface = v.keepalived_interface ?? found?.name;
  if (!iface) {
    const names = facts.interfaces.map((i) => `${i.name} (${i.addresses.join(', ') || 'no address'})`).join('; ');
    throw new ModelError(
      `cannot tell which interface holds ${own ?? "this host's address"}: set keepalived_interface (interfaces: ${names || 'none in facts'})`,
    );
  }
  // A VIP takes the subnet of the interface's own address of its family unless given.
  const vips = v.keepalived_vips.map((x) => ({
    name: x.name,
    address: x.address,
    prefix: x.prefix ?? subnetPrefix(facts, iface, x.address, own) ?? (isIP(x.address) === 6 ? 128 : 32),
  }));

  let unicast: KeepalivedConfigInput['unicast'];
  if (v.keepalived_unicast) {
    if (!own) throw new ModelError('keepalived_unicast needs this host\'s IP address (drover_peer_address, ansible_host or a default route)');
    const peers = lookup.hostsOf(v.keepalived_group).filter((h) => h !== host);
    if (!peers.length) throw new ModelError(`keepalived_unicast: group "${v.keepalived_group}" has no other host to peer with`);
    const addrs = peers.map((p) => {
      const a = lookup.addressOf(p);
      if (!isIP(a)) throw new ModelError(`keepalived_unicast: peer ${p} has no IP address (its address is "${a}": set drover_peer_address or ansible_host)`);
      return a;
    });
    unicast = { src: own, peers: addrs };
  }

  return {
    routerId: host,
    instance: v.keepalived_instance_name,
    state: v.keepalived_state ?? (v.keepalived_preempt ? initialState(lookup, host, v.keepalived_group, v.keepalived_priority) : 'BACKUP'),
    interface: iface,
    virtualRouterId: v.keepalived_virtual_router_id,
    priority: v.keepalived_priority,
    advertInt: v.keepalived_advert_int,
    preempt: v.keepalived_preempt,
    preemptDelay: v.keepalived_preempt_delay,
    ...(unicast ? { unicast } : {}),
    ...(v.keepalived_auth_pass !== undefined ? { authPass: v.keepalived_auth_pass } : {}),
    vips,
    check: {
      name: CHECK_NAME,
      script: v.keepalived_check_script,
      interval: v.keepalived_check_interval,
      fall: v.keepalived_check_fall,
      rise: v.keepalived_check_rise,
      weight: v.keepalived_check_weight,
    },
  };
}
