// `k3s agent`: validate the cluster (CA hash from the token, credentials) every 2 s until it
// works, logging K3s's "Failed to validate connection to cluster" line; register the Node with
// the node password; open the client load balancer on 127.0.0.1:6444; then READY.
import { mkdirSync } from 'node:fs';
import { configPath, Flags, readConfigFiles, resolveConfig } from './config.ts';
import { writeAtomic } from './certs.ts';
import { request } from './http.ts';
import { error, fatal, info, setDebug, warn, debug } from './log.ts';
import { notifyReady } from './notify.ts';
import { checkCaHash, parseToken } from './token.ts';
import { COMMIT, hasCniConfig, knobs, nodeIdentity, nodePassword, readTokenFlag, sleep, tcpProxy, VERSION, writeCiliumConflist } from './common.ts';

export async function runAgent(args: string[]): Promise<void> {
  let resolved;
  try {
    resolved = resolveConfig({ cmd: 'agent', args, env: process.env, files: readConfigFiles(configPath(args, process.env)) });
  } catch (e) {
    return fatal((e as Error).message);
  }
  const f = new Flags(resolved.values);
  setDebug(f.bool('debug'));
  for (const w of resolved.warnings) warn(w);
  info(`Starting k3s agent ${VERSION} (${COMMIT})`);
  const server = f.str('server').replace(/\/+$/, '');
  if (!server) fatal('--server is required');
  const tokenText = readTokenFlag(f.str('token'), f.str('token-file'));
  if (!tokenText) fatal('--token is required');
  const tok = parseToken(tokenText);
  const auth = { user: tok.username ?? 'node', password: tok.password };
  const dataDir = f.str('data-dir', '/var/lib/rancher/k3s');
  mkdirSync(`${dataDir}/agent`, { recursive: true, mode: 0o700 });
  const id = nodeIdentity(f.str('node-name'), f.list('node-ip'));
  const nodePw = nodePassword();
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));

  let caPem = '';
  let flannelBackend = 'vxlan';
  for (;;) {
    try {
      const r = await request(`${server}/cacerts`, { tls: { verify: false }, timeoutMs: 10_000 });
      if (r.status !== 200) throw new Error(`${server}/cacerts: ${r.status} ${r.statusText}`);
      const hashErr = checkCaHash(tok, r.body);
      if (hashErr) throw new Error(hashErr);
      const cfgUrl = `${server}/v1-k3s/config`;
      const c = await request(cfgUrl, { basicAuth: auth, tls: { ca: r.body, verify: true }, timeoutMs: 10_000 });
      if (c.status !== 200) throw new Error(`token is not valid: ${cfgUrl}: ${c.status} ${c.statusText}`);
      caPem = r.body;
      flannelBackend = (JSON.parse(c.body) as { critical: Record<string, string> }).critical['flannel-backend'] ?? 'vxlan';
      break;
    } catch (e) {
      error(`Failed to validate connection to cluster at ${server}: ${(e as Error).message}`);
      await sleep(2);
    }
  }
  writeAtomic(`${dataDir}/agent/server-ca.crt`, caPem, 0o644);

  let apiservers: string[] = [];
  const refreshServers = async () => {
    try {
      const r = await request(`${server}/v1-k3s/apiservers`, { basicAuth: auth, tls: { ca: caPem }, timeoutMs: 5000 });
      if (r.status === 200) apiservers = JSON.parse(r.body) as string[];
    } catch (e) {
      debug(`apiservers: ${(e as Error).message}`);
    }
  };
  await refreshServers();
  const upstreams = () => {
    const u = new URL(server);
    const list = apiservers.map((s) => ({ host: s.replace(/:\d+$/, ''), port: Number(s.replace(/^.*:/, '')) }));
    return [...list, { host: u.hostname, port: Number(u.port || 443) }];
  };
  const lbPort = Number(f.str('lb-server-port', '6444'));
  await tcpProxy(lbPort, upstreams).catch((e) => fatal(`failed to start client load balancer on 127.0.0.1:${lbPort}: ${(e as Error).message}`));
  info(`Running load balancer k3s-agent-load-balancer 127.0.0.1:${lbPort} -> [${upstreams().map((u) => `${u.host}:${u.port}`).join(' ')}]`);

  const register = async (heartbeat: boolean): Promise<{ cni: string | null }> => {
    const body = JSON.stringify({
      name: id.name, hostname: id.hostname, ip: id.ip, server: false, labels: f.list('node-label'), taints: f.list('node-taint'),
      password: nodePw, networkReady: flannelBackend !== 'none' || hasCniConfig(), heartbeat,
    });
    const r = await request(`https://127.0.0.1:${lbPort}/v1-k3s/k3s-double/node`, { method: 'POST', body, basicAuth: auth, tls: { ca: caPem }, timeoutMs: 10_000, headers: { 'content-type': 'application/json' } });
    if (r.status !== 200) throw new Error(r.body.trim() || `${r.status} ${r.statusText}`);
    return JSON.parse(r.body) as { cni: string | null };
  };
  for (;;) {
    try {
      const r = await register(false);
      if (r.cni) writeCiliumConflist();
      break;
    } catch (e) {
      error(`Failed to register node ${id.name}: ${(e as Error).message}`);
      await sleep(2);
    }
  }
  info('k3s agent is up and running');
  notifyReady();
  const tick = async () => {
    try {
      const r = await register(true);
      if (r.cni) writeCiliumConflist();
      await refreshServers();
    } catch (e) {
      debug(`heartbeat: ${(e as Error).message}`);
    }
    setTimeout(tick, knobs.heartbeat * 1000);
  };
  setTimeout(tick, knobs.heartbeat * 1000);
}
