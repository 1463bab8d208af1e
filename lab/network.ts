// The lab network: namespace `lab` with bridge lab0 (the controller's side), and one
// namespace per host joined to the bridge by a veth pair. Nothing is created in the
// machine's own network namespace: veths are made inside `lab` and moved straight to h-<name>.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { run, succeeds } from './exec.ts';
import { BRIDGE, LAB_NETNS, hostNetns } from './paths.ts';

const ip = (...args: string[]) => run(['ip', ...args]);

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

export async function listNetns(): Promise<string[]> {
  const r = await run(['ip', '-j', 'netns', 'list'], { check: false });
  if (r.code !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name);
}

/** Interface names are capped at 15 characters: long host names get a stable hash. */
export function vethName(host: string): string {
  const n = `v-${host}`;
  return n.length <= 15 ? n : `v-${createHash('sha256').update(host).digest('hex').slice(0, 13)}`;
}

/** A host's MAC follows from its address (02:00:<ipv4>, locally administered): a restarted
 *  host keeps its MAC, so neighbour caches on the bridge and in other hosts stay right
 *  (a new random MAC left the lab's REACHABLE entry pointing at the old one for ~30 s). */
export function hostMac(address: string): string {
  const octets = address.split('.').map((o) => Number(o).toString(16).padStart(2, '0'));
  return ['02', '00', ...octets].join(':');
}

async function addrsOf(netns: string, dev: string): Promise<string[]> {
  const r = await run(['ip', '-n', netns, '-j', 'addr', 'show', 'dev', dev], { check: false });
  if (r.code !== 0) return [];
  const j = JSON.parse(r.stdout) as { addr_info?: { local: string; prefixlen: number }[] }[];
  return (j[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}

/** Create (or repair) the lab namespace and its bridge with the given addresses (CIDR). */
export async function ensureLabNetwork(addresses: readonly string[]): Promise<void> {
  if (netnsExists(LAB_NETNS) && !(await succeeds(['ip', '-n', LAB_NETNS, 'link', 'show', 'lo']))) {
    // A name left behind without its namespace (e.g. a crash during creation).
    await run(['ip', 'netns', 'del', LAB_NETNS], { check: false });
  }
  if (!netnsExists(LAB_NETNS)) await ip('netns', 'add', LAB_NETNS);
  await ip('-n', LAB_NETNS, 'link', 'set', 'lo', 'up');
  if (!(await succeeds(['ip', '-n', LAB_NETNS, 'link', 'show', BRIDGE]))) {
    // No multicast snooping: VRRP (keepalived) adverts must reach every port.
    await ip('-n', LAB_NETNS, 'link', 'add', BRIDGE, 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0');
  }
  const have = await addrsOf(LAB_NETNS, BRIDGE);
  for (const a of addresses) if (!have.includes(a)) await ip('-n', LAB_NETNS, 'addr', 'add', a, 'dev', BRIDGE);
  await ip('-n', LAB_NETNS, 'link', 'set', BRIDGE, 'up');
}

export async function removeLabNetwork(): Promise<void> {
  if (netnsExists(LAB_NETNS)) await run(['ip', 'netns', 'del', LAB_NETNS], { check: false });
}

/** Fresh namespace for a host: any old one (and its veth) is removed first. Commands for
 *  one namespace go through one `ip -batch` (fewer processes when many hosts start at once). */
export async function createHostNetwork(
  name: string,
  address: string,
  prefixLength: number,
  gateway: string,
): Promise<void> {
  await removeHostNetwork(name);
  const ns = hostNetns(name);
  const veth = vethName(name);
  await ip('netns', 'add', ns);
  await run(['ip', '-n', LAB_NETNS, '-batch', '-'], {
    input: [
      `link add ${veth} type veth peer name eth0 address ${hostMac(address)} netns ${ns}`,
      `link set ${veth} master ${BRIDGE} up`,
      '',
    ].join('\n'),
  });
  await run(['ip', '-n', ns, '-batch', '-'], {
    input: [
      'link set lo up',
      `addr add ${address}/${prefixLength} dev eth0`,
      'link set eth0 up',
      `route add default via ${gateway}`,
      '',
    ].join('\n'),
  });
}

export async function removeHostNetwork(name: string): Promise<void> {
  const ns = hostNetns(name);
  // Deleting the namespace destroys eth0 and with it the veth peer on the bridge.
  if (netnsExists(ns)) await run(['ip', 'netns', 'del', ns], { check: false });
  if (netnsExists(LAB_NETNS)) await run(['ip', '-n', LAB_NETNS, 'link', 'del', vethName(name)], { check: false });
}
