// `k3s server`: a real etcd member as a child, the supervisor + a small Kubernetes API on :6443
// backed by that etcd, the join protocol (cacerts, token CA hash, server-bootstrap, critical
// config, learner add), the leader's learner promotion and EtcdIsVoter reconcile, Node
// heartbeats, the manifests watcher, and READY only once etcd has quorum and the API serves.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { stringify } from 'yaml';
import { configPath, Flags, readConfigFiles, resolveConfig } from './config.ts';
import { criticalMismatches, criticalOf, CRITICAL_MISMATCH, type CriticalConfig } from './critical.ts';
import { newCa, newLeaf, readPair, writeAtomic, writePair, type KeyPair } from './certs.ts';
import { Etcd, EtcdError, type EtcdMember } from './etcd-client.ts';
import { clientUrlOf, peerUrlOf, startEtcd } from './etcd-proc.ts';
import { request, jsonOf } from './http.ts';
import { debug, error, fatal, info, setDebug, warn } from './log.ts';
import { CNI_KEY, canDeploy, chartHash, helmChartKey, isCiliumChart, scanManifests } from './manifests.ts';
import { buildNode, conditionOf, etcdVoterCondition, matchSelector, nodeKey, NODE_PREFIX, setCondition, type Node } from './nodes.ts';
import { notifyReady } from './notify.ts';
import { servingSans } from './sans.ts';
import { caHashOf, checkCaHash, formatToken, isBootstrapToken, parseToken } from './token.ts';
import { COMMIT, hasCniConfig, knobs, nodeIdentity, nodePassword, readTokenFlag, sleep, tcpProxy, VERSION, writeCiliumConflist } from './common.ts';

interface Bootstrap {
  serverCA: KeyPair;
  clientCA: KeyPair;
}

interface NodeRegistration {
  name: string;
  hostname: string;
  ip: string;
  server: boolean;
  labels: string[];
  taints: string[];
  password: string;
  networkReady: boolean;
  /** A heartbeat never re-creates a deleted Node (the kubelet does that only on restart). */
  heartbeat: boolean;
}

const PASSWORD_REJECTED =
  "Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' may not match server node-passwd entry, try enabling a unique node name with the --with-node-id flag";

export async function runServer(args: string[]): Promise<void> {
  const resolved = (() => {
    try {
      const path = configPath(args, process.env);
      return resolveConfig({ cmd: 'server', args, env: process.env, files: readConfigFiles(path) });
    } catch (e) {
      return fatal((e as Error).message);
    }
  })();
  const f = new Flags(resolved.values);
  setDebug(f.bool('debug'));
  for (const w of resolved.warnings) warn(w);
  info(`Starting k3s ${VERSION} (${COMMIT})`);

  const dataDir = f.str('data-dir', '/var/lib/rancher/k3s');
  const serverDir = `${dataDir}/server`;
  const tlsDir = `${serverDir}/tls`;
  const dbDir = `${serverDir}/db`;
  const etcdDir = `${dbDir}/etcd`;
  const manifestsDir = `${serverDir}/manifests`;
  for (const d of [serverDir, tlsDir, dbDir, manifestsDir, `${serverDir}/static`, `${dataDir}/agent`, '/run/k3s']) mkdirSync(d, { recursive: true, mode: 0o700 });

  const id = nodeIdentity(f.str('node-name'), f.list('node-ip'));
  const tokenText = readTokenFlag(f.str('token'), f.str('token-file'));
  const serverUrl = f.str('server');
  const initialized = existsSync(`${etcdDir}/member/wal`);
  if (tokenText && isBootstrapToken(tokenText)) fatal('starting kubernetes: preparing server: failed to normalize server token; must be in format K10<CA-HASH>::<USERNAME>:<PASSWORD> or <PASSWORD>');
  if (f.bool('cluster-reset')) fatal('cluster-reset is not implemented by the k3s test double');
  const critical = criticalOf(f);

  let memberName: string;
  let etcdState: 'new' | 'existing';
  let initialCluster = '';
  let password: string;
  const existingToken = existsSync(`${serverDir}/token`) ? parseToken(readFileSync(`${serverDir}/token`, 'utf8')).password : undefined;

  if (initialized) {
    info('Starting etcd for existing cluster member');
    memberName = readFileSync(`${etcdDir}/name`, 'utf8').trim();
    etcdState = 'existing';
    password = existingToken ?? (tokenText ? parseToken(tokenText).password : fatal('starting kubernetes: preparing server: token file missing for an initialized member'));
    if (tokenText && parseToken(tokenText).password !== password) fatal('starting kubernetes: preparing server: bootstrap data already found and encrypted with different token');
  } else if (serverUrl) {
    info('Managed etcd cluster not yet initialized');
    if (!tokenText) fatal('starting kubernetes: preparing server: token is required to join a cluster');
    const tok = parseToken(tokenText);
    password = tok.password;
    const joined = await joinCluster(serverUrl, tokenText, id, critical);
    writePair(`${tlsDir}/server-ca`, joined.bootstrap.serverCA);
    writePair(`${tlsDir}/client-ca`, joined.bootstrap.clientCA);
    memberName = joined.memberName;
    initialCluster = joined.initialCluster;
    etcdState = 'existing';
  } else {
    info('Managed etcd cluster initializing');
    const tok = tokenText ? parseToken(tokenText) : undefined;
    if (tok?.caHash) fatal('starting kubernetes: preparing server: failed to normalize server token; a new cluster cannot use a token with a CA hash');
    password = tok?.password ?? existingToken ?? randomBytes(16).toString('hex');
    const ts = Math.floor(Date.now() / 1000);
    if (!existsSync(`${tlsDir}/server-ca.crt`)) writePair(`${tlsDir}/server-ca`, newCa(`k3s-server-ca@${ts}`));
    if (!existsSync(`${tlsDir}/client-ca.crt`)) writePair(`${tlsDir}/client-ca`, newCa(`k3s-client-ca@${ts}`));
    memberName = `${id.name}-${randomBytes(4).toString('hex')}`;
    initialCluster = `${memberName}=${peerUrlOf(id.ip)}`;
    etcdState = 'new';
    writeAtomic(`${dbDir}/k3s-double-datastore`, f.bool('cluster-init') ? 'etcd\n' : 'sqlite\n', 0o600);
  }
  if (f.bool('cluster-init') && existsSync(`${dbDir}/k3s-double-datastore`)) writeAtomic(`${dbDir}/k3s-double-datastore`, 'etcd\n', 0o600);

  const serverCA = readPair(`${tlsDir}/server-ca`);
  const clientCA = readPair(`${tlsDir}/client-ca`);
  writeTokens(serverDir, serverCA.crt, password, readTokenFlag(f.str('agent-token'), f.str('agent-token-file')));
  const agentPassword = f.str('agent-token') || f.str('agent-token-file') ? parseToken(readTokenFlag(f.str('agent-token'), f.str('agent-token-file'))).password : password;

  // Serving certificate for :6443, with every SAN K3s would put in it. Not regenerated when it
  // exists (as K3s: new SANs need `k3s certificate rotate`), unless the CA changed.
  const sans = servingSans({ hostname: id.hostname, nodeName: id.name, nodeIps: [id.ip], tlsSans: f.list('tls-san'), serviceCidr: f.list('service-cidr')[0] ?? '10.43.0.0/16', clusterDomain: f.str('cluster-domain', 'cluster.local') });
  const servingBase = `${tlsDir}/serving-kube-apiserver`;
  if (!existsSync(`${servingBase}.crt`) || readFileSync(`${tlsDir}/serving-kube-apiserver.ca-hash`, { encoding: 'utf8', flag: 'a+' }).trim() !== caHashOf(serverCA.crt)) {
    writePair(servingBase, newLeaf(serverCA, { cn: 'kube-apiserver', sans, usage: 'server' }));
    writeAtomic(`${tlsDir}/serving-kube-apiserver.ca-hash`, `${caHashOf(serverCA.crt)}\n`, 0o600);
  }
  if (!existsSync(`${tlsDir}/client-admin.crt`)) writePair(`${tlsDir}/client-admin`, newLeaf(clientCA, { cn: 'system:admin', org: 'system:masters', usage: 'client' }));
  const serving = readPair(servingBase);

  mkdirSync(etcdDir, { recursive: true, mode: 0o700 });
  writeAtomic(`${etcdDir}/name`, `${memberName}\n`, 0o600);
  if (etcdState === 'existing' && !initialCluster) initialCluster = `${memberName}=${peerUrlOf(id.ip)}`;
  const etcd = new Etcd(clientUrlOf('127.0.0.1'));
  const nodePw = nodePassword();

  const ctx: ServerCtx = { f, id, etcd, serverCA, critical, password, agentPassword, dbDir, manifestsDir, memberName, cniWritten: false };

  // Supervisor + API on :6443 (all addresses, like bind-address 0.0.0.0), local apiserver port 6444.
  const api = https.createServer({ key: serving.key, cert: serving.crt, ca: [clientCA.crt], requestCert: true, rejectUnauthorized: false }, (req, res) => {
    handle(ctx, req, res).catch((e) => sendStatus(res, 500, '', (e as Error).message));
  });
  const port = Number(f.str('https-listen-port', '6443'));
  await new Promise<void>((resolve, reject) => {
    api.once('error', reject);
    api.listen(port, f.str('bind-address', '0.0.0.0'), () => resolve());
  }).catch((e) => fatal(`starting kubernetes: preparing server: listen tcp :${port}: ${(e as Error).message}`));
  const lb = await tcpProxy(6444, () => [{ host: '127.0.0.1', port }]).catch((e) => fatal(`listen tcp 127.0.0.1:6444: ${(e as Error).message}`));

  const child = startEtcd({ dataDir: etcdDir, name: memberName, nodeIp: id.ip, initialCluster, state: etcdState });
  let stopping = false;
  const shutdown = (sig: string) => {
    if (stopping) return;
    stopping = true;
    info(`Received ${sig}, shutting down`);
    api.close();
    lb.close();
    stopChild(child).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  child.on('exit', (code, signal) => {
    if (!stopping) fatal(`ETCD server exited unexpectedly (${signal ?? `exit ${code}`})`);
  });

  await waitEtcdReady(etcd);
  info('ETCD server is now running');
  await registerWithRetry(ctx, { ...selfRegistration(ctx), password: nodePw, heartbeat: false });
  writeKubeconfig(f, serverCA.crt, readPair(`${tlsDir}/client-admin`));
  info('Kube API server is now running');
  info(`k3s is up and running`);
  notifyReady();

  loop(knobs.heartbeat, async () => {
    await ensureCni(ctx);
    await registerNode(ctx, { ...selfRegistration(ctx), password: nodePw, heartbeat: true });
  });
  loop(knobs.promoteInterval, () => leaderDuties(ctx));
  loop(3, () => watchManifests(ctx));
}

interface ServerCtx {
  f: Flags;
  id: { name: string; hostname: string; ip: string };
  etcd: Etcd;
  serverCA: KeyPair;
  critical: CriticalConfig;
  password: string;
  agentPassword: string;
  dbDir: string;
  manifestsDir: string;
  memberName: string;
  cniWritten: boolean;
  manifestHashes?: Map<string, string>;
  learnerSince?: Map<string, number>;
  learnerStarted?: Map<string, number>;
}

function selfRegistration(ctx: ServerCtx): Omit<NodeRegistration, 'password' | 'heartbeat'> {
  const flannelOff = ctx.f.str('flannel-backend', 'vxlan') === 'none';
  return { name: ctx.id.name, hostname: ctx.id.hostname, ip: ctx.id.ip, server: true, labels: ctx.f.list('node-label'), taints: ctx.f.list('node-taint'), networkReady: !flannelOff || hasCniConfig() };
}

function loop(intervalS: number, fn: () => Promise<void>): void {
  const tick = async () => {
    try {
      await fn();
    } catch (e) {
      debug(`${(e as Error).message}`);
    }
    setTimeout(tick, intervalS * 1000).unref();
  };
  setTimeout(tick, intervalS * 1000).unref();
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await done;
  clearTimeout(t);
}

function writeTokens(serverDir: string, caPem: string, password: string, agentToken: string): void {
  writeAtomic(`${serverDir}/token`, `${formatToken(caPem, 'server', password)}\n`, 0o600);
  const link = (name: string, target: string) => {
    const p = `${serverDir}/${name}`;
    try {
      if (lstatSync(p)) unlinkSync(p);
    } catch {
      /* absent */
    }
    symlinkSync(target, p);
  };
  link('node-token', `${serverDir}/token`);
  if (agentToken) {
    try {
      if (lstatSync(`${serverDir}/agent-token`).isSymbolicLink()) unlinkSync(`${serverDir}/agent-token`);
    } catch {
      /* absent */
    }
    writeAtomic(`${serverDir}/agent-token`, `${formatToken(caPem, 'node', parseToken(agentToken).password)}\n`, 0o600);
  } else link('agent-token', `${serverDir}/token`);
}

function writeKubeconfig(f: Flags, caPem: string, admin: KeyPair): void {
  const path = f.str('write-kubeconfig', '/etc/rancher/k3s/k3s.yaml');
  const modeText = f.str('write-kubeconfig-mode');
  const mode = modeText ? parseInt(modeText, 8) : 0o600;
  if (!Number.isFinite(mode)) fatal(`invalid write-kubeconfig-mode ${modeText}`);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const doc = {
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(caPem), server: `https://127.0.0.1:${f.str('https-listen-port', '6443')}` }, name: 'default' }],
    contexts: [{ context: { cluster: 'default', user: 'default' }, name: 'default' }],
    'current-context': 'default',
    kind: 'Config',
    preferences: {},
    users: [{ name: 'default', user: { 'client-certificate-data': b64(admin.crt), 'client-key-data': b64(admin.key) } }],
  };
  mkdirSync(path.replace(/\/[^/]+$/, ''), { recursive: true });
  writeAtomic(path, stringify(doc), mode);
}

// ---------------------------------------------------------------- join

async function joinCluster(serverUrl: string, tokenText: string, id: { name: string; ip: string }, critical: CriticalConfig): Promise<{ bootstrap: Bootstrap; memberName: string; initialCluster: string }> {
  const base = serverUrl.replace(/\/+$/, '');
  const tok = parseToken(tokenText);
  const prep = (m: string): never => fatal(`starting kubernetes: preparing server: ${m}`);
  let caPem: string;
  try {
    const r = await request(`${base}/cacerts`, { tls: { verify: false }, timeoutMs: 10_000 });
    if (r.status !== 200) prep(`${base}/cacerts: ${r.status} ${r.statusText}`);
    caPem = r.body;
  } catch (e) {
    return prep(`failed to get CA certs: ${(e as Error).message}`);
  }
  const hashErr = checkCaHash(tok, caPem);
  if (hashErr) prep(hashErr);
  if (!tok.caHash) warn('Cluster CA certificate is not trusted by the host CA bundle, but the token does not include a CA hash. Use the full token from the server\'s node-token file to enable Cluster CA validation.');
  const auth = { user: 'server', password: tok.password };
  const tls = { ca: caPem, verify: true };
  const get = async <T>(path: string): Promise<T> => {
    const url = `${base}${path}`;
    let r;
    try {
      r = await request(url, { basicAuth: auth, tls, timeoutMs: 15_000 });
    } catch (e) {
      return prep((e as Error).message);
    }
    if (r.status !== 200) {
      const detail = r.status === 400 ? r.body.trim() : `${url}: ${r.status} ${r.statusText}`;
      return prep(detail);
    }
    return jsonOf<T>(r, url);
  };
  const bootstrap = await get<Bootstrap>('/v1-k3s/server-bootstrap');
  const cfg = await get<{ critical: CriticalConfig }>('/v1-k3s/config');
  const mismatched = criticalMismatches(critical, cfg.critical);
  if (mismatched.length) {
    for (const k of mismatched) error(`critical configuration mismatched: ${k}`);
    prep(`failed to validate server configuration: ${CRITICAL_MISMATCH}`);
  }
  const peerUrl = peerUrlOf(id.ip);
  for (;;) {
    const dbInfo = await get<{ members: EtcdMember[] }>('/db/info');
    const cluster: string[] = [];
    let add = true;
    let memberName = `${id.name}-${randomBytes(4).toString('hex')}`;
    for (const m of dbInfo.members) {
      const hosts = (m.peerURLs ?? []).map((p) => new URL(p).hostname);
      if (!m.name && hosts.includes(id.ip)) {
        // An added but never started member with our address: our earlier attempt.
        add = false;
        cluster.push(`${memberName}=${peerUrl}`);
        continue;
      }
      const prefix = m.name ? m.name.replace(/-[0-9a-f]{8}$/, '') : '';
      if (prefix === id.name && !hosts.includes(id.ip)) prep('duplicate node name found, please use a unique name for this node');
      if (prefix === id.name && hosts.includes(id.ip)) {
        add = false;
        memberName = m.name!;
      }
      if (m.name) cluster.push(`${m.name}=${m.peerURLs![0]}`);
    }
    if (add) {
      const voter = dbInfo.members.find((m) => !m.isLearner && m.clientURLs?.length);
      if (!voter) prep('no started voting etcd member found to join');
      try {
        info(`Adding member ${memberName}=${peerUrl} to etcd cluster [${cluster.join(' ')}]`);
        await new Etcd(voter!.clientURLs![0]!, 10_000).addLearner(peerUrl);
      } catch (e) {
        const msg = (e as Error).message;
        if (/too many learner members/.test(msg)) {
          info(`Waiting for other members to finish joining etcd cluster: ${msg.startsWith('etcdserver:') ? msg : `etcdserver: ${msg}`}`);
          await sleep(knobs.joinRetry);
          continue;
        }
        prep(`failed to add member to etcd cluster: ${msg}`);
      }
      cluster.push(`${memberName}=${peerUrl}`);
    }
    return { bootstrap, memberName, initialCluster: cluster.join(',') };
  }
}

async function waitEtcdReady(etcd: Etcd): Promise<void> {
  let last = 0;
  info('Waiting for etcd server to become available');
  for (;;) {
    try {
      const st = await etcd.status();
      if (st.isLearner) throw new EtcdError('this member is a learner and has not been promoted to a voting member yet');
      if (!st.leader || st.leader === '0') throw new EtcdError('etcdserver: no leader');
      await etcd.get('/registry/health', { serializable: false });
      return;
    } catch (e) {
      if (Date.now() - last > 15_000) {
        info(`Waiting for etcd server to become available: ${(e as Error).message}`);
        last = Date.now();
      }
    }
    await sleep(1);
  }
}

// ---------------------------------------------------------------- nodes

const secretKey = (name: string) => `/registry/secrets/kube-system/${name}.node-password.k3s`;

class HttpStatusError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

async function registerNode(ctx: ServerCtx, r: NodeRegistration): Promise<void> {
  const sk = secretKey(r.name);
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256').update(r.password).digest('hex');
  const existing = await ctx.etcd.get(sk);
  if (existing && (JSON.parse(existing.value) as { hash: string }).hash !== hash) throw new HttpStatusError(403, PASSWORD_REJECTED);
  if (!existing) {
    if (r.heartbeat) return; // deleted Node: the kubelet does not re-register until it restarts
    await ctx.etcd.put(sk, JSON.stringify({ hash }));
  }
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await ctx.etcd.update<Node>(nodeKey(r.name), (prev) => {
    if (!prev && r.heartbeat) return undefined;
    return buildNode(prev, { name: r.name, hostname: r.hostname, ip: r.ip, server: r.server, nodeLabels: r.labels, nodeTaints: r.taints, version: VERSION, networkReady: r.networkReady, now });
  });
}

async function registerWithRetry(ctx: ServerCtx, r: NodeRegistration): Promise<void> {
  for (;;) {
    try {
      await registerNode(ctx, r);
      return;
    } catch (e) {
      if (e instanceof HttpStatusError) fatal(e.message);
      info(`Waiting to register node ${r.name}: ${(e as Error).message}`);
      await sleep(2);
    }
  }
}

async function ensureCni(ctx: ServerCtx): Promise<void> {
  if (ctx.cniWritten) return;
  const cni = await ctx.etcd.get(CNI_KEY, { serializable: true });
  if (cni) {
    writeCiliumConflist();
    ctx.cniWritten = true;
  }
}

async function leaderDuties(ctx: ServerCtx): Promise<void> {
  const st = await ctx.etcd.status();
  if (!st.leader || st.leader !== st.header?.member_id) return;
  const members = await ctx.etcd.members();
  ctx.learnerSince ??= new Map();
  for (const m of members.filter((x) => x.isLearner)) {
    if (!ctx.learnerSince.has(m.ID)) ctx.learnerSince.set(m.ID, Date.now());
    if (!m.name) {
      if (Date.now() - ctx.learnerSince.get(m.ID)! > knobs.learnerTimeout * 1000) {
        warn(`Removing learner ${m.ID} (${m.peerURLs?.join(',')}): not started within ${knobs.learnerTimeout}s`);
        await ctx.etcd.remove(m.ID);
      }
      continue;
    }
    // Promote only learners started a few seconds ago: etcd refuses a member add while a member
    // has been connected for less than its 5 s health interval ("etcdserver: unhealthy cluster"),
    // and real K3s's 15 s loop never promotes that early either.
    ctx.learnerStarted ??= new Map();
    if (!ctx.learnerStarted.has(m.ID)) ctx.learnerStarted.set(m.ID, Date.now());
    if (Date.now() - ctx.learnerStarted.get(m.ID)! < knobs.promoteMinAge * 1000) continue;
    try {
      await ctx.etcd.promote(m.ID);
      info(`Promoted learner ${m.name} to voting member`);
      ctx.learnerSince.delete(m.ID);
    } catch (e) {
      debug(`Learner ${m.name} not promoted yet: ${(e as Error).message}`);
      if (Date.now() - ctx.learnerSince.get(m.ID)! > knobs.learnerTimeout * 1000) {
        warn(`Removing learner ${m.name}: no progress within ${knobs.learnerTimeout}s`);
        await ctx.etcd.remove(m.ID);
      }
    }
  }
  const fresh = await ctx.etcd.members();
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const kv of await ctx.etcd.list(NODE_PREFIX)) {
    const node = JSON.parse(kv.value) as Node;
    const name = node.metadata.name;
    await ctx.etcd.update<Node>(nodeKey(name), (cur) => {
      if (!cur) return undefined;
      let changed = false;
      if (cur.metadata.labels['node-role.kubernetes.io/etcd'] === 'true') {
        const m = fresh.find((x) => x.name && x.name.replace(/-[0-9a-f]{8}$/, '') === name);
        const state = !m ? 'not-member' : m.isLearner ? 'learner' : 'voter';
        const prev = conditionOf(cur, 'EtcdIsVoter');
        const next = etcdVoterCondition(state, now, prev);
        if (!prev || prev.status !== next.status || prev.reason !== next.reason) {
          setCondition(cur, next);
          changed = true;
        }
      }
      const ready = conditionOf(cur, 'Ready');
      if (ready && ready.status !== 'Unknown' && Date.now() - Date.parse(ready.lastHeartbeatTime) > knobs.nodeGrace * 1000) {
        setCondition(cur, { ...ready, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now });
        changed = true;
      }
      return changed ? cur : undefined;
    });
  }
}

async function watchManifests(ctx: ServerCtx): Promise<void> {
  ctx.manifestHashes ??= new Map();
  const scan = scanManifests(ctx.manifestsDir);
  for (const e of scan.errors) {
    if (ctx.manifestHashes.get(`err:${e}`)) continue;
    error(e);
    ctx.manifestHashes.set(`err:${e}`, '1');
  }
  for (const { file, chart } of scan.charts) {
    const key = helmChartKey(chart.metadata.namespace, chart.metadata.name);
    const h = chartHash(chart);
    if (ctx.manifestHashes.get(key) === h) continue;
    const cilium = isCiliumChart(chart);
    const deploy = !cilium || canDeploy(chart);
    const status = deploy
      ? { jobName: `helm-install-${chart.metadata.name}`, conditions: [{ type: 'JobCreated', status: 'True' }] }
      : { jobName: `helm-install-${chart.metadata.name}`, conditions: [{ type: 'Failed', status: 'True', reason: 'PodPending', message: 'helm install job pod cannot start: no pod network (a CNI chart needs spec.bootstrap: true)' }] };
    await ctx.etcd.put(key, JSON.stringify({ ...chart, metadata: { ...chart.metadata, annotations: { 'objectset.rio.cattle.io/id': `k3s-double-${file}` } }, status }));
    if (cilium && deploy) {
      await ctx.etcd.put(CNI_KEY, JSON.stringify({ name: 'cilium', chart: chart.metadata.name }));
      info(`Applied HelmChart ${chart.metadata.namespace}/${chart.metadata.name} from ${file}: Cilium deploying (bootstrap)`);
    } else if (cilium) {
      warn(`HelmChart ${chart.metadata.namespace}/${chart.metadata.name} from ${file}: helm-install job cannot run without a pod network; set spec.bootstrap: true for a CNI chart`);
    } else info(`Applied HelmChart ${chart.metadata.namespace}/${chart.metadata.name} from ${file}`);
    ctx.manifestHashes.set(key, h);
  }
}

// ---------------------------------------------------------------- HTTP

type Role = 'admin' | 'server' | 'node';

function authOf(ctx: ServerCtx, req: IncomingMessage): Role | undefined {
  const sock = req.socket as TLSSocket;
  if (sock.authorized) return 'admin';
  const h = req.headers.authorization;
  if (!h?.startsWith('Basic ')) return undefined;
  const dec = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const i = dec.indexOf(':');
  const user = dec.slice(0, i);
  const pw = dec.slice(i + 1);
  if (pw === ctx.password && (user === 'server' || user === 'node')) return 'server';
  if (pw === ctx.agentPassword && user === 'node') return 'node';
  return undefined;
}

function send(res: ServerResponse, code: number, body: string, type = 'application/json'): void {
  res.writeHead(code, { 'content-type': type });
  res.end(body);
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string, details?: Record<string, string>): void {
  send(res, code, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code }));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(ctx: ServerCtx, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://x');
  const path = url.pathname;
  if (path === '/cacerts') return send(res, 200, ctx.serverCA.crt, 'text/plain');
  if (path === '/ping') return send(res, 200, 'pong', 'text/plain');
  const role = authOf(ctx, req);
  const supervisor = path.startsWith('/v1-k3s/') || path === '/db/info';
  if (supervisor) {
    if (!role) {
      error(`Failed to authenticate request from ${req.socket.remoteAddress}:${req.socket.remotePort}: invalid username/password combination`);
      return send(res, 401, 'Unauthorized\n', 'text/plain');
    }
    return supervisorRoute(ctx, role, path, req, res);
  }
  if (role !== 'admin') return sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
  return apiRoute(ctx, url, req, res);
}

async function supervisorRoute(ctx: ServerCtx, role: Role, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const serverOnly = role === 'server' || role === 'admin';
  switch (path) {
    case '/v1-k3s/server-bootstrap': {
      if (!serverOnly) return send(res, 401, 'Unauthorized\n', 'text/plain');
      const tls = `${ctx.f.str('data-dir', '/var/lib/rancher/k3s')}/server/tls`;
      return send(res, 200, JSON.stringify({ serverCA: readPair(`${tls}/server-ca`), clientCA: readPair(`${tls}/client-ca`) } satisfies Bootstrap));
    }
    case '/v1-k3s/config':
      return send(res, 200, JSON.stringify({ critical: ctx.critical }));
    case '/db/info': {
      if (!serverOnly) return send(res, 401, 'Unauthorized\n', 'text/plain');
      const ds = readFileSync(`${ctx.dbDir}/k3s-double-datastore`, { encoding: 'utf8', flag: 'a+' }).trim();
      if (ds === 'sqlite') return send(res, 400, 'etcd disabled\n', 'text/plain');
      try {
        return send(res, 200, JSON.stringify({ members: await ctx.etcd.members() }));
      } catch (e) {
        return send(res, 503, `${(e as Error).message}\n`, 'text/plain');
      }
    }
    case '/v1-k3s/apiservers': {
      try {
        const ms = await ctx.etcd.members();
        return send(res, 200, JSON.stringify(ms.filter((m) => m.clientURLs?.length).map((m) => `${new URL(m.clientURLs![0]!).hostname}:6443`)));
      } catch {
        return send(res, 200, JSON.stringify([`${ctx.id.ip}:6443`]));
      }
    }
    case '/v1-k3s/readyz': {
      try {
        await ctx.etcd.get('/registry/health');
        return send(res, 200, 'ok', 'text/plain');
      } catch (e) {
        return send(res, 503, (e as Error).message, 'text/plain');
      }
    }
    case '/v1-k3s/k3s-double/node': {
      if (req.method !== 'POST') return send(res, 405, 'method not allowed\n', 'text/plain');
      const reg = JSON.parse(await readBody(req)) as NodeRegistration;
      try {
        await registerNode(ctx, { ...reg, server: false });
        const cni = await ctx.etcd.get(CNI_KEY, { serializable: true });
        return send(res, 200, JSON.stringify({ cni: cni ? (JSON.parse(cni.value) as { name: string }).name : null, flannelBackend: ctx.critical['flannel-backend'] }));
      } catch (e) {
        if (e instanceof HttpStatusError) return send(res, e.code, `${e.message}\n`, 'text/plain');
        return send(res, 503, `${(e as Error).message}\n`, 'text/plain');
      }
    }
    default:
      return send(res, 404, '404 page not found\n', 'text/plain');
  }
}

async function readyChecks(ctx: ServerCtx): Promise<{ ok: boolean; lines: string[] }> {
  const lines = ['[+]ping ok', '[+]log ok'];
  let ok = true;
  try {
    await ctx.etcd.get('/registry/health');
    lines.push('[+]etcd ok', '[+]etcd-readiness ok');
  } catch {
    ok = false;
    lines.push('[-]etcd failed: reason withheld', '[-]etcd-readiness failed: reason withheld');
  }
  lines.push('[+]informer-sync ok', '[+]poststarthook/start-apiserver-admission-initializer ok', '[+]shutdown ok');
  return { ok, lines };
}

const DISCOVERY_V1 = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [{ name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: ['delete', 'get', 'list'], shortNames: ['no'] }],
};

async function apiRoute(ctx: ServerCtx, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path === '/readyz' || path === '/livez' || path === '/healthz') {
    const r = await readyChecks(ctx);
    const verbose = url.searchParams.has('verbose');
    if (r.ok) return send(res, 200, verbose ? `${r.lines.join('\n')}\n${path.slice(1)} check passed\n` : 'ok', 'text/plain');
    return send(res, 500, `${r.lines.join('\n')}\n${path.slice(1)} check failed\n`, 'text/plain');
  }
  if (path === '/version') {
    const m = /^v(\d+)\.(\d+)/.exec(VERSION);
    return send(res, 200, JSON.stringify({ major: m?.[1] ?? '1', minor: m?.[2] ?? '31', gitVersion: VERSION, gitCommit: COMMIT, gitTreeState: 'clean', goVersion: 'go1.22.9', compiler: 'gc', platform: 'linux/amd64' }));
  }
  if (path === '/api') return send(res, 200, JSON.stringify({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `${ctx.id.ip}:6443` }] }));
  if (path === '/api/v1') return send(res, 200, JSON.stringify(DISCOVERY_V1));
  if (path === '/apis') return send(res, 200, JSON.stringify({ kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'helm.cattle.io', versions: [{ groupVersion: 'helm.cattle.io/v1', version: 'v1' }], preferredVersion: { groupVersion: 'helm.cattle.io/v1', version: 'v1' } }] }));
  if (path === '/apis/helm.cattle.io/v1') return send(res, 200, JSON.stringify({ kind: 'APIResourceList', groupVersion: 'helm.cattle.io/v1', resources: [{ name: 'helmcharts', singularName: 'helmchart', namespaced: true, kind: 'HelmChart', verbs: ['get', 'list'] }] }));
  try {
    if (path === '/api/v1/nodes' && method === 'GET') {
      const sel = url.searchParams.get('labelSelector') ?? '';
      const kvs = await ctx.etcd.list(NODE_PREFIX);
      const items = kvs.map((kv) => withRv(JSON.parse(kv.value) as Node, kv.modRevision)).filter((n) => matchSelector(n.metadata.labels, sel));
      return send(res, 200, JSON.stringify({ kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: kvs.reduce((a, k) => (Number(k.modRevision) > Number(a) ? k.modRevision : a), '0') }, items }));
    }
    const nm = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path);
    if (nm) {
      const name = decodeURIComponent(nm[1]!);
      const kv = await ctx.etcd.get(nodeKey(name));
      if (!kv) return sendStatus(res, 404, 'NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' });
      if (method === 'GET') return send(res, 200, JSON.stringify(withRv(JSON.parse(kv.value) as Node, kv.modRevision)));
      if (method === 'DELETE') {
        const node = JSON.parse(kv.value) as Node;
        await ctx.etcd.del(nodeKey(name));
        await ctx.etcd.del(secretKey(name));
        if (node.metadata.labels['node-role.kubernetes.io/etcd'] === 'true') await removeEtcdMemberOf(ctx, name);
        return send(res, 200, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: 'nodes', uid: node.metadata.uid } }));
      }
      return sendStatus(res, 405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
    const hm = /^\/apis\/helm\.cattle\.io\/v1\/(?:namespaces\/([^/]+)\/)?helmcharts(?:\/([^/]+))?$/.exec(path);
    if (hm && method === 'GET') {
      const ns = hm[1];
      if (hm[2]) {
        const kv = await ctx.etcd.get(helmChartKey(ns ?? 'kube-system', hm[2]));
        if (!kv) return sendStatus(res, 404, 'NotFound', `helmcharts.helm.cattle.io "${hm[2]}" not found`, { name: hm[2], group: 'helm.cattle.io', kind: 'helmcharts' });
        return send(res, 200, kv.value);
      }
      const kvs = await ctx.etcd.list(`/registry/helm.cattle.io/helmcharts/${ns ? `${ns}/` : ''}`);
      return send(res, 200, JSON.stringify({ kind: 'HelmChartList', apiVersion: 'helm.cattle.io/v1', metadata: {}, items: kvs.map((k) => JSON.parse(k.value)) }));
    }
  } catch (e) {
    return sendStatus(res, 500, '', (e as Error).message);
  }
  return sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
}

function withRv(n: Node, rv: string): Node {
  return { ...n, metadata: { ...n.metadata, resourceVersion: rv } };
}

/** Deleting a server's Node removes its etcd member, as K3s's etcd node handler does. */
async function removeEtcdMemberOf(ctx: ServerCtx, nodeName: string): Promise<void> {
  const members = await ctx.etcd.members();
  for (const m of members) {
    if (m.name && m.name.replace(/-[0-9a-f]{8}$/, '') === nodeName) {
      info(`Removing name=${m.name} id=${m.ID} address=${m.peerURLs?.[0]} from etcd`);
      await ctx.etcd.remove(m.ID);
    }
  }
}

export function certificateRotate(args: string[]): void {
  const f = new Flags(resolveConfig({ cmd: 'server', args: args.filter((a) => !a.startsWith('--service')), env: process.env, files: readConfigFiles(configPath(args, process.env)) }).values);
  const tls = `${f.str('data-dir', '/var/lib/rancher/k3s')}/server/tls`;
  for (const p of ['serving-kube-apiserver.crt', 'serving-kube-apiserver.key', 'serving-kube-apiserver.ca-hash']) rmSync(`${tls}/${p}`, { force: true });
  info('Rotating certificates for kube-apiserver service');
  info('Successfully backed up certificates to ' + `${tls}-${Math.floor(Date.now() / 1000)}, please restart k3s server or agent to rotate certificates`);
  writeFileSync('/dev/null', '');
}
