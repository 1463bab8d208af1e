// /etc/haproxy/haproxy.cfg as a pure function of a typed model (golden-tested in
// test/unit/roles/haproxy.test.ts). L4 only: the API and ingress frontends pass TCP through;
// TLS stays end to end between clients and the K3s servers / Traefik.
import { REDACTED } from '../../lib/secrets/redact.ts';

const HEADER = '# Managed by drover (role haproxy): local changes are overwritten.';

export interface HaproxyServer {
  /** Inventory host name. */
  name: string;
  /** Peer address (ctx.addressOf: drover_peer_address, else ansible_host, else the name). */
  address: string;
  port: number;
}

export interface HaproxyBackend {
  name: string;
  /** Which inventory group it was built from (for the comment). */
  group: string;
  servers: HaproxyServer[];
}

export interface HaproxyFrontend {
  name: string;
  /** What it is for, as a comment line. */
  comment: string;
  bindAddress: string;
  port: number;
  backend: string;
}

export interface HaproxyStats {
  bindAddress: string;
  port: number;
  uri: string;
  user: string;
  password: string;
}

export interface HaproxyConfigInput {
  maxconn: number;
  statsSocket: string;
  balance: string;
  check: { inter: string; fall: number; rise: number };
  timeouts: { connect: string; client: string; server: string; tunnel: string };
  frontends: HaproxyFrontend[];
  backends: HaproxyBackend[];
  stats?: HaproxyStats;
  /** Raw text appended at the end. */
  extra: string;
}

/** `*:6443`, `10.0.0.5:6443`; an IPv6 address keeps its colons (HAProxy reads the port after the last one). */
export function bindSpec(address: string, port: number): string {
  return `${address}:${port}`;
}

/** One HAProxy word in single quotes: nothing inside is interpreted (no $VAR, no escapes). */
export function haproxyQuote(word: string): string {
  if (/['\x00-\x1f\x7f]/.test(word)) throw new Error('a single-quoted HAProxy word cannot hold a quote or control characters');
  return `'${word}'`;
}

export function renderHaproxyConfig(c: HaproxyConfigInput): string {
  const out: string[] = [
    HEADER,
    'global',
    '    log /dev/log local0',
    '    log /dev/log local1 notice',
    '    chroot /var/lib/haproxy',
    `    stats socket ${c.statsSocket} mode 660 level admin`,
    '    stats timeout 30s',
    '    user haproxy',
    '    group haproxy',
    '    daemon',
    `    maxconn ${c.maxconn}`,
    '',
    'defaults',
    '    log global',
    '    mode tcp',
    '    option tcplog',
    '    option dontlognull',
    `    timeout connect ${c.timeouts.connect}`,
    `    timeout client ${c.timeouts.client}`,
    `    timeout server ${c.timeouts.server}`,
    `    timeout tunnel ${c.timeouts.tunnel}`,
  ];
  for (const f of c.frontends) {
    out.push('', `# ${f.comment}`, `frontend ${f.name}`, `    bind ${bindSpec(f.bindAddress, f.port)}`, `    default_backend ${f.backend}`);
  }
  const check = `check inter ${c.check.inter} fall ${c.check.fall} rise ${c.check.rise}`;
  for (const b of c.backends) {
    out.push('', `# hosts of inventory group ${b.group}`, `backend ${b.name}`, `    balance ${c.balance}`, '    option tcp-check');
    for (const s of b.servers) out.push(`    server ${s.name} ${s.address}:${s.port} ${check}`);
  }
  if (c.stats) {
    const s = c.stats;
    out.push(
      '',
      '# Stats page (HTTP basic auth)',
      'listen stats',
      '    mode http',
      '    option httplog',
      `    bind ${bindSpec(s.bindAddress, s.port)}`,
      '    stats enable',
      `    stats uri ${s.uri}`,
      '    stats refresh 10s',
      `    stats auth ${haproxyQuote(`${s.user}:${s.password}`)}`,
    );
  }
  const extra = c.extra.trim() ? c.extra.replace(/\s+$/, '') : '';
  if (extra) out.push('', '# haproxy_extra_config', extra);
  return out.join('\n') + '\n';
}

/**
 * The config text with its credentials masked, for --diff: the given secret values, and any
 * `stats auth` / userlist `password` argument (an old file may hold a previous password the
 * redaction registry never saw).
 */
export function maskHaproxySecrets(text: string, secrets: readonly string[]): string {
  let t = text;
  for (const s of secrets) if (s) t = t.split(s).join(REDACTED);
  return t
    .replace(/^(\s*stats\s+auth\s+)\S.*$/gm, `$1${REDACTED}`)
    .replace(/^(\s*user\s+\S+\s+(?:insecure-)?password\s+)\S.*$/gm, `$1${REDACTED}`);
}
