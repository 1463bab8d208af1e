// The base role's files, as pure functions of typed inputs (golden-tested in
// test/unit/roles/base.test.ts).
import { parsePortSpec, type PortSpec } from '../../lib/vars/index.ts';
import type { AdminUser } from './vars.ts';

const HEADER = '# Managed by drover (role base): local changes are overwritten.';

// ---- /etc/hosts ----------------------------------------------------------------------

export interface HostEntry {
  name: string;
  address: string;
}

/** The managed block of /etc/hosts: one `address<TAB>name` line per host. */
export function hostsBlock(entries: readonly HostEntry[]): string {
  return entries.map((e) => `${e.address}\t${e.name}`).join('\n');
}

// ---- sshd ------------------------------------------------------------------------------

export interface SshdInput {
  passwordAuthentication: boolean;
  permitRootLogin: string;
  options: Readonly<Record<string, string | number | boolean>>;
}

const yesNo = (v: string | number | boolean) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));

export function sshdDropIn(i: SshdInput): string {
  const lines = [
    HEADER,
    '# sshd keeps the first value it reads for a keyword and sshd_config includes',
    '# sshd_config.d/*.conf at its top, so these win over the main file.',
    `PasswordAuthentication ${yesNo(i.passwordAuthentication)}`,
    // Keyboard-interactive is how PAM asks for a password: off too, or passwords still work.
    `KbdInteractiveAuthentication ${yesNo(i.passwordAuthentication)}`,
    `PermitRootLogin ${i.permitRootLogin}`,
    ...Object.entries(i.options).map(([k, v]) => `${k} ${yesNo(v)}`),
  ];
  return lines.join('\n') + '\n';
}

// ---- sudo ------------------------------------------------------------------------------

/** /etc/sudoers.d/drover-admins, or undefined when no admin may sudo. */
export function sudoersFile(users: readonly AdminUser[]): string | undefined {
  const sudoers = users.filter((u) => u.sudo);
  if (!sudoers.length) return undefined;
  return [HEADER, ...sudoers.map((u) => `${u.name} ALL=(ALL:ALL) ${u.sudo_nopasswd ? 'NOPASSWD: ' : ''}ALL`)].join('\n') + '\n';
}

// ---- chrony ----------------------------------------------------------------------------

export interface ChronyInput {
  /** `server X iburst` lines. */
  servers: readonly string[];
  /** `pool X iburst` lines. */
  pools: readonly string[];
  /** Subnets served (empty: not a server). */
  allow: readonly string[];
  /** `local stratum N` when serving. */
  localStratum?: number;
  /** Debian: /var/lib/chrony/chrony.drift; RHEL: /var/lib/chrony/drift. */
  driftfile: string;
}

export function chronyConf(i: ChronyInput): string {
  const lines = [HEADER];
  for (const s of i.servers) lines.push(`server ${s} iburst`);
  for (const p of i.pools) lines.push(`pool ${p} iburst`);
  lines.push(
    `driftfile ${i.driftfile}`,
    '# Step the clock when it is off by more than 1 s, in the first 3 updates only.',
    'makestep 1 3',
    'rtcsync',
  );
  if (i.allow.length) {
    lines.push('# NTP server for these subnets.');
    for (const a of i.allow) lines.push(`allow ${a}`);
    // Serve our own clock when no upstream is reachable (an isolated LAN keeps one time).
    if (i.localStratum !== undefined) lines.push(`local stratum ${i.localStratum}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * systemd drop-in for chrony in a container: Debian's unit has
 * ConditionCapability=CAP_SYS_TIME, which a container lacks, so chronyd would never start.
 * Run it with -x (never set the system clock): it still polls its sources and serves time.
 */
export function chronyContainerDropIn(container: string, daemon: string): string {
  return [
    HEADER,
    `# This host is a container (${container}) without CAP_SYS_TIME: chronyd cannot set the`,
    '# clock, so it runs with -x (do not set the system clock); it still polls and serves time.',
    '[Unit]',
    'ConditionCapability=',
    '',
    '[Service]',
    'ExecStart=',
    `ExecStart=!${daemon} $DAEMON_OPTS -x`,
    '',
  ].join('\n');
}

// ---- nftables --------------------------------------------------------------------------

export const NFT_TABLE = 'drover';
export const NFT_INCLUDE_DIR = '/etc/nftables.d';

export interface NftInput {
  allowedCidrs: readonly string[];
  protectedPorts: readonly string[];
}

function splitFamilies(cidrs: readonly string[]): { v4: string[]; v6: string[] } {
  return { v4: cidrs.filter((c) => !c.includes(':')), v6: cidrs.filter((c) => c.includes(':')) };
}

export function portText(p: PortSpec): string {
  return p.from === p.to ? String(p.from) : `${p.from}-${p.to}`;
}

/** `{ 6443, 2379-2380 }` of one protocol, or undefined when none. */
function portSet(specs: readonly PortSpec[], proto: 'tcp' | 'udp'): string | undefined {
  const ports = specs.filter((p) => p.proto === proto).map(portText);
  return ports.length ? `{ ${ports.join(', ')} }` : undefined;
}

export function parsePorts(ports: readonly string[]): PortSpec[] {
  return ports.map((p) => {
    const spec = parsePortSpec(p);
    if (!spec) throw new Error(`invalid port spec ${JSON.stringify(p)}`);
    return spec;
  });
}

/**
 * /etc/nftables.conf: one table of our own (never `flush ruleset`, which would wipe the
 * tables K3s, kube-proxy or Cilium add), recreated atomically on every load. Policy accept:
 * only the protected ports are filtered, through the chain `protected` (allowed sources
 * accept, then the `allow` chain other roles fill from /etc/nftables.d, then drop).
 */
export function nftablesConf(i: NftInput): string {
  const { v4, v6 } = splitFamilies(i.allowedCidrs);
  const ports = parsePorts(i.protectedPorts);
  const tcp = portSet(ports, 'tcp');
  const udp = portSet(ports, 'udp');
  const set = (name: string, type: string, elems: string[]) =>
    [`\tset ${name} {`, `\t\ttype ${type}`, '\t\tflags interval', ...(elems.length ? [`\t\telements = { ${elems.join(', ')} }`] : []), '\t}'];
  return [
    '#!/usr/sbin/nft -f',
    HEADER,
    `# Only table inet ${NFT_TABLE} is ours: it is deleted and recreated in one transaction, and`,
    '# the rest of the ruleset (K3s, kube-proxy, CNI tables) is left alone.',
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    '',
    `table inet ${NFT_TABLE} {`,
    ...set('allowed_v4', 'ipv4_addr', v4),
    ...set('allowed_v6', 'ipv6_addr', v6),
    '',
    '\t# Accept rules added by other roles (files in /etc/nftables.d).',
    '\tchain allow {',
    '\t}',
    '',
    '\tchain protected {',
    '\t\tip saddr @allowed_v4 accept',
    '\t\tip6 saddr @allowed_v6 accept',
    '\t\tjump allow',
    '\t\tcounter drop',
    '\t}',
    '',
    '\tchain input {',
    '\t\ttype filter hook input priority filter; policy accept;',
    '\t\tiif "lo" accept',
    '\t\tct state established,related accept',
    ...(tcp ? [`\t\ttcp dport ${tcp} jump protected`] : []),
    ...(udp ? [`\t\tudp dport ${udp} jump protected`] : []),
    '\t}',
    '}',
    '',
    `include "${NFT_INCLUDE_DIR}/*.nft"`,
    '',
  ].join('\n');
}

/**
 * Drop-in for nftables.service: Debian's ExecStop is `nft flush ruleset`, which would also
 * remove every table K3s and the CNI created; stopping the service removes only ours.
 */
export function nftablesServiceDropIn(nft: string): string {
  return [HEADER, '[Service]', 'ExecStop=', `ExecStop=-${nft} delete table inet ${NFT_TABLE}`, ''].join('\n');
}
