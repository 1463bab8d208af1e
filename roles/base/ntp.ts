// Who serves time to whom: hosts of base_ntp_server_group (seed 004: infra) serve their
// subnet and follow the upstream pools; every other host follows the first of them.
// Pure: given the inventory lookup and facts, the chrony settings of one host. Servers are
// named by their peer address (lookup.addressOf: drover_peer_address, else ansible_host).
import { isIP } from 'node:net';
import type { InterfaceFact } from '../../lib/facts/types.ts';
import type { InventoryLookup } from '../../lib/run/lookup.ts';
import type { BaseVars } from './vars.ts';

export interface NtpPlan {
  server: boolean;
  servers: string[];
  pools: string[];
  allow: string[];
  localStratum?: number;
  /** Why a setting has the value it has, when it is worth saying (task msg). */
  notes: string[];
}

function v4ToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function intToV4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** '10.17.4.11/24' -> '10.17.4.0/24' (IPv4 only). */
export function networkOf(cidr: string): string | undefined {
  const [addr, len] = cidr.split('/');
  if (!addr || isIP(addr) !== 4) return undefined;
  const bits = len === undefined ? 32 : Number(len);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  return `${intToV4(Math.floor(v4ToInt(addr) / size) * size)}/${bits}`;
}

/** The subnet of the interface that holds `address`, from facts. */
export function subnetOf(interfaces: readonly InterfaceFact[], address: string): string | undefined {
  for (const i of interfaces) {
    for (const a of i.addresses) {
      if (a.split('/')[0] === address) return networkOf(a);
    }
  }
  return undefined;
}

export interface NtpInput {
  host: string;
  lookup: InventoryLookup;
  vars: Pick<BaseVars, 'base_ntp_server_group' | 'base_ntp_servers' | 'base_ntp_upstream' | 'base_ntp_allow' | 'base_ntp_local_stratum'>;
  interfaces: readonly InterfaceFact[];
  defaultIpv4: string | null;
}

export function planNtp(i: NtpInput): NtpPlan {
  const v = i.vars;
  const serverHosts = i.lookup.hostsOf(v.base_ntp_server_group);
  const server = serverHosts.includes(i.host);
  const notes: string[] = [];
  if (server) {
    let allow = v.base_ntp_allow;
    if (!allow) {
      const own = i.lookup.addressOf(i.host);
      const subnet = subnetOf(i.interfaces, own) ?? (i.defaultIpv4 ? subnetOf(i.interfaces, i.defaultIpv4) : undefined);
      allow = subnet ? [subnet] : [];
      notes.push(subnet ? `serves ${subnet} (the subnet of ${isIP(own) ? own : 'its default address'})` : 'serves nobody: no subnet found for its address (set base_ntp_allow)');
    }
    return {
      server,
      servers: v.base_ntp_servers ?? [],
      pools: v.base_ntp_servers ? [] : v.base_ntp_upstream,
      allow,
      localStratum: v.base_ntp_local_stratum,
      notes,
    };
  }
  if (v.base_ntp_servers) return { server, servers: v.base_ntp_servers, pools: [], allow: [], notes };
  const first = serverHosts[0];
  if (first === undefined) {
    notes.push(`no host in group ${v.base_ntp_server_group}: following the upstream pools`);
    return { server, servers: [], pools: v.base_ntp_upstream, allow: [], notes };
  }
  return { server, servers: [i.lookup.addressOf(first)], pools: [], allow: [], notes };
}
