// The lab's view of an inventory: which hosts to boot, their addresses, python or not.
// Parsing is the project's own loader (lib/inventory); this only reads the lab's vars.
import { loadInventory } from '../lib/inventory/index.ts';
import type { Inventory } from '../lib/inventory/types.ts';

export interface LabHost {
  name: string;
  /** ansible_host: the host's address on the lab bridge. */
  address: string;
  /** lab_python: give this host python3 (Ansible needs it; the engine must not). */
  python: boolean;
  groups: string[];
}

export interface LabTopology {
  sources: string[];
  /** lab_bridge_address: the controller's address on the bridge (hosts' default gateway). */
  bridgeAddress: string;
  /** lab_prefix_length. */
  prefixLength: number;
  hosts: LabHost[];
}

export const DEFAULT_BRIDGE_ADDRESS = '10.17.4.1';
export const DEFAULT_PREFIX_LENGTH = 24;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function ipToInt(ip: string): number {
  const m = IPV4.exec(ip);
  if (!m) throw new Error(`not an IPv4 address: ${ip}`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((a, p) => a * 256 + p, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function sameSubnet(a: string, b: string, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  return Math.floor(ipToInt(a) / size) === Math.floor(ipToInt(b) / size);
}

const truthy = (v: unknown): boolean => v === true || v === 'true' || v === 'yes' || v === 1 || v === 'True';

/** Host names become netns and file names: keep them to a safe alphabet. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function topologyFrom(inv: Inventory): LabTopology {
  // Lab-wide settings come from the hosts' merged vars (so group_vars/all works too);
  // every host must agree, there is one bridge.
  const one = (key: string, fallback: string | number): string => {
    const values = new Set([...inv.hosts.values()].map((h) => String(h.vars[key] ?? fallback)));
    if (values.size > 1) throw new Error(`${key} differs between hosts: ${[...values].join(', ')}`);
    return [...values][0] ?? String(fallback);
  };
  const bridgeAddress = one('lab_bridge_address', DEFAULT_BRIDGE_ADDRESS);
  const prefixLength = Number(one('lab_prefix_length', DEFAULT_PREFIX_LENGTH));
  if (!Number.isInteger(prefixLength) || prefixLength < 8 || prefixLength > 30) {
    throw new Error(`lab_prefix_length must be 8..30, got ${prefixLength}`);
  }
  ipToInt(bridgeAddress);
  const hosts: LabHost[] = [];
  const byAddr = new Map<string, string>();
  for (const h of inv.hosts.values()) {
    if (!NAME.test(h.name)) throw new Error(`host name not usable in the lab: ${JSON.stringify(h.name)}`);
    const address = h.vars.ansible_host;
    if (typeof address !== 'string') throw new Error(`host ${h.name}: ansible_host (an IPv4 address) is required`);
    ipToInt(address);
    if (!sameSubnet(address, bridgeAddress, prefixLength) || address === bridgeAddress) {
      throw new Error(`host ${h.name}: ${address} is not a host address in ${bridgeAddress}/${prefixLength}`);
    }
    const dup = byAddr.get(address);
    if (dup) throw new Error(`hosts ${dup} and ${h.name} share the address ${address}`);
    byAddr.set(address, h.name);
    hosts.push({ name: h.name, address, python: truthy(h.vars.lab_python), groups: h.groups });
  }
  if (hosts.length === 0) throw new Error(`no hosts in ${inv.sources.join(', ')}`);
  return { sources: inv.sources, bridgeAddress, prefixLength, hosts };
}

/** The one place that turns an inventory path into a lab topology. */
export async function readTopology(path: string): Promise<LabTopology> {
  return topologyFrom(await loadInventory([path]));
}
