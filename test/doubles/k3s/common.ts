// Pieces shared by `k3s server` and `k3s agent`: version, node identity, the node password,
// the CNI config check, timing knobs, and small process helpers.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import net from 'node:net';
import { writeAtomic } from './certs.ts';
import { CILIUM_CONFLIST } from './manifests.ts';
import { info } from './log.ts';

declare const __K3S_DOUBLE_VERSION__: string;
declare const __K3S_DOUBLE_COMMIT__: string;

export const VERSION = typeof __K3S_DOUBLE_VERSION__ === 'string' ? __K3S_DOUBLE_VERSION__ : 'v1.31.4+k3s1';
export const COMMIT = typeof __K3S_DOUBLE_COMMIT__ === 'string' ? __K3S_DOUBLE_COMMIT__ : '00000000';

/** Timing knobs (seconds), overridable by environment for quick tests. Real K3s: 15 s promote loop. */
export const knobs = {
  promoteInterval: num('K3S_DOUBLE_PROMOTE_INTERVAL', 3),
  heartbeat: num('K3S_DOUBLE_HEARTBEAT_INTERVAL', 5),
  nodeGrace: num('K3S_DOUBLE_NODE_MONITOR_GRACE', 40),
  learnerTimeout: num('K3S_DOUBLE_LEARNER_TIMEOUT', 300),
  joinRetry: num('K3S_DOUBLE_JOIN_RETRY', 5),
  promoteMinAge: num('K3S_DOUBLE_PROMOTE_MIN_AGE', 6),
};

function num(env: string, dflt: number): number {
  const v = Number(process.env[env]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

export const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

/** The IPv4 address of the interface holding the default route (K3s's node-ip default). */
export function defaultIp(): string {
  let iface: string | undefined;
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1] === '00000000') {
        iface = f[0];
        break;
      }
    }
  } catch {
    /* no /proc: fall through */
  }
  const ifs = networkInterfaces();
  const pick = (name: string) => ifs[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
  if (iface && pick(iface)) return pick(iface)!;
  for (const name of Object.keys(ifs)) if (pick(name)) return pick(name)!;
  throw new Error('unable to find default interface IP: no default route');
}

export function nodeIdentity(nodeName: string, nodeIps: readonly string[]): { name: string; hostname: string; ip: string } {
  const host = hostname();
  return { name: (nodeName || host).toLowerCase(), hostname: host, ip: nodeIps[0] ?? defaultIp() };
}

export const NODE_PASSWORD_FILE = '/etc/rancher/node/password';

export function nodePassword(): string {
  if (existsSync(NODE_PASSWORD_FILE)) return readFileSync(NODE_PASSWORD_FILE, 'utf8').trim();
  mkdirSync('/etc/rancher/node', { recursive: true, mode: 0o700 });
  const pw = randomBytes(16).toString('hex');
  writeAtomic(NODE_PASSWORD_FILE, `${pw}\n`, 0o600);
  return pw;
}

export const CNI_DIR = '/etc/cni/net.d';

export function hasCniConfig(): boolean {
  if (!existsSync(CNI_DIR)) return false;
  return readdirSync(CNI_DIR).some((f) => /\.(conflist|conf|json)$/.test(f));
}

/** What Cilium's agent does on each node once it runs: drop its CNI config. */
export function writeCiliumConflist(): void {
  const path = `${CNI_DIR}/05-cilium.conflist`;
  if (existsSync(path)) return;
  mkdirSync(CNI_DIR, { recursive: true });
  writeFileSync(path, CILIUM_CONFLIST);
  info(`Wrote CNI config ${path}`);
}

/** A TCP proxy like K3s's client load balancer: tries each upstream in turn. */
export function tcpProxy(listenPort: number, upstreams: () => { host: string; port: number }[]): Promise<net.Server> {
  const srv = net.createServer((client) => {
    const list = upstreams();
    let i = 0;
    const tryNext = () => {
      const up = list[i++];
      if (!up) {
        client.destroy();
        return;
      }
      const s = net.connect(up.port, up.host);
      s.once('connect', () => {
        client.pipe(s);
        s.pipe(client);
        s.on('error', () => client.destroy());
        client.on('error', () => s.destroy());
      });
      s.once('error', () => tryNext());
    };
    client.on('error', () => undefined);
    tryNext();
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(listenPort, '127.0.0.1', () => resolve(srv));
  });
}

export function readTokenFlag(token: string, tokenFile: string): string {
  if (token) return token;
  if (tokenFile) return readFileSync(tokenFile, 'utf8').trim();
  return '';
}
