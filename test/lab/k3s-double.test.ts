// The K3s test double (test/doubles/k3s) exercised directly on the lab's masters and one worker,
// with K3s's own unit files and config written by hand, joins going through the HAProxy +
// Keepalived VIP when the load balancers are converged (else straight to master1): three
// servers join one at a time as etcd learners and become voters; wrong tokens and a mismatched
// critical flag fail with K3s's messages; 2 of 3 servers down is a real quorum loss (readyz
// fails, a start hangs in activating until the other is back, no learner step on restart); an
// agent with a wrong token never gets READY; the Cilium stand-in makes nodes Ready only with a
// bootstrap chart. Hosts are wiped before and after, so role tests start fresh.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labExec } from '../../lab/index.ts';
import { useLab, type Lab } from './support/use-lab.ts';
import { buildK3sDouble, controllerKubectl, installK3sDouble, prepareK3sHosts, startK3sRelease, wipeK3s, type BuiltDouble } from './support/k3s-double.ts';

const MASTERS = ['master1', 'master2', 'master3'] as const;
const AGENT = 'worker1';
const HOSTS = [...MASTERS, AGENT];
const IP: Record<string, string> = { master1: '10.17.4.21', master2: '10.17.4.22', master3: '10.17.4.23', worker1: '10.17.4.24' };
const VIP = '10.17.4.32';
const TOKEN = 'lab-double-secret';
const KNOBS = 'K3S_DOUBLE_PROMOTE_INTERVAL=2\nK3S_DOUBLE_HEARTBEAT_INTERVAL=2\nK3S_DOUBLE_JOIN_RETRY=2\n';

// The unit install.sh writes (k3s-io/k3s install.sh), as a role renders it.
const unit = (kind: 'server' | 'agent') => `[Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-/etc/systemd/system/k3s${kind === 'agent' ? '-agent' : ''}.service.env
KillMode=process
Delegate=yes
User=root
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/k3s ${kind}
`;

const CRITICAL = 'flannel-backend: none\ndisable-network-policy: true\ndisable-kube-proxy: true\ndisable:\n  - traefik\n  - servicelb\n';
const serverConfig = (host: string, extra: string) => `token: ${TOKEN}\nnode-ip: ${IP[host]}\ntls-san:\n  - ${VIP}\n${extra}`;

let lab: Lab | undefined;
let built: BuiltDouble;
let joinUrl = `https://${IP.master1}:6443`;
let viaVip = false;
const tmp = mkdtempSync(join(tmpdir(), 'drover-k3s-double-'));

const sh = async (host: string, cmd: string, timeoutMs = 60_000) => lab!.sh(host, cmd, { timeoutMs });
const must = async (host: string, cmd: string, timeoutMs = 60_000) => {
  const r = await sh(host, cmd, timeoutMs);
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  return r.stdout;
};
const now = () => Math.floor(Date.now() / 1000);
const journal = async (host: string, since: number, unitName = 'k3s') => (await sh(host, `journalctl -u ${unitName} --since @${since} --no-pager -o cat`)).stdout;
const state = async (host: string, unitName = 'k3s') => (await sh(host, `systemctl is-active ${unitName}`)).stdout.trim();

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await probe();
  }
  return last;
}


/** Write unit, env and config on a host (stdin carries the unit). */
async function install(host: string, kind: 'server' | 'agent', config: string): Promise<void> {
  const svc = kind === 'agent' ? 'k3s-agent' : 'k3s';
  const script = `mkdir -p /etc/rancher/k3s && cat > /etc/systemd/system/${svc}.service && printf '%s' '${KNOBS}' > /etc/systemd/system/${svc}.service.env && chmod 600 /etc/systemd/system/${svc}.service.env && printf '%s' '${config}' > /etc/rancher/k3s/config.yaml && systemctl daemon-reload`;
  const r = await lab!.sh(host, script, { input: unit(kind), timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${host}: writing ${svc} failed: ${r.stderr}`);
}

const voter = (host: string) =>
  sh('master1', `k3s kubectl get node ${host} -o jsonpath='{.status.conditions[?(@.type=="EtcdIsVoter")].status}'`).then((r) => r.stdout.trim());

/** Start a failing joiner, wait for its fatal line, then stop it and clean its state. */
async function failingJoin(host: string, config: string, expected: RegExp): Promise<string> {
  await install(host, 'server', config);
  const since = now();
  await must(host, 'systemctl start --no-block k3s');
  const log = await waitFor(`${host} to fail with ${expected}`, 45_000, () => journal(host, since), (j) => expected.test(j));
  expect(await state(host)).not.toBe('active');
  await sh(host, 'systemctl stop k3s; rm -rf /var/lib/rancher/k3s /etc/rancher/k3s/k3s.yaml');
  return log;
}

beforeAll(async () => {
  lab = await useLab();
  if (!lab) return;
  await prepareK3sHosts(lab, HOSTS, MASTERS);
  built = await buildK3sDouble({});
  await wipeK3s(lab, HOSTS);
  await installK3sDouble(lab, HOSTS, built);
  // Join through the VIP when HAProxy on the load balancers forwards :6443 to the masters.
  const lb = await sh('loadbalancer1', `systemctl is-active haproxy >/dev/null && grep -q '${IP.master1}:6443' /etc/haproxy/haproxy.cfg && echo yes`);
  if (lb.stdout.trim() === 'yes') {
    viaVip = true;
    joinUrl = `https://${VIP}:6443`;
  }
}, 900_000);

afterAll(async () => {
  if (lab) await wipeK3s(lab, HOSTS);
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('k3s double on the lab', () => {
  it('forms a cluster on master1: READY only after etcd is up, token, kubeconfig, Node NotReady without CNI', async () => {
    if (!lab) return;
    await install('master1', 'server', serverConfig('master1', `cluster-init: true\nnode-taint:\n  - CriticalAddonsOnly=true:NoExecute\ntypo-key: 1\n${CRITICAL}`));
    const since = now();
    await must('master1', 'timeout 90 systemctl start k3s', 100_000);
    expect(await state('master1')).toBe('active');
    const log = await journal('master1', since);
    expect(log).toContain('Unknown flag --typo-key found in config.yaml, skipping');
    expect(log.indexOf('ETCD server is now running')).toBeLessThan(log.indexOf('k3s is up and running'));
    expect(await must('master1', 'k3s kubectl get --raw /readyz')).toBe('ok');
    expect(await must('master1', 'k3s --version')).toMatch(/^k3s version v1\.31\.4\+k3s1 \([0-9a-f]{8}\)\n/);
    // Token: K10<sha256 of server-ca.crt>::server:<password>, 0600; node-token links to it.
    const tokenInfo = await must('master1', 'cd /var/lib/rancher/k3s/server && stat -c %a token && readlink node-token && sha256sum tls/server-ca.crt | cut -d" " -f1 && cat token');
    const [mode, link, caHash, token] = tokenInfo.trim().split('\n');
    expect(mode).toBe('600');
    expect(link).toBe('/var/lib/rancher/k3s/server/token');
    expect(token).toBe(`K10${caHash}::server:${TOKEN}`);
    expect((await must('master1', 'stat -c %a /etc/rancher/k3s/k3s.yaml; grep -c "server: https://127.0.0.1:6443" /etc/rancher/k3s/k3s.yaml')).trim().split('\n')).toEqual(['600', '1']);
    const node = JSON.parse(await must('master1', 'k3s kubectl get node master1 -o json'));
    expect(node.metadata.labels).toMatchObject({ 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/etcd': 'true', 'node-role.kubernetes.io/master': 'true' });
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: IP.master1 });
    expect(node.spec.taints).toEqual([{ key: 'CriticalAddonsOnly', value: 'true', effect: 'NoExecute' }]);
    expect(node.status.conditions.find((c: { type: string }) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });
    await waitFor('master1 EtcdIsVoter=True', 20_000, () => voter('master1'), (v) => v === 'True');
    if (viaVip) await waitFor('the VIP to reach master1', 20_000, () => labExec(['bash', '-c', `exec 3<>/dev/tcp/${VIP}/6443 && echo ok`]).then((r) => r.stdout.trim()), (v) => v === 'ok');
  });

  it('refuses joiners with a wrong password, a wrong CA hash, a mismatched critical flag or a duplicate name, with K3s\'s messages', async () => {
    if (!lab) return;
    const base = `server: ${joinUrl}\nnode-ip: ${IP.master2}\ntls-san:\n  - ${VIP}\n`;
    const wrongPw = await failingJoin('master2', `${base}token: not-the-token\n${CRITICAL}`, /level=fatal .*server-bootstrap: 401 Unauthorized/);
    expect(wrongPw).toContain('starting kubernetes: preparing server:');
    await failingJoin('master2', `${base}token: K10${'0'.repeat(64)}::server:${TOKEN}\n${CRITICAL}`, /token CA hash does not match the Cluster CA certificate hash: 0{64} != [0-9a-f]{64}/);
    const mismatch = await failingJoin('master2', `${base}token: ${TOKEN}\nflannel-backend: none\ndisable:\n  - traefik\n`, /failed to validate server configuration: critical configuration value mismatch between servers/);
    expect(mismatch).toContain('critical configuration mismatched: disable-kube-proxy');
    expect(mismatch).toContain('critical configuration mismatched: disable=servicelb');
    await failingJoin('master2', `${base}token: ${TOKEN}\nnode-name: master1\n${CRITICAL}`, /duplicate node name found, please use a unique name for this node/);
    // None of them got as far as etcd: still one member.
    const nodes = await must('master1', `k3s kubectl get nodes -o jsonpath='{.items[*].metadata.name}'`);
    expect(nodes.trim()).toBe('master1');
  });

  it('joins master2 then master3 one at a time, each as a learner promoted to voter', async () => {
    if (!lab) return;
    for (const host of ['master2', 'master3']) {
      await install(host, 'server', serverConfig(host, `server: ${joinUrl}\n${CRITICAL}`));
      const since = now();
      await must(host, 'timeout 120 systemctl start k3s', 130_000);
      expect(await state(host)).toBe('active');
      expect(await journal(host, since)).toMatch(new RegExp(`Adding member ${host}-[0-9a-f]{8}=http://${IP[host]}:2380 to etcd cluster`));
      await waitFor(`${host} EtcdIsVoter=True`, 30_000, () => voter(host), (v) => v === 'True');
      expect(await must(host, 'k3s kubectl get --raw /readyz')).toBe('ok');
    }
    const leaderLogs = (await Promise.all(MASTERS.map((h) => journal(h, 0)))).join('\n');
    expect(leaderLogs).toMatch(/Promoted learner master2-[0-9a-f]{8} to voting member/);
    expect(leaderLogs).toMatch(/Promoted learner master3-[0-9a-f]{8} to voting member/);
    const names = await must('master1', `k3s kubectl get nodes -l node-role.kubernetes.io/control-plane=true -o jsonpath='{.items[*].metadata.name}'`);
    expect(names.trim().split(' ')).toEqual(['master1', 'master2', 'master3']);
    // A kubeconfig pointed at the VIP works from the controller: the VIP is in every serving cert.
    const kubeconfig = join(tmp, 'k3s.yaml');
    writeFileSync(kubeconfig, (await must('master1', 'cat /etc/rancher/k3s/k3s.yaml')).replace('https://127.0.0.1:6443', joinUrl));
    for (let i = 0; i < 3; i++) {
      const r = await controllerKubectl(built, kubeconfig, ['get', 'nodes', '-o', 'name']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('node/master1\nnode/master2\nnode/master3\n');
    }
  });

  it('loses quorum with 2 of 3 servers down: readyz fails, a restart hangs activating until another is back, no learner step', async () => {
    if (!lab) return;
    await Promise.all(['master2', 'master3'].map((h) => must(h, 'systemctl stop k3s')));
    const ready = await waitFor('readyz to fail on master1', 30_000, () => sh('master1', 'k3s kubectl get --raw /readyz'), (r) => r.code !== 0);
    expect(ready.stderr).toContain('[-]etcd failed: reason withheld');
    const nodes = await sh('master1', 'k3s kubectl get nodes');
    expect(nodes.code).toBe(1);
    expect(nodes.stderr).toMatch(/^Error from server/);
    // master1 restarted alone: 1 of 3 members cannot elect a leader, so it never gets READY.
    const since = now();
    await must('master1', 'systemctl restart --no-block k3s');
    await new Promise((r) => setTimeout(r, 12_000));
    expect(await state('master1')).toBe('activating');
    await must('master2', 'systemctl start --no-block k3s');
    await waitFor('master1 and master2 active', 90_000, async () => [await state('master1'), await state('master2')], (s) => s.every((x) => x === 'active'));
    await must('master3', 'timeout 90 systemctl start k3s', 100_000);
    await waitFor('readyz ok on master1', 30_000, () => sh('master1', 'k3s kubectl get --raw /readyz').then((r) => r.stdout), (o) => o === 'ok');
    for (const h of MASTERS) {
      const log = await journal(h, since);
      expect(log).toContain('Starting etcd for existing cluster member');
      expect(log).not.toContain('Adding member');
    }
    await waitFor('all voters', 30_000, () => Promise.all(MASTERS.map(voter)), (v) => v.every((x) => x === 'True'));
  });

  it('keeps an agent with a wrong token activating (never READY), and registers it with the right one', async () => {
    if (!lab) return;
    const fullToken = (await must('master1', 'cat /var/lib/rancher/k3s/server/node-token')).trim();
    await install(AGENT, 'agent', `server: ${joinUrl}\ntoken: wrong-token\nnode-ip: ${IP[AGENT]}\n`);
    const since = now();
    await must(AGENT, 'systemctl start --no-block k3s-agent');
    const log = await waitFor('the agent to report the failed validation twice', 20_000, () => journal(AGENT, since, 'k3s-agent'), (j) => (j.match(/Failed to validate connection to cluster at/g) ?? []).length >= 2);
    expect(log).toContain(`Failed to validate connection to cluster at ${joinUrl}: token is not valid`);
    expect(await state(AGENT, 'k3s-agent')).toBe('activating');
    await must(AGENT, 'systemctl stop k3s-agent');
    await install(AGENT, 'agent', `server: ${joinUrl}\ntoken: ${fullToken}\nnode-ip: ${IP[AGENT]}\n`);
    await must(AGENT, 'timeout 60 systemctl start k3s-agent', 70_000);
    expect(await state(AGENT, 'k3s-agent')).toBe('active');
    expect(await must(AGENT, `ss -Hltn 'sport = :6444' | grep -c 127.0.0.1:6444`)).toBe('1\n');
    const node = JSON.parse(await must('master1', `k3s kubectl get node ${AGENT} -o json`));
    expect(node.metadata.labels['node-role.kubernetes.io/control-plane']).toBeUndefined();
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.31.4+k3s1');
  });

  it('turns nodes Ready only once a Cilium HelmChart with bootstrap: true is deployed', async () => {
    if (!lab) return;
    const chart = (bootstrap: boolean) =>
      `apiVersion: helm.cattle.io/v1\nkind: HelmChart\nmetadata:\n  name: cilium\n  namespace: kube-system\nspec:\n  chart: cilium\n  repo: https://helm.cilium.io/\n  targetNamespace: kube-system\n${bootstrap ? '  bootstrap: true\n' : ''}`;
    await must('master1', `printf '%s' '${chart(false)}' > /var/lib/rancher/k3s/server/manifests/cilium.yaml`);
    const notReady = await waitFor('the chart to be recorded', 20_000, () => sh('master1', 'k3s kubectl get helmcharts -n kube-system -o name'), (r) => r.stdout.includes('cilium'));
    expect(notReady.code).toBe(0);
    await new Promise((r) => setTimeout(r, 5000));
    expect((await sh(AGENT, 'ls /etc/cni/net.d/05-cilium.conflist')).code).not.toBe(0);
    await must('master1', `printf '%s' '${chart(true)}' > /var/lib/rancher/k3s/server/manifests/cilium.yaml`);
    const statusOf = () => sh('master1', `k3s kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{" "}{end}'`).then((r) => r.stdout.trim());
    await waitFor('all nodes Ready', 40_000, statusOf, (s) => s === 'master1=True master2=True master3=True worker1=True');
    expect(await must(AGENT, 'cat /etc/cni/net.d/05-cilium.conflist')).toContain('"cilium-cni"');
  });
  it('serves releases laid out like GitHub\'s (a wrong checksum on demand), and a second build upgrades a server', async () => {
    if (!lab) return;
    const NEXT = 'v1.32.1+k3s1';
    const rel = await startK3sRelease(['v1.31.4+k3s1', NEXT]);
    try {
      expect(rel.url(NEXT, 'k3s')).toBe(`${rel.baseUrl}/v1.32.1%2Bk3s1/k3s`);
      // Fetched from inside the lab namespace with node (no curl needed on the controller).
      const FETCH = `const get=(u)=>new Promise((ok,ko)=>require('http').get(u,(r)=>{const c=[];r.on('data',(d)=>c.push(d));r.on('end',()=>r.statusCode===200?ok(Buffer.concat(c)):ko(new Error(u+': '+r.statusCode)))}).on('error',ko));(async()=>{const [b,s]=await Promise.all([get(process.argv[1]),get(process.argv[2])]);process.stdout.write(require('crypto').createHash('sha256').update(b).digest('hex')+'\\n'+s)})().catch((e)=>{console.error(e.message);process.exit(1)})`;
      const fetch = (url: string) => labExec([process.execPath, '-e', FETCH, url, url.replace(/k3s$/, 'sha256sum-amd64.txt')]);
      const good = await fetch(rel.url(NEXT, 'k3s'));
      const [gotHash, ...sums] = good.stdout.trim().split('\n');
      expect(gotHash).toBe(rel.builds[NEXT]!.sha256);
      expect(sums).toContain(`${rel.builds[NEXT]!.sha256}  k3s`);
      const bad = await fetch(rel.url(NEXT, 'k3s', rel.badChecksumBaseUrl));
      const [badHash, ...badSums] = bad.stdout.trim().split('\n');
      expect(badHash).toBe(rel.builds[NEXT]!.sha256);
      expect(badSums.find((l) => l.endsWith('  k3s'))).not.toBe(`${badHash}  k3s`);
      // Upgrade master1 in place: swap the binary, restart (blocks until READY), the Node reports it.
      await installK3sDouble(lab, ['master1'], rel.builds[NEXT]!);
      await must('master1', 'timeout 90 systemctl restart k3s', 100_000);
      expect(await must('master1', 'k3s --version')).toContain(`k3s version ${NEXT} (`);
      await waitFor('master1 kubeletVersion', 20_000, () => sh('master1', `k3s kubectl get node master1 -o jsonpath='{.status.nodeInfo.kubeletVersion}'`).then((r) => r.stdout), (v) => v === NEXT);
      expect(await voter('master1')).toBe('True');
    } finally {
      await rel.stop();
    }
  });
});
