// Roles k3s-master / k3s-worker without a host: the variables, the pure cluster model
// (config per host, critical-value and node-name checks, order), golden files (config.yaml,
// units as install.sh writes them, env file, kubeconfig), the start/restart decision, the gate
// scripts run by the local /bin/sh against stub systemctl/k3s/journalctl, and the round trips
// of a converged host.
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { makeHostCtx, taskOf } from '../../../lib/testing/index.ts';
import { clearSecrets, redact, REDACTED } from '../../../lib/secrets/redact.ts';
import { k3sAgentPlay, k3sPlays, k3sPreflightPlay, k3sServerPlay, unsafeRollFrom } from '../../../playbooks/plays/k3s.ts';
import { changedInputs, clusterFor, k3sMasterRole, k3sPreflightRole, kubeconfigPath } from '../../../roles/k3s-master/index.ts';
import { AGENT_READY_SCRIPT, decideStart, parseUnitState, SERVER_READY_SCRIPT, UNIT_STATE_SCRIPT } from '../../../roles/k3s-master/lifecycle.ts';
import { agentConfig, checkCluster, criticalView, serverConfig, type K3sCluster } from '../../../roles/k3s-master/model.ts';
import { airgapArtifacts } from '../../../roles/k3s-master/install.ts';
import { imageTarballs, k3sArch, parseSums, parseVersion, releaseUrl } from '../../../roles/k3s-master/release.ts';
import { controllerKubeconfig, maskConfig, renderConfig, renderEnv, renderUnit } from '../../../roles/k3s-master/templates.ts';
import { k3sVars, type K3sVars } from '../../../roles/k3s-master/vars.ts';
import { k3sWorkerRole } from '../../../roles/k3s-worker/index.ts';
import { fileOut } from '../ops/helpers.ts';
import { LocalShell } from '../ops/local-shell.ts';

const INVENTORY = `
all:
  vars:
    api_vip: 10.17.4.32
    k3s_flannel_backend: none
    k3s_disable_network_policy: true
    k3s_disable_kube_proxy: 'yes'
  children:
    k3s_cluster:
      children:
        masters:
          hosts:
            master1: { ansible_host: 10.17.4.21 }
            master2: { ansible_host: 10.17.4.22 }
            master3: { ansible_host: 10.17.4.23 }
        workers:
          hosts:
            worker1: { ansible_host: 10.17.4.24 }
            worker2: { ansible_host: 10.17.4.25 }
            worker3: { ansible_host: 10.17.4.26 }
`;
/** The Cilium values are in the inventory (all hosts); these are extra per-test vars. */
const CILIUM = {};
const TOKEN = 'K10abc123::server:s3cret-Tok3n-value';

afterEach(() => clearSecrets());

const v = (extra: Record<string, unknown> = {}): K3sVars => k3sVars.parse({ api_vip: '10.17.4.32', ...extra });
const ctxOf = (host: string, o: { vars?: Record<string, unknown>; inventory?: string; registered?: Record<string, import('../../../lib/ops/types.ts').OpResult>; check?: boolean; diff?: boolean } = {}) =>
  makeHostCtx(k3sMasterRole, { host, inventory: o.inventory ?? INVENTORY, vars: { ...CILIUM, ...o.vars }, registered: o.registered, check: o.check, diff: o.diff });
const cluster = (o: { vars?: Record<string, unknown>; inventory?: string } = {}): K3sCluster => clusterFor(ctxOf('master1', o).ctx);

describe('k3s variables', () => {
  it('has the documented defaults and the VIP from api_vip', () => {
    const d = v();
    expect(d.k3s_version).toMatch(/^v1\.\d+\.\d+\+k3s\d+$/);
    expect(d.k3s_release_url).toBe('https://github.com/k3s-io/k3s/releases/download');
    expect(d.k3s_install_method).toBe('download');
    expect(d.k3s_flannel_backend).toBe('vxlan');
    expect(d.k3s_disable).toEqual([]);
    expect(d.k3s_ready_timeout).toBe(300_000);
    expect(d.k3s_test_unsafe_roll).toBe(false);
    expect(k3sVars.parse({ k3s_api_vip: '10.0.0.100', k3s_ready_timeout: '90s' }).k3s_ready_timeout).toBe(90_000);
  });
  it('refuses what cannot work, naming the key', () => {
    const bad = (x: Record<string, unknown>) => {
      const r = k3sVars.safeParse(x);
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    };
    expect(bad({})).toContain('k3s_api_vip');
    expect(bad({ api_vip: '10.0.0.1', k3s_version: '1.31.12' })).toContain('k3s_version');
    expect(bad({ api_vip: '10.0.0.1', k3s_install_method: 'airgap' })).toContain('k3s_airgap_dir');
    expect(bad({ api_vip: '10.0.0.1', k3s_disable: ['traefk'] })).toContain('k3s_disable.0');
    expect(bad({ api_vip: '10.0.0.1', k3s_flannel_backend: 'calico' })).toContain('k3s_flannel_backend');
    expect(bad({ api_vip: '10.0.0.1', k3s_node_name: 'Master_1' })).toContain('k3s_node_name');
    expect(bad({ api_vip: '10.0.0.1', k3s_token: 'has space in it' })).toContain('k3s_token');
  });
  it('registers the token as a secret and never echoes it in an error', () => {
    v({ k3s_token: TOKEN });
    expect(redact(`token: ${TOKEN}`)).toBe(`token: ${REDACTED}`);
    const r = k3sVars.safeParse({ api_vip: '10.0.0.1', k3s_token: 'short' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).not.toContain('"short"');
  });
});

describe('the cluster model', () => {
  it('reads servers, agents, node names and peer addresses from the inventory', () => {
    const cl = cluster();
    expect(cl.servers.map((s) => `${s.host}=${s.name}@${s.ip}`)).toEqual(['master1=master1@10.17.4.21', 'master2=master2@10.17.4.22', 'master3=master3@10.17.4.23']);
    expect(cl.agents.map((s) => s.host)).toEqual(['worker1', 'worker2', 'worker3']);
    expect(checkCluster(cl)).toEqual({ errors: [], warnings: [] });
  });

  it('first server: cluster-init, no server, the VIP in tls-san, Cilium flags; joiners: server = the VIP', () => {
    const cl = cluster();
    const first = serverConfig(cl.servers[0]!, { first: true });
    expect(first).toEqual({
      'cluster-init': true,
      'node-name': 'master1',
      'node-ip': '10.17.4.21',
      'tls-san': ['10.17.4.32'],
      'write-kubeconfig-mode': '0600',
      'flannel-backend': 'none',
      'disable-network-policy': true,
      'disable-kube-proxy': true,
    });
    const join = serverConfig(cl.servers[1]!, { first: false, token: TOKEN });
    expect(join.token).toBe(TOKEN);
    expect(join.server).toBe('https://10.17.4.32:6443');
    expect(join['cluster-init']).toBeUndefined();
    expect(criticalView(join)).toEqual(criticalView(first));
  });

  it('golden config.yaml of a joining server (token quoted as YAML needs, tls-san a list)', () => {
    const inv = INVENTORY.replace('master2: { ansible_host: 10.17.4.22 }', 'master2: { ansible_host: 10.17.4.22, k3s_tls_san: [k8s.lab.example], k3s_disable: [traefik, servicelb], k3s_node_taints: ["CriticalAddonsOnly=true:NoExecute"] }');
    const cl = cluster({ inventory: inv });
    const text = renderConfig(serverConfig(cl.servers[1]!, { first: false, token: TOKEN }), 'k3s-master');
    expect(text).toBe(`# Managed by drover (role k3s-master): local changes are overwritten.
token: K10abc123::server:s3cret-Tok3n-value
server: https://10.17.4.32:6443
node-name: master2
node-ip: 10.17.4.22
tls-san:
  - 10.17.4.32
  - k8s.lab.example
write-kubeconfig-mode: "0600"
flannel-backend: none
disable-network-policy: true
disable-kube-proxy: true
disable:
  - traefik
  - servicelb
node-taint:
  - CriticalAddonsOnly=true:NoExecute
`);
    expect(parseYaml(text).token).toBe(TOKEN);
    expect(maskConfig(text)).toContain(`token: ${REDACTED}`);
    expect(maskConfig(text)).not.toContain('s3cret');
  });

  it('agent config: through the VIP with the token, no server-only keys; extras merged last', () => {
    const cl = cluster({ inventory: INVENTORY.replace('worker1: { ansible_host: 10.17.4.24 }', 'worker1: { ansible_host: 10.17.4.24, k3s_agent_config_extra: { kubelet-arg: [max-pods=150] } }') });
    expect(agentConfig(cl.agents[0]!, { token: TOKEN })).toEqual({
      token: TOKEN,
      server: 'https://10.17.4.32:6443',
      'node-name': 'worker1',
      'node-ip': '10.17.4.24',
      'kubelet-arg': ['max-pods=150'],
    });
  });

  it('a server with another critical value is refused before any join (k3s#12745), naming host and key', () => {
    const inv = INVENTORY.replace('master3: { ansible_host: 10.17.4.23 }', 'master3: { ansible_host: 10.17.4.23, k3s_flannel_backend: vxlan, k3s_server_config_extra: { "egress-selector-mode": pod } }');
    const { errors } = checkCluster(cluster({ inventory: inv }));
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/critical value egress-selector-mode differs: master1=\(unset\), master3=pod/);
    expect(errors[1]).toMatch(/critical value flannel-backend differs: master1=none, master3=vxlan/);
  });

  it('disable lists compare as sets, `disable+` included', () => {
    const a = criticalView({ disable: ['traefik', 'servicelb'] });
    const b = criticalView({ disable: ['servicelb'], 'disable+': ['traefik'] });
    expect(a.disable).toBe(b.disable);
  });

  it('duplicate node names and addresses, a token on some nodes only, two VIPs: errors; an even server count: a warning', () => {
    const dup = INVENTORY.replace('worker1: { ansible_host: 10.17.4.24 }', 'worker1: { ansible_host: 10.17.4.24, k3s_node_name: master2 }').replace(
      'worker2: { ansible_host: 10.17.4.25 }',
      `worker2: { ansible_host: 10.17.4.24, k3s_token: ${TOKEN}, k3s_api_vip: 10.17.4.99 }`,
    );
    const { errors } = checkCluster(cluster({ inventory: dup }));
    expect(errors.join('\n')).toMatch(/node name "master2" is used by master2, worker1/);
    expect(errors.join('\n')).toMatch(/node-ip 10.17.4.24 is used by worker1, worker2/);
    expect(errors.join('\n')).toMatch(/k3s_token is set on worker2 but not on the others/);
    expect(errors.join('\n')).toMatch(/API endpoint differs/);
    expect(errors.join('\n')).not.toContain('s3cret');
    const four = INVENTORY.replace('master3: { ansible_host: 10.17.4.23 }', 'master3: { ansible_host: 10.17.4.23 }\n            master4: { ansible_host: 10.17.4.20 }');
    const c4 = checkCluster(cluster({ inventory: four }));
    expect(c4.errors).toEqual([]);
    expect(c4.warnings[0]).toMatch(/4 servers: etcd needs an odd number/);
  });

  it('the preflight task fails with every error and runs once', async () => {
    const inv = INVENTORY.replace('master3: { ansible_host: 10.17.4.23 }', 'master3: { ansible_host: 10.17.4.23, k3s_disable_kube_proxy: false }');
    const t = taskOf(k3sPreflightRole, 'cluster plan (node names, critical values, VIP, token)');
    expect(t.runOnce).toBe(true);
    const bad = await t.run(makeHostCtx(k3sPreflightRole, { host: 'master1', inventory: inv, vars: CILIUM }).ctx);
    expect(bad.status).toBe('failed');
    expect(bad.msg).toMatch(/disable-kube-proxy differs: master1=true, master3=\(unset\)/);
    const good = await t.run(makeHostCtx(k3sPreflightRole, { host: 'master1', inventory: INVENTORY, vars: CILIUM }).ctx);
    expect(good).toMatchObject({ status: 'ok' });
    expect(good.msg).toMatch(/3 servers \(master1 bootstraps, then master2, master3 one at a time\), 3 agents, API https:\/\/10\.17\.4\.32:6443/);
  });
});

describe('the plays: the safe order', () => {
  it('preflight, then servers one at a time (fatal on any error), then agents (a canary, then the rest)', () => {
    const [pre, servers, agents] = k3sPlays();
    expect(pre).toBe(k3sPreflightPlay);
    expect(pre!.anyErrorsFatal).toBe(true);
    expect(servers).toMatchObject({ hosts: 'masters', serial: 1, anyErrorsFatal: true });
    expect(agents).toMatchObject({ hosts: 'workers', serial: [1, '100%'] });
    expect(k3sAgentPlay({ agentSerial: 1 }).serial).toBe(1);
    expect(k3sServerPlay({ unsafeRoll: true }).serial).toBeUndefined();
    expect(unsafeRollFrom({ k3s_test_unsafe_roll: 'yes' })).toBe(true);
    expect(unsafeRollFrom({})).toBe(false);
  });
});

describe('templates', () => {
  it('k3s.service is install.sh\'s unit: Type=notify, TimeoutStartSec=0, env file, ExecStart `k3s server` only', () => {
    const u = renderUnit('server');
    for (const line of [
      'Type=notify',
      'EnvironmentFile=-/etc/systemd/system/k3s.service.env',
      'KillMode=process',
      'Delegate=yes',
      'LimitNOFILE=1048576',
      'TimeoutStartSec=0',
      'Restart=always',
      'RestartSec=5s',
      'ExecStartPre=-/sbin/modprobe br_netfilter',
      'WantedBy=multi-user.target',
    ])
      expect(u.split('\n')).toContain(line);
    expect(u).toContain('ExecStart=/usr/local/bin/k3s \\\n    server \\\n\n');
    expect(u).not.toMatch(/token/i);
    expect(renderUnit('agent')).toContain('EnvironmentFile=-/etc/systemd/system/k3s-agent.service.env');
    expect(renderUnit('agent')).toContain('    agent \\');
  });
  it('env file: sorted KEY=value lines', () => {
    expect(renderEnv({ NO_PROXY: '10.0.0.0/8,.svc', HTTP_PROXY: 'http://proxy:3128' }, 'k3s-worker')).toBe(
      '# Managed by drover (role k3s-worker): local changes are overwritten.\nHTTP_PROXY=http://proxy:3128\nNO_PROXY=10.0.0.0/8,.svc\n',
    );
  });
  it('kubeconfig: server rewritten to the VIP, default renamed after the cluster', () => {
    const k3sYaml = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
`;
    const out = parseYaml(controllerKubeconfig(k3sYaml, { server: 'https://10.17.4.32:6443', name: 'lab' }));
    expect(out.clusters[0]).toEqual({ name: 'lab', cluster: { 'certificate-authority-data': 'Q0E=', server: 'https://10.17.4.32:6443' } });
    expect(out.contexts[0]).toEqual({ name: 'lab', context: { cluster: 'lab', user: 'lab' } });
    expect(out['current-context']).toBe('lab');
    expect(out.users[0].name).toBe('lab');
    expect(out.users[0].user['client-key-data']).toBe('S0VZ');
    expect(() => controllerKubeconfig('not: a kubeconfig\n', { server: 'x', name: 'y' })).toThrow(/not a kubeconfig/);
    expect(kubeconfigPath(v({ k3s_cluster_name: 'lab' }))).toMatch(/\.kube\/lab\.yaml$/);
  });
});

describe('the release', () => {
  it('assets per architecture, URL with + as %2B, checksum file and version parsing', () => {
    expect(k3sArch('x86_64')).toEqual({ arch: 'amd64', binary: 'k3s' });
    expect(k3sArch('aarch64')).toEqual({ arch: 'arm64', binary: 'k3s-arm64' });
    expect(k3sArch('armv7l')).toEqual({ arch: 'arm', binary: 'k3s-armhf' });
    expect(k3sArch('riscv64')).toBeUndefined();
    expect(releaseUrl('https://github.com/k3s-io/k3s/releases/download/', 'v1.31.12+k3s1', 'k3s')).toBe('https://github.com/k3s-io/k3s/releases/download/v1.31.12%2Bk3s1/k3s');
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    expect(parseSums(`${a}  k3s\n${b} *k3s-airgap-images-amd64.tar.zst\ngarbage\n`)).toEqual(new Map([['k3s', a], ['k3s-airgap-images-amd64.tar.zst', 'b'.repeat(64)]]));
    expect(parseVersion('k3s version v1.31.12+k3s1 (4b7f5d2c)\ngo version go1.22.12\n')).toBe('v1.31.12+k3s1');
    expect(parseVersion('')).toBeUndefined();
    expect(imageTarballs(k3sArch('x86_64')!)[0]).toBe('k3s-airgap-images-amd64.tar.zst');
  });

  describe('air-gap folder', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'k3s-airgap-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));
    it('is verified against its sha256sum file before anything is uploaded', async () => {
      const { createHash } = await import('node:crypto');
      const h = (s: string) => createHash('sha256').update(s).digest('hex');
      await writeFile(join(dir, 'k3s'), 'BINARY');
      await writeFile(join(dir, 'k3s-airgap-images-amd64.tar.zst'), 'IMAGES');
      const arch = k3sArch('x86_64')!;
      expect(await airgapArtifacts(dir, arch)).toMatch(/sha256sum-amd64.txt is missing/);
      await writeFile(join(dir, 'sha256sum-amd64.txt'), `${h('BINARY')}  k3s\n${h('IMAGES')}  k3s-airgap-images-amd64.tar.zst\n`);
      const ok = await airgapArtifacts(dir, arch);
      expect(typeof ok).toBe('object');
      if (typeof ok === 'object') expect(ok.images?.name).toBe('k3s-airgap-images-amd64.tar.zst');
      // A tampered file: refused, with both sums.
      const other = await mkdtemp(join(tmpdir(), 'k3s-airgap-bad-'));
      await writeFile(join(other, 'k3s'), 'TAMPERED');
      await writeFile(join(other, 'sha256sum-amd64.txt'), `${h('BINARY')}  k3s\n`);
      expect(await airgapArtifacts(other, arch)).toMatch(/does not match .*refusing to install it/);
      await rm(other, { recursive: true, force: true });
    });
  });
});

describe('start or restart: a re-run restarts nothing', () => {
  it('decides from the unit state and what changed', () => {
    expect(decideStart({ active: 'inactive', newer: [] }, 'k3s', []).action).toBe('start');
    expect(decideStart({ active: 'failed', newer: [] }, 'k3s', ['unit']).action).toBe('start');
    expect(decideStart({ active: 'active', newer: [] }, 'k3s', [])).toEqual({ action: 'none', msg: 'k3s is active, nothing it reads changed since it started' });
    expect(decideStart({ active: 'activating', newer: [] }, 'k3s', []).action).toBe('none');
    expect(decideStart({ active: 'active', newer: [] }, 'k3s', ['/etc/rancher/k3s/config.yaml'])).toEqual({ action: 'restart', msg: 'restart k3s: /etc/rancher/k3s/config.yaml changed' });
    // A change written by an earlier, interrupted run is still seen (file newer than the start).
    expect(decideStart({ active: 'active', since: 100, newer: ['/usr/local/bin/k3s'] }, 'k3s', []).action).toBe('restart');
  });
  it('parses the probe: files modified after the start', () => {
    const s = parseUnitState('active=active\nsince=1000\nmtime=999 /usr/local/bin/k3s\nmtime=1001 /etc/rancher/k3s/config.yaml\n');
    expect(s).toEqual({ active: 'active', since: 1000, newer: ['/etc/rancher/k3s/config.yaml'] });
    expect(parseUnitState('active=inactive\nsince=\n')).toEqual({ active: 'inactive', newer: [] });
  });
  it('what changed in this run comes from the registered results', () => {
    const { ctx } = ctxOf('master2', { registered: { k3s_config: { status: 'changed' }, k3s_unit: { status: 'ok' }, k3s_binary: { status: 'changed' } } });
    expect(changedInputs(ctx)).toEqual(['/usr/local/bin/k3s', '/etc/rancher/k3s/config.yaml']);
  });
});

describe('gate scripts in a real /bin/sh with stub systemctl, k3s and journalctl', () => {
  let bin: string;
  const sh = new LocalShell();
  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), 'k3s-gate-'));
    // State files drive the stubs: $bin/state (ActiveState), $bin/readyz (ok or fail), $bin/voter.
    const stub = async (name: string, body: string) => {
      await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`);
      await chmod(join(bin, name), 0o755);
    };
    await stub('systemctl', `case "$*" in *ActiveState*) cat ${bin}/state;; *ActiveEnterTimestamp*) echo 'Sun 2026-12-06 22:00:00 UTC';; esac`);
    await stub('journalctl', `echo 'level=fatal msg="starting kubernetes: preparing server: failed to validate server configuration: critical configuration value mismatch between servers"'`);
    await stub('k3s', `case "$*" in *readyz*) if [ "$(cat ${bin}/readyz)" = ok ]; then echo ok; else echo 'Error from server (ServiceUnavailable)' >&2; exit 1; fi;; *EtcdIsVoter*) cat ${bin}/voter;; esac`);
    await writeFile(join(bin, 'token'), 'K10x::server:y');
  });
  afterAll(() => rm(bin, { recursive: true, force: true }));
  const gate = async (script: string, args: Array<string | number>) => {
    const { quote } = await import('../../../lib/shell/quote.ts');
    return sh.exec(`PATH=${quote(bin)}:$PATH; export PATH; sh -c ${quote(script)} gate ${args.map(quote).join(' ')}`);
  };
  const set = async (state: string, readyz: string, voter: string) => {
    await writeFile(join(bin, 'state'), `${state}\n`);
    await writeFile(join(bin, 'readyz'), readyz);
    await writeFile(join(bin, 'voter'), voter);
  };

  it('a ready joiner passes only as an etcd voter', async () => {
    await set('active', 'ok', 'True');
    const r = await gate(SERVER_READY_SCRIPT, ['k3s', 5, 'master2', 1, join(bin, 'k3s'), join(bin, 'token')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/master2 is an etcd voter/);
  });
  it('times out with the reason and the journal tail (bounded: never a hang)', async () => {
    await set('active', 'ok', 'False');
    const learner = await gate(SERVER_READY_SCRIPT, ['k3s', 1, 'master2', 1, join(bin, 'k3s'), join(bin, 'token')]);
    expect(learner.code).toBe(124);
    expect(learner.stderr).toMatch(/^master2 is not an etcd voter yet \(EtcdIsVoter: False\)/);
    await set('activating', 'fail', '');
    const stuck = await gate(SERVER_READY_SCRIPT, ['k3s', 1, 'master2', 1, join(bin, 'k3s'), join(bin, 'token')]);
    expect(stuck.code).toBe(124);
    expect(stuck.stderr).toMatch(/unit k3s is activating \(not active: no READY yet\)/);
    expect(stuck.stderr).toMatch(/--- journalctl -u k3s \(last 15 lines\) ---\n.*critical configuration value mismatch/);
    await set('active', 'fail', '');
    const noQuorum = await gate(SERVER_READY_SCRIPT, ['k3s', 1, 'master1', 0, join(bin, 'k3s'), join(bin, 'token')]);
    expect(noQuorum.stderr).toMatch(/readyz: Error from server \(ServiceUnavailable\)/);
    await set('activating', 'fail', '');
    const agent = await gate(AGENT_READY_SCRIPT, ['k3s-agent', 1]);
    expect(agent.code).toBe(124);
    expect(agent.stderr).toMatch(/^unit k3s-agent is activating \(no READY: the agent has not joined\)/);
  });
  it('the unit-state probe lists files changed after the start', async () => {
    const f = join(bin, 'newfile');
    await writeFile(f, 'x');
    await set('active', 'ok', 'True');
    const r = await sh.exec(`PATH=${bin}:$PATH; export PATH; sh -c '${UNIT_STATE_SCRIPT.replace(/'/g, `'\\''`)}' probe k3s ${f}`);
    const s = parseUnitState(r.stdout);
    expect(s.active).toBe('active');
    expect(s.newer).toEqual([f]);
  });
});

describe('the role on a converged host (FakeTransport)', () => {
  it('the links: each one judged on its own (a packaged kubectl is kept, the others made), all three probed', async () => {
    const { ctx, transport } = ctxOf('master2', { vars: { k3s_token: TOKEN } });
    transport
      .on('/usr/local/bin/kubectl', { stdout: fileOut({ content: 'ELF', mode: '755' }) })
      .on('/usr/local/bin/crictl', { stdout: fileOut({ type: 'link', target: '/usr/local/bin/k3s' }) })
      .on('/usr/local/bin/ctr', { stdout: fileOut({ type: 'absent' }) });
    const task = k3sMasterRole.tasks.find((t) => t.name === 'kubectl, crictl, ctr links')!;
    const r = await task.run(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'link /usr/local/bin/ctr -> /usr/local/bin/k3s; kept /usr/local/bin/kubectl (not a link: use k3s kubectl)' });
    expect(transport.commands.filter((c) => c.startsWith('ln '))).toEqual(["ln -s /usr/local/bin/k3s /usr/local/bin/ctr"]);
  });

  const VERSION = 'v1.31.12+k3s1';
  it('every task of a converged joining server answers ok, one round trip each, and restarts nothing', async () => {
    const { ctx, transport } = ctxOf('master2', { vars: { k3s_token: TOKEN, k3s_version: VERSION, k3s_symlinks: false } });
    const cfg = renderConfig(serverConfig(clusterFor(ctx).servers[1]!, { first: false, token: TOKEN }), 'k3s-master');
    const fileProbe = (content: string, mode: string) => ({ stdout: fileOut({ content, mode }) });
    // First matching rule wins: the more specific commands first.
    transport
      .on('k3s-unit-state', { stdout: 'active=active\nsince=2000000000\nmtime=1 /usr/local/bin/k3s\n' })
      .on('k3s-gate', { stdout: 'ready: k3s active, /readyz ok, master2 is an etcd voter\n' })
      .on('systemctl show -p Id', { stdout: 'load=loaded\nactive=active\nenabled=enabled\n' })
      .on('--version', { stdout: `k3s version ${VERSION} (4b7f5d2c)\ngo version go1.22.12\n` })
      .on('/etc/rancher/k3s/config.yaml', fileProbe(cfg, '600'))
      .on('k3s.service.env', fileProbe(renderEnv({}, 'k3s-master'), '600'))
      .on('k3s.service', fileProbe(renderUnit('server'), '644'));
    const out: Record<string, string> = {};
    for (const t of k3sMasterRole.tasks) {
      const when = t.when?.(ctx) ?? true;
      if (when !== true) {
        out[t.name] = `skipped: ${when}`;
        continue;
      }
      const before = transport.commands.length;
      const r = await t.run(ctx);
      out[t.name] = `${r.status} (${transport.commands.length - before} exec)`;
    }
    expect(out).toEqual({
      'K3s binary (pinned version, checksum verified)': 'ok (1 exec)',
      'kubectl, crictl, ctr links': 'skipped: k3s_symlinks is false',
      'cluster token from the first server': 'skipped: k3s_token is set',
      'config.yaml': 'ok (1 exec)',
      'k3s.service.env': 'ok (1 exec)',
      'k3s.service': 'ok (1 exec)',
      'k3s enabled': 'ok (1 exec)',
      'k3s started (restarted only when its binary, config or unit changed)': 'ok (1 exec)',
      'k3s ready (joining: an etcd voter) before the next server': 'ok (1 exec)',
      'kubeconfig on the controller (server: the VIP)': 'skipped: only fetched from the first server',
    });
    expect(transport.commands.join('\n')).not.toMatch(/restart|systemctl start/);
    expect(transport.commands.join('\n')).not.toContain(TOKEN);
  });

  it('a changed config restarts with --no-block (never a blocking start), and the token is in no command', async () => {
    const { ctx, transport } = ctxOf('master2', { vars: { k3s_token: TOKEN }, registered: { k3s_config: { status: 'changed' } } });
    transport.on('k3s-unit-state', { stdout: 'active=active\nsince=2000000000\n' });
    const r = await taskOf(k3sMasterRole, 'k3s started (restarted only when its binary, config or unit changed)').run(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'restart k3s: /etc/rancher/k3s/config.yaml changed' });
    expect(transport.commands.at(-1)).toBe('systemctl restart --no-block k3s');
    const cfg = await taskOf(k3sMasterRole, 'config.yaml').run(ctx);
    expect(cfg.status).toBe('changed');
    const put = transport.files.get('/etc/rancher/k3s/config.yaml');
    expect(put?.options?.mode).toBe('0600');
    expect(put?.content.toString()).toContain(`token: ${TOKEN}`);
    expect(JSON.stringify(cfg)).not.toContain(TOKEN);
    expect(transport.commands.join('\n')).not.toContain(TOKEN);
  });

  it('a joiner without k3s_token reads the first server\'s token (delegated), registered as a secret', async () => {
    const t = taskOf(k3sMasterRole, 'cluster token from the first server');
    const { ctx, transport } = ctxOf('master3');
    expect(t.when?.(ctx)).toBe(true);
    expect(typeof t.delegateTo === 'function' ? t.delegateTo(ctx) : t.delegateTo).toBe('master1');
    expect(t.when?.(ctxOf('master1').ctx)).toMatch(/first server: K3s generates the token/);
    const missing = await t.run(ctx);
    expect(missing).toMatchObject({ status: 'failed', msg: expect.stringMatching(/cannot read the cluster token .*\(is the first server installed and ready\?\)/) });
    // Read as a file, not through a command (command output is redacted once it is a secret).
    await transport.put('/var/lib/rancher/k3s/server/token', `${TOKEN}\n`);
    const r = await t.run(ctx);
    expect(r).toMatchObject({ status: 'ok', msg: 'cluster token read from /var/lib/rancher/k3s/server/token', data: { token: TOKEN } });
    expect(redact(TOKEN)).toBe(REDACTED);
    const cfg = await taskOf(k3sMasterRole, 'config.yaml').run(ctxOf('master3', { registered: { k3s_cluster_token: r } }).ctx);
    expect(cfg.status).toBe('changed');
    const none = await taskOf(k3sMasterRole, 'config.yaml').run(ctxOf('master3').ctx);
    expect(none).toMatchObject({ status: 'failed', msg: expect.stringMatching(/no cluster token/) });
  });

  it('download: the checksum file is read first; a binary it does not list is refused before any download', async () => {
    const { ctx, transport } = ctxOf('master1', { vars: { k3s_release_url: 'http://10.17.4.1:8080/releases', k3s_version: VERSION } });
    transport
      .on('--version', { stdout: '' })
      .on('command -v curl || command -v wget', { stdout: '/usr/bin/curl\n' })
      .on('sha256sum-amd64.txt', { stdout: `${'c'.repeat(64)}  k3s-arm64\n` });
    const r = await taskOf(k3sMasterRole, 'K3s binary (pinned version, checksum verified)').run(ctx);
    expect(r).toMatchObject({ status: 'failed', msg: 'http://10.17.4.1:8080/releases/v1.31.12%2Bk3s1/sha256sum-amd64.txt lists no sha256 for k3s' });
    expect(transport.files.size).toBe(0);
    expect(transport.commands.some((c) => c.includes('mv -f'))).toBe(false);
  });

  it('the worker role: VIP checked before the start, READY bounded, registration checked on the first server', () => {
    const names = k3sWorkerRole.tasks.map((t) => t.name);
    expect(names.indexOf('API VIP reachable from this agent')).toBeLessThan(names.indexOf('k3s-agent started (restarted only when its binary, config or unit changed)'));
    const reg = taskOf(k3sWorkerRole, 'node registered (checked on the first server)');
    const { ctx } = makeHostCtx(k3sWorkerRole, { host: 'worker2', inventory: INVENTORY, vars: CILIUM });
    expect(typeof reg.delegateTo === 'function' ? reg.delegateTo(ctx) : reg.delegateTo).toBe('master1');
  });
});
