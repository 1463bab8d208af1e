// The k3s-prereqs role's files and text edits, as pure functions (golden-tested).
import type { PortSpec } from '../../lib/vars/index.ts';
import { NFT_TABLE, parsePorts, portText } from './from-base.ts';

const HEADER = '# Managed by drover (role k3s-prereqs): local changes are overwritten.';

/** /etc/modules-load.d/k3s.conf */
export function modulesLoadConf(modules: readonly string[]): string {
  return [HEADER, ...modules].join('\n') + '\n';
}

/** True for an fstab entry (not a comment) whose type field is swap. */
export function isSwapLine(line: string): boolean {
  const t = line.trim();
  if (!t || t.startsWith('#')) return false;
  return t.split(/\s+/)[2] === 'swap';
}

/** fstab with every active swap line commented out (kept, so it is easy to undo). */
export function commentSwapLines(fstab: string): string {
  return fstab
    .split('\n')
    .map((l) => (isSwapLine(l) ? `# ${l}` : l))
    .join('\n');
}

export interface K3sNftInput {
  ports: readonly string[];
  /** Node addresses and cluster CIDRs: may reach every K3s port. */
  trusted: readonly string[];
  /** May reach the API port only (load balancers). */
  apiClients: readonly string[];
  apiPort: number;
}

const set = (items: readonly string[]) => `{ ${items.join(', ')} }`;

function byProto(ports: readonly PortSpec[], proto: 'tcp' | 'udp'): string[] {
  return ports.filter((p) => p.proto === proto).map(portText);
}

/**
 * /etc/nftables.d/k3s-prereqs.nft, included by role base's /etc/nftables.conf after it
 * recreates table inet drover: the K3s ports go through base's `protected` chain (allowed
 * sources, then `allow`, then drop), and `allow` accepts them from the nodes. Chains are
 * declared (empty) too, so the file also parses alone (`nft -c -f`) and never replaces
 * base's definitions.
 */
export function k3sNftables(i: K3sNftInput): string {
  const ports = parsePorts(i.ports);
  const tcp = byProto(ports, 'tcp');
  const udp = byProto(ports, 'udp');
  const v4 = (xs: readonly string[]) => xs.filter((x) => !x.includes(':'));
  const v6 = (xs: readonly string[]) => xs.filter((x) => x.includes(':'));
  const allow: string[] = [];
  for (const [fam, pick] of [['ip', v4], ['ip6', v6]] as const) {
    const trusted = pick(i.trusted);
    if (trusted.length) {
      if (tcp.length) allow.push(`\t\t${fam} saddr ${set(trusted)} tcp dport ${set(tcp)} accept`);
      if (udp.length) allow.push(`\t\t${fam} saddr ${set(trusted)} udp dport ${set(udp)} accept`);
    }
    const clients = pick(i.apiClients);
    if (clients.length) allow.push(`\t\t${fam} saddr ${set(clients)} tcp dport ${i.apiPort} accept`);
  }
  return [
    '#!/usr/sbin/nft -f',
    HEADER,
    `# Included by /etc/nftables.conf (role base) inside its reload of table inet ${NFT_TABLE}:`,
    '# K3s, etcd, kubelet, VXLAN and WireGuard ports reachable from the cluster (and from',
    "# base's allowed sources), dropped for everyone else.",
    `table inet ${NFT_TABLE} {`,
    '\tchain allow {',
    ...allow,
    '\t}',
    '',
    '\tchain protected {',
    '\t}',
    '',
    '\tchain input {',
    ...(tcp.length ? [`\t\ttcp dport ${set(tcp)} jump protected`] : []),
    ...(udp.length ? [`\t\tudp dport ${set(udp)} jump protected`] : []),
    '\t}',
    '}',
    '',
  ].join('\n');
}
