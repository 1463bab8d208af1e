// Lab support for the K3s test double (test/doubles/k3s): prepare the K3s lab hosts (Debian's
// nodejs + etcd-server through the lab's apt mirror bridge, Debian's own etcd.service masked),
// serve a K3s "release" from the controller inside the lab namespace laid out like GitHub's
// (<base>/<version, + as %2B>/k3s and sha256sum-amd64.txt), install the double by hand, run the
// double's kubectl on the controller, and wipe K3s state from hosts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labExec, LAB_NETNS, type RunResult } from '../../../lab/index.ts';
import { buildK3sDouble, DEFAULT_K3S_VERSION, type BuiltDouble } from '../../doubles/k3s/build.ts';
import type { Lab } from './use-lab.ts';

export { buildK3sDouble, DEFAULT_K3S_VERSION, type BuiltDouble };

export const K3S_SERVERS = ['master1', 'master2', 'master3'] as const;
export const K3S_AGENTS = ['worker1', 'worker2', 'worker3', 'storage1'] as const;
export const K3S_NODES = [...K3S_SERVERS, ...K3S_AGENTS] as const;
export const CONTROLLER_ADDRESS = '10.17.4.1';

const POLICY_RC = '/usr/sbin/policy-rc.d';

/**
 * Install what the double needs on K3s hosts: nodejs everywhere, etcd-server on `etcdHosts`
 * (default: the masters), with Debian's etcd.service masked and stopped so only the double's
 * etcd runs. Idempotent: hosts that have both are only checked.
 */
export async function prepareK3sHosts(lab: Lab, hosts: readonly string[] = K3S_NODES, etcdHosts: readonly string[] = K3S_SERVERS): Promise<void> {
  await Promise.all(
    hosts.map(async (h) => {
      const pkgs = etcdHosts.includes(h) ? 'nodejs etcd-server' : 'nodejs';
      const script = [
        'set -e',
        'export DEBIAN_FRONTEND=noninteractive',
        'systemctl mask etcd.service >/dev/null 2>&1 || true',
        `[ "$(dpkg-query -W -f='\${Status}\\n' ${pkgs} 2>/dev/null | grep -c 'install ok installed')" = "${pkgs.split(' ').length}" ] && exit 0`,
        `printf '#!/bin/sh\\nexit 101\\n' > ${POLICY_RC}; chmod 755 ${POLICY_RC}`,
        `trap 'rm -f ${POLICY_RC}' EXIT`,
        `apt-get install -y -q --no-install-recommends ${pkgs} >/tmp/k3s-double-apt.log 2>&1 || { apt-get update -q >>/tmp/k3s-double-apt.log 2>&1 && apt-get install -y -q --no-install-recommends ${pkgs} >>/tmp/k3s-double-apt.log 2>&1; } || { tail -20 /tmp/k3s-double-apt.log; exit 1; }`,
        'systemctl stop etcd.service >/dev/null 2>&1 || true',
      ].join('\n');
      const r = await lab.sh(h, script, { timeoutMs: 600_000 });
      if (r.code !== 0) throw new Error(`preparing ${h} for the k3s double failed: ${r.stdout}${r.stderr}`);
    }),
  );
}

/** Copy a built double to /usr/local/bin/k3s on hosts (what a role's upload does). */
export async function installK3sDouble(lab: Lab, hosts: readonly string[], built: BuiltDouble): Promise<void> {
  const data = readFileSync(built.path, 'utf8');
  await Promise.all(
    hosts.map(async (h) => {
      const r = await lab.sh(h, 'cat > /usr/local/bin/.k3s.tmp && chmod 755 /usr/local/bin/.k3s.tmp && mv /usr/local/bin/.k3s.tmp /usr/local/bin/k3s', { input: data });
      if (r.code !== 0) throw new Error(`installing the k3s double on ${h} failed: ${r.stderr}`);
    }),
  );
}

/**
 * Stop and remove every trace of K3s (double or real) from hosts: units and their drop-ins,
 * binary, state, config, CNI config. Leaves nodejs/etcd-server installed.
 */
export async function wipeK3s(lab: Lab, hosts: readonly string[] = K3S_NODES, opts: { keepBinary?: boolean } = {}): Promise<void> {
  await Promise.all(
    hosts.map((h) =>
      lab.sh(
        h,
        [
          'systemctl stop k3s.service k3s-agent.service 2>/dev/null; systemctl reset-failed k3s.service k3s-agent.service 2>/dev/null',
          'pkill -TERM -x etcd 2>/dev/null; sleep 0.2; pkill -KILL -x etcd 2>/dev/null',
          'rm -rf /etc/systemd/system/k3s.service /etc/systemd/system/k3s.service.env /etc/systemd/system/k3s.service.d /etc/systemd/system/k3s-agent.service /etc/systemd/system/k3s-agent.service.env /etc/systemd/system/k3s-agent.service.d',
          opts.keepBinary ? 'true' : 'rm -f /usr/local/bin/k3s',
          'rm -rf /var/lib/rancher /etc/rancher /run/k3s /etc/cni/net.d/05-cilium.conflist',
          'systemctl daemon-reload; true',
        ].join('; '),
      ),
    ),
  );
}

const SERVER_JS = `
const http = require('http'), fs = require('fs'), path = require('path');
const root = process.argv[2], bind = process.argv[3];
const srv = http.createServer((req, res) => {
  let p;
  try { p = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { res.writeHead(400); return res.end(); }
  const file = path.join(root, path.normalize(p).replace(/^(\\.\\.[/\\\\])+/, ''));
  if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404, {'content-type': 'text/plain'}); return res.end('Not Found\\n'); }
  const st = fs.statSync(file);
  res.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': st.size});
  if (req.method === 'HEAD') return res.end();
  fs.createReadStream(file).pipe(res);
});
srv.listen(0, bind, () => process.stdout.write(srv.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

export interface K3sRelease {
  /** Like https://github.com/k3s-io/k3s/releases/download: append /<version with + as %2B>/k3s. */
  baseUrl: string;
  /** Same layout, but sha256sum-amd64.txt lists a wrong hash for k3s. */
  badChecksumBaseUrl: string;
  /** The builds served, by version. */
  builds: Record<string, BuiltDouble>;
  /** URL of an asset: releaseUrl(base, version, 'k3s'). */
  url(version: string, asset: 'k3s' | 'sha256sum-amd64.txt' | 'k3s-airgap-images-amd64.tar.zst', base?: string): string;
  stop(): Promise<void>;
}

export const releaseAssetUrl = (base: string, version: string, asset: string) => `${base}/${encodeURIComponent(version)}/${asset}`;

/**
 * Serve K3s "releases" of the double (one per version) over HTTP on 10.17.4.1 inside the lab
 * namespace, on a free port. Each version dir holds k3s, a dummy airgap images tarball and
 * sha256sum-amd64.txt ("<sha256>  <file>" lines, as the real release).
 */
export async function startK3sRelease(versions: readonly string[] = [DEFAULT_K3S_VERSION]): Promise<K3sRelease> {
  const root = mkdtempSync(join(tmpdir(), 'drover-k3s-release-'));
  const builds: Record<string, BuiltDouble> = {};
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  for (const v of versions) {
    const built = await buildK3sDouble({ version: v });
    builds[v] = built;
    for (const [prefix, wrong] of [['', false], ['bad-checksum/', true]] as const) {
      const dir = join(root, `${prefix}k3s-io/k3s/releases/download`, v);
      mkdirSync(dir, { recursive: true });
      copyFileSync(built.path, join(dir, 'k3s'));
      const images = Buffer.from(`k3s double ${v}: no images\n`);
      writeFileSync(join(dir, 'k3s-airgap-images-amd64.tar.zst'), images);
      const k3sHash = wrong ? sha(`not the k3s binary ${v}`) : built.sha256;
      writeFileSync(join(dir, 'sha256sum-amd64.txt'), `${sha(images)}  k3s-airgap-images-amd64.tar.zst\n${k3sHash}  k3s\n`);
    }
  }
  writeFileSync(join(root, 'serve.cjs'), SERVER_JS);
  const child: ChildProcess = spawn('ip', ['netns', 'exec', LAB_NETNS, process.execPath, join(root, 'serve.cjs'), root, CONTROLLER_ADDRESS], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^(\d+)\n/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`release server exited (${code})`)));
  });
  const host = `http://${CONTROLLER_ADDRESS}:${port}`;
  const baseUrl = `${host}/k3s-io/k3s/releases/download`;
  const badChecksumBaseUrl = `${host}/bad-checksum/k3s-io/k3s/releases/download`;
  return {
    baseUrl,
    badChecksumBaseUrl,
    builds,
    url: (version, asset, base = baseUrl) => releaseAssetUrl(base, version, asset),
    stop: async () => {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Run the double's kubectl on the controller (inside the lab namespace) with a kubeconfig
 * fetched from a server (its server: line pointed wherever the caller wants, e.g. the VIP).
 */
export async function controllerKubectl(built: BuiltDouble, kubeconfigPath: string, args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
  return labExec([process.execPath, built.path, 'kubectl', '--kubeconfig', kubeconfigPath, ...args], { timeoutMs });
}
