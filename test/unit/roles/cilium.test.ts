import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseInventoryText } from '../../../lib/inventory/index.ts';
import type { Inventory } from '../../../lib/inventory/types.ts';
import { makeHostCtx } from '../../../lib/run/context.ts';
import type { HostCtx } from '../../../lib/run/types.ts';
import { clearSecrets } from '../../../lib/secrets/redact.ts';
import ciliumDefault, {
  apiEndpoint,
  chartArchiveMeta,
  helmChartNote,
  checkAgainstK3s,
  checkApiEndpoint,
  CILIUM_CHART_KEYS,
  CILIUM_CHART_KEYS_VERSION,
  CILIUM_DEFAULT_VERSION,
  ciliumRole,
  ciliumValues,
  ciliumVars,
  deepMerge,
  manifestPath,
  nodeProblems,
  planManifest,
  serverNet,
  serversGroup,
  unknownTopLevelKeys,
  waitReady,
  writeManifest,
  type CiliumVars,
  type K3sServerNet,
} from '../../../roles/cilium/index.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { debianFacts } from '../ops/helpers.ts';
import { expectGolden, fakeFs } from './cilium-cloudflared-fakefs.ts';
import { ciliumSchema, manifestDocs, validateCiliumValues, validateHelmChart } from './cilium-cloudflared-validators.ts';

const FIX = new URL('../../fixtures/cilium/', import.meta.url);
const STUB = fileURLToPath(new URL('cilium-1.19.6-stub.tgz', FIX));
const STUB_OLD = fileURLToPath(new URL('cilium-1.18.12-stub.tgz', FIX));

/** The lab topology with the K3s settings Cilium needs on the masters. */
const INVENTORY = `
all:
  vars:
    api_vip: 10.17.4.32
  children:
    k3s_cluster:
      children:
        masters:
          vars:
            k3s_flannel_backend: none
            k3s_disable_network_policy: true
            k3s_disable_kube_proxy: "yes"
          hosts:
            master1: { ansible_host: 10.17.4.21 }
            master2: { ansible_host: 10.17.4.22 }
            master3: { ansible_host: 10.17.4.23 }
        workers:
          hosts:
            worker1: { ansible_host: 10.17.4.24 }
`;

const inv = (): Inventory => parseInventoryText(INVENTORY, 'test.yaml');
const vars = (extra: Record<string, unknown> = {}): CiliumVars => ciliumVars.parse(extra);

function ctxFor(t: FakeTransport, o: { host?: string; vars?: Record<string, unknown>; check?: boolean; inventory?: Inventory } = {}): HostCtx<CiliumVars> {
  const inventory = o.inventory ?? inv();
  const host = o.host ?? 'master1';
  return makeHostCtx({
    host,
    transport: t,
    facts: debianFacts,
    check: o.check ?? false,
    diff: false,
    become: false,
    vars: vars(o.vars),
    hostVars: inventory.hosts.get(host)!.vars,
    inventory,
    groups: inventory.hosts.get(host)!.groups,
    registered: {},
    factsOf: () => undefined,
    log: () => {},
  }) as HostCtx<CiliumVars>;
}

const lookFor = (i: Inventory = inv()) => ({ hostVars: i.hosts.get('master1')!.vars, servers: ['master1', 'master2', 'master3'], varsOf: (h: string) => i.hosts.get(h)!.vars });

async function manifest(extra: Record<string, unknown> = {}, i?: Inventory): Promise<string> {
  const p = await planManifest(vars(extra), lookFor(i));
  if (p instanceof Error) throw p;
  return p.content;
}

/** The HelmChart and its values, validated against helm-controller's CRD and Cilium's schema. */
function validated(text: string): { chart: Record<string, unknown>; values: Record<string, unknown> } {
  const docs = manifestDocs(text);
  expect(docs).toHaveLength(1);
  const chart = docs[0]!;
  expect(validateHelmChart(chart)).toEqual([]);
  const values = parse(String((chart.spec as Record<string, unknown>).valuesContent)) as Record<string, unknown>;
  expect(validateCiliumValues(values)).toEqual([]);
  return { chart, values };
}

afterEach(() => clearSecrets());

describe('cilium vars', () => {
  it('applies the documented defaults', () => {
    expect(vars()).toMatchObject({
      cilium_version: '1.19.6',
      cilium_chart_repo: 'https://helm.cilium.io/',
      cilium_chart_delivery: 'content',
      cilium_manifests_dir: '/var/lib/rancher/k3s/server/manifests',
      cilium_kube_proxy_replacement: true,
      cilium_k8s_service_port: 6443,
      cilium_ipv6: false,
      cilium_ipam_mode: 'kubernetes',
      cilium_operator_replicas: 2,
      cilium_hubble: true,
      cilium_hubble_relay: true,
      cilium_hubble_ui: false,
      cilium_clustermesh_apiserver: true,
      cilium_values_extra: {},
      cilium_wait_timeout_s: 300,
    });
    expect(vars().cilium_servers_group).toBeUndefined();
    expect(CILIUM_DEFAULT_VERSION).toBe(CILIUM_CHART_KEYS_VERSION);
  });

  it('reads INI/-e spellings and refuses nonsense, naming the key', () => {
    expect(vars({ cilium_kube_proxy_replacement: 'no', cilium_operator_replicas: '3', cilium_k8s_service_port: '6444' })).toMatchObject({
      cilium_kube_proxy_replacement: false,
      cilium_operator_replicas: 3,
      cilium_k8s_service_port: 6444,
    });
    const bad = (x: Record<string, unknown>) => {
      const r = ciliumVars.safeParse(x);
      expect(r.success).toBe(false);
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    expect(bad({ cilium_version: 'v1.19.6' })).toMatch(/^cilium_version: expected a chart version/);
    expect(bad({ cilium_cluster_id: 0 })).toMatch(/^cilium_cluster_id:/);
    expect(bad({ cilium_cluster_id: 256, cilium_cluster_name: 'a' })).toMatch(/^cilium_cluster_id:/);
    expect(bad({ cilium_cluster_name: 'Cluster_A', cilium_cluster_id: 1 })).toMatch(/^cilium_cluster_name: expected a lower-case name/);
    expect(bad({ cilium_cluster_name: 'cluster-a' })).toBe('cilium_cluster_id: ClusterMesh needs both cilium_cluster_name and cilium_cluster_id (1-255)');
    expect(bad({ cilium_chart_file: '/tmp/cilium.tar' })).toBe('cilium_chart_file: expected a chart archive (.tgz)');
    expect(bad({ cilium_cluster_pool_ipv4_cidrs: ['10.42.0.0/33'] })).toMatch(/^cilium_cluster_pool_ipv4_cidrs\.0:/);
  });
});

describe('cilium values and HelmChart', () => {
  it('the key list is exactly the pinned chart schema\'s top-level properties', () => {
    expect([...CILIUM_CHART_KEYS].sort()).toEqual(Object.keys(ciliumSchema().properties).sort());
  });

  it('renders the golden manifest for the lab (VIP, kube-proxy replacement, Hubble relay), valid for helm-controller and Cilium 1.19.6', async () => {
    const text = await manifest();
    expectGolden(new URL('manifest-default.yaml', FIX), text);
    const { chart, values } = validated(text);
    expect(chart.spec).toMatchObject({ repo: 'https://helm.cilium.io/', chart: 'cilium', version: '1.19.6', targetNamespace: 'kube-system', bootstrap: true });
    expect(chart.metadata).toEqual({ name: 'cilium', namespace: 'kube-system' });
    expect(values).toMatchObject({ kubeProxyReplacement: true, k8sServiceHost: '10.17.4.32', k8sServicePort: 6443, ipv6: { enabled: false }, ipam: { mode: 'kubernetes' } });
    expect(values).not.toHaveProperty('cluster');
  });

  it('renders the golden ClusterMesh manifest (seed 000: cluster name/id, clustermesh API server, cluster-pool IPAM, local LB, Hubble UI, IPv6)', async () => {
    const text = await manifest({
      cilium_cluster_name: 'cluster-a',
      cilium_cluster_id: 1,
      cilium_k8s_service_host: '127.0.0.1',
      cilium_k8s_service_port: 6444,
      cilium_ipam_mode: 'cluster-pool',
      cilium_cluster_pool_ipv4_cidrs: ['10.42.0.0/16'],
      cilium_hubble_ui: true,
      cilium_ipv6: true,
      cilium_operator_replicas: 3,
    });
    expectGolden(new URL('manifest-clustermesh.yaml', FIX), text);
    const { values } = validated(text);
    expect(values).toMatchObject({
      k8sServiceHost: '127.0.0.1',
      k8sServicePort: 6444,
      cluster: { name: 'cluster-a', id: 1 },
      clustermesh: { useAPIServer: true, apiserver: { service: { type: 'NodePort' } } },
      ipam: { mode: 'cluster-pool', operator: { clusterPoolIPv4PodCIDRList: ['10.42.0.0/16'], clusterPoolIPv4MaskSize: 24 } },
      hubble: { enabled: true, relay: { enabled: true }, ui: { enabled: true } },
      ipv6: { enabled: true },
      operator: { replicas: 3 },
    });
  });

  it('air gap: chartContent holds the controller\'s archive (base64), static serves it from %{KUBERNETES_API}%', async () => {
    const content = validated(await manifest({ cilium_chart_file: STUB }));
    const spec = content.chart.spec as Record<string, unknown>;
    expect(spec).not.toHaveProperty('repo');
    expect(Buffer.from(String(spec.chartContent), 'base64').equals(readFileSync(STUB))).toBe(true);
    const text = await manifest({ cilium_chart_file: STUB, cilium_chart_delivery: 'static' });
    expectGolden(new URL('manifest-static.yaml', FIX), text);
    expect(validated(text).chart.spec).toMatchObject({ chart: 'https://%{KUBERNETES_API}%/static/charts/cilium-1.19.6.tgz', bootstrap: true });
  });

  it('refuses an archive of another version or not a chart, before anything is written', async () => {
    const wrong = await planManifest(vars({ cilium_chart_file: STUB_OLD }), lookFor());
    expect(String(wrong)).toContain('cilium_chart_file cilium-1.18.12-stub.tgz holds chart cilium 1.18.12, but cilium_version is 1.19.6');
    const wrongStatic = await planManifest(vars({ cilium_chart_file: STUB_OLD, cilium_chart_delivery: 'static' }), lookFor());
    expect(String(wrongStatic)).toContain('holds chart cilium 1.18.12, but cilium_version is 1.19.6');
    const missing = await planManifest(vars({ cilium_chart_file: '/nonexistent/cilium-1.19.6.tgz' }), lookFor());
    expect(String(missing)).toContain('cilium_chart_file /nonexistent/cilium-1.19.6.tgz: ENOENT');
    expect(chartArchiveMeta(readFileSync(STUB))).toEqual({ name: 'cilium', version: '1.19.6' });
    expect(String(chartArchiveMeta(Buffer.from('not gzip')))).toContain('not a gzip archive');
  });

  it('merges cilium_values_extra as helm does (maps deep, lists replaced) and refuses unknown top-level keys with a hint', async () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2 });
    const v = ciliumValues(vars({ cilium_values_extra: { hubble: { metrics: { enabled: ['dns'] } }, MTU: 1400 } }), { host: '10.0.0.1', port: 6443 });
    expect(v).toMatchObject({ hubble: { enabled: true, relay: { enabled: true }, metrics: { enabled: ['dns'] } }, MTU: 1400 });
    expect(validateCiliumValues(v)).toEqual([]);
    expect(unknownTopLevelKeys({ kubeProxyReplacment: true, MTU: 1 })).toEqual([
      'cilium_values_extra: "kubeProxyReplacment" is not a value of the Cilium 1.19.6 chart (did you mean kubeProxyReplacement?)',
    ]);
    const r = await planManifest(vars({ cilium_values_extra: { hubbel: { enabled: false } } }), lookFor());
    expect(String(r)).toContain('"hubbel" is not a value of the Cilium 1.19.6 chart (did you mean hubble?)');
    // The stored schema would have let it through: that is why the key list exists.
    expect(validateCiliumValues({ hubbel: {} }).filter((e) => !e.startsWith('unknown top-level key'))).toEqual([]);
  });

  it('a value the chart schema refuses is caught by the schema check', () => {
    const v = ciliumValues(vars({ cilium_values_extra: { operator: { replicas: 'two' } } }), { host: '10.0.0.1', port: 6443 });
    expect(validateCiliumValues(v).join()).toContain('/operator/replicas must be integer');
  });
});

describe('cilium cross-checks with the K3s servers', () => {
  const good: K3sServerNet = { host: 'master1', disableKubeProxy: true, flannelBackend: 'none', disableNetworkPolicy: true };
  const values = (kpr: boolean, host = '10.17.4.32', port = 6443) => ({ kubeProxyReplacement: kpr, k8sServiceHost: host, k8sServicePort: port });

  it('passes the lab settings and reads them through the k3s-master schema (yes/true spellings)', () => {
    const i = inv();
    expect(serverNet('master2', i.hosts.get('master2')!.vars)).toEqual({ host: 'master2', disableKubeProxy: true, flannelBackend: 'none', disableNetworkPolicy: true });
    expect(checkAgainstK3s(values(true), [good])).toEqual([]);
  });

  it('unset k3s variables take k3s-master\'s defaults (vxlan, kube-proxy on, network policy on) and every problem is named', () => {
    const net = serverNet('master3', {});
    expect(net).toEqual({ host: 'master3', disableKubeProxy: false, flannelBackend: 'vxlan', disableNetworkPolicy: false });
    expect(checkAgainstK3s(values(true), [good, net as K3sServerNet])).toEqual([
      'master3: kubeProxyReplacement is true but K3s still runs kube-proxy: set k3s_disable_kube_proxy: true on every server (both would program Services)',
      'master3: k3s_flannel_backend is "vxlan": set it to "none" on every server, Cilium is the CNI (two CNIs fight over pod routes)',
      'master3: k3s_disable_network_policy is false: set it to true on every server, Cilium enforces NetworkPolicies (K3s\'s controller would add its own iptables rules)',
    ]);
    expect(serverNet('master3', { k3s_flannel_backend: 'geneve' })).toMatch(/^master3: k3s_flannel_backend: /);
  });

  it('kube-proxy disabled without the replacement leaves nothing to implement Services', () => {
    expect(checkAgainstK3s(values(false), [good])).toEqual([
      'master1: k3s_disable_kube_proxy is true but cilium_kube_proxy_replacement is false: nothing would implement Services',
    ]);
  });

  it('the API endpoint: 6443 through the VIP, 6444 only on loopback', () => {
    expect(checkApiEndpoint({ host: '10.17.4.32', port: 6443 })).toEqual([]);
    expect(checkApiEndpoint({ host: '127.0.0.1', port: 6444 })).toEqual([]);
    expect(checkApiEndpoint({ host: '127.0.0.1', port: 6443 })).toEqual([
      "k8sServicePort is 6443 with k8sServiceHost 127.0.0.1: on a node's loopback the API is K3s's local load balancer, port 6444",
    ]);
    expect(checkApiEndpoint({ host: '10.17.4.32', port: 6444 })).toEqual([
      'k8sServicePort is 6444 with k8sServiceHost 10.17.4.32: the K3s API behind the VIP listens on 6443 (6444 is only on 127.0.0.1)',
    ]);
    expect(apiEndpoint(vars(), { api_vip: '10.17.4.32' })).toEqual({ host: '10.17.4.32', port: 6443 });
    expect(apiEndpoint(vars(), { api_vip: '10.17.4.32', k3s_api_vip: '10.9.9.9' })).toEqual({ host: '10.9.9.9', port: 6443 });
    expect(apiEndpoint(vars({ cilium_k8s_service_host: 'api.lan' }), { api_vip: '10.17.4.32' })).toEqual({ host: 'api.lan', port: 6443 });
    expect(() => apiEndpoint(vars(), {})).toThrow(/no API address for Cilium: set cilium_k8s_service_host/);
  });

  it('the servers group follows k3s_server_group unless set', () => {
    expect(serversGroup(vars(), {})).toBe('masters');
    expect(serversGroup(vars(), { k3s_server_group: 'servers' })).toBe('servers');
    expect(serversGroup(vars({ cilium_servers_group: 'cp' }), { k3s_server_group: 'servers' })).toBe('cp');
  });
});

describe('cilium manifest task', () => {
  const PATH = '/var/lib/rancher/k3s/server/manifests/cilium.yaml';
  const DIR = '/var/lib/rancher/k3s/server/manifests';

  it('writes the manifest 0600 root in a 0700 folder on the first server, then a second run changes nothing', async () => {
    const fs = fakeFs('master1', [DIR, PATH]);
    const r1 = await writeManifest(ctxFor(fs.t));
    expect(r1.status).toBe('changed');
    expect(fs.writes).toEqual([`mkdir ${DIR}`, PATH]);
    const f = fs.t.files.get(PATH)!;
    expect(f.options).toMatchObject({ mode: '0600', owner: 'root', group: 'root' });
    expect(f.content.toString()).toBe(readFileSync(new URL('manifest-default.yaml', FIX), 'utf8'));
    expect(fs.t.commands.some((c) => c.includes('mkdir -p') && c.includes('chmod 0700'))).toBe(true);

    const before = fs.t.execs.length;
    const r2 = await writeManifest(ctxFor(fs.t));
    expect(r2.status).toBe('ok');
    expect(fs.writes).toHaveLength(2);
    // Only the two probes (folder, file) ran: nothing was changed.
    expect(fs.t.execs.length - before).toBe(2);
    expect(manifestPath(vars())).toBe(PATH);
  });

  it('in --check reports the would-change and writes nothing', async () => {
    const fs = fakeFs('master1', [DIR, PATH]);
    const r = await writeManifest(ctxFor(fs.t, { check: true }));
    expect(r.status).toBe('changed');
    expect(fs.writes).toEqual([]);
  });

  it('fails with every inconsistency at once and touches no host', async () => {
    const i = inv();
    i.hosts.get('master2')!.vars.k3s_flannel_backend = 'vxlan';
    i.hosts.get('master3')!.vars.k3s_disable_kube_proxy = false;
    const t = new FakeTransport('master1');
    const r = await writeManifest(ctxFor(t, { inventory: i, vars: { cilium_values_extra: { hubbel: {} } } }));
    expect(r.status).toBe('failed');
    expect(r.msg).toBe(
      [
        'cilium_values_extra: "hubbel" is not a value of the Cilium 1.19.6 chart (did you mean hubble?)',
        'master2: k3s_flannel_backend is "vxlan": set it to "none" on every server, Cilium is the CNI (two CNIs fight over pod routes)',
        'master3: kubeProxyReplacement is true but K3s still runs kube-proxy: set k3s_disable_kube_proxy: true on every server (both would program Services)',
      ].join('\n'),
    );
    expect(t.execs).toEqual([]);
  });

  it('fails on an empty servers group, naming it', async () => {
    const t = new FakeTransport('master1');
    const r = await writeManifest(ctxFor(t, { vars: { cilium_servers_group: 'servers' } }));
    expect(r).toMatchObject({ status: 'failed', msg: 'inventory group "servers" (cilium_servers_group) has no hosts: no K3s server to install Cilium through' });
    expect(t.execs).toEqual([]);
  });
});

/** `kubectl get nodes -o json` of these nodes (Ready or the double's NotReady reason). */
const nodesJson = (ready: Record<string, boolean>) =>
  JSON.stringify({
    kind: 'List',
    items: Object.entries(ready).map(([name, r]) => ({
      kind: 'Node',
      metadata: { name },
      status: {
        conditions: [
          r
            ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
            : {
                type: 'Ready',
                status: 'False',
                reason: 'KubeletNotReady',
                message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
              },
        ],
      },
    })),
  });

describe('cilium wait for the nodes', () => {
  it('reads NotReady reasons from the node list', () => {
    expect(nodeProblems(JSON.parse(nodesJson({ master1: true, worker1: false })))).toEqual([
      'node worker1 not Ready (KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized)',
    ]);
    expect(nodeProblems({ items: [] })).toEqual(['no nodes registered yet']);
  });

  it('polls `k3s kubectl get nodes -o json` until every node is Ready', async () => {
    const t = new FakeTransport('master1');
    let n = 0;
    t.on('k3s kubectl get nodes -o json', () => (++n < 3 ? { stdout: nodesJson({ master1: true, worker1: false }) } : { stdout: nodesJson({ master1: true, worker1: true }) }));
    const r = await waitReady(ctxFor(t), { intervalMs: 0, sleep: async () => {} });
    expect(r.status).toBe('ok');
    expect(r.msg).toMatch(/^every node Ready \(3 looks, /);
    expect(t.commands.filter((c) => c.includes('k3s kubectl get nodes -o json'))).toHaveLength(3);
  });

  it('fails after cilium_wait_timeout_s naming what is not Ready, and a failing kubectl with its error', async () => {
    let clock = 0;
    const t = new FakeTransport('master1');
    t.on('k3s kubectl get nodes', { stdout: nodesJson({ master1: false }) });
    t.on('get helmchart cilium', { code: 1, stderr: 'Error from server (NotFound): helmcharts.helm.cattle.io "cilium" not found' });
    const r = await waitReady(ctxFor(t, { vars: { cilium_wait_timeout_s: 30 } }), { now: () => clock, sleep: async (ms) => void (clock += ms), intervalMs: 10_000 });
    expect(r.status).toBe('failed');
    expect(r.msg).toMatch(/^nodes not Ready 30 s after the Cilium manifest \(cilium_wait_timeout_s\): node master1 not Ready \(KubeletNotReady: /);
    // 4 looks, then helm-controller's view: here the chart does not exist.
    expect(t.execs).toHaveLength(5);
    expect(r.msg).toMatch(/; HelmChart kube-system\/cilium not found: K3s has not applied cilium.yaml/);

    clock = 0;
    const down = new FakeTransport('master1');
    down.on('k3s kubectl', { code: 1, stderr: 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?' });
    const r2 = await waitReady(ctxFor(down, { vars: { cilium_wait_timeout_s: 0 } }), { now: () => clock, sleep: async () => {} });
    expect(r2.msg).toContain('k3s kubectl get nodes: command failed (rc 1): The connection to the server 127.0.0.1:6443 was refused');
  });

  it('on timeout, says what helm-controller reports: the Failed condition or the install job', async () => {
    const failedChart = { status: { jobName: 'helm-install-cilium', conditions: [{ type: 'Failed', status: 'True', reason: 'PodPending', message: 'helm install job pod cannot start: no pod network' }] } };
    expect(helmChartNote(failedChart)).toBe('HelmChart cilium Failed: PodPending: helm install job pod cannot start: no pod network');
    expect(helmChartNote({ status: { jobName: 'helm-install-cilium', conditions: [{ type: 'JobCreated', status: 'True' }] } })).toBe('HelmChart cilium applied, install job helm-install-cilium');
    expect(helmChartNote({})).toBe('HelmChart cilium applied, no install job yet');
    const t = new FakeTransport('master1');
    t.on('k3s kubectl get nodes', { stdout: nodesJson({ worker1: false }) });
    t.on('get helmchart cilium', { stdout: JSON.stringify(failedChart) });
    const r = await waitReady(ctxFor(t, { vars: { cilium_wait_timeout_s: 0 } }), { sleep: async () => {} });
    expect(r.msg).toMatch(/node worker1 not Ready .*; HelmChart cilium Failed: PodPending: helm install job pod cannot start: no pod network$/);
  });

  it('does not wait in --check (nothing was applied)', async () => {
    const t = new FakeTransport('master1');
    const r = await waitReady(ctxFor(t, { check: true }));
    expect(r).toMatchObject({ status: 'skipped', msg: 'check mode: nothing was applied to wait for' });
    expect(t.execs).toEqual([]);
  });
});

describe('cilium role shape', () => {
  it('exports the role both ways; manifest and wait only on the first server; static chart on every server', () => {
    expect(ciliumDefault).toBe(ciliumRole);
    expect(ciliumRole.name).toBe('cilium');
    expect(ciliumRole.tasks.map((t) => t.name)).toEqual([
      'cilium chart archive in static/charts (air gap)',
      'cilium HelmChart manifest (cross-checked with the K3s servers)',
      'nodes Ready (Cilium runs on every node)',
    ]);
    const [stat, man, wait] = ciliumRole.tasks;
    const t = new FakeTransport('x');
    expect(man!.when!(ctxFor(t))).toBe(true);
    expect(man!.when!(ctxFor(t, { host: 'master2' }))).toBe('the manifest goes to the first server of masters (master1) only');
    expect(wait!.when!(ctxFor(t, { host: 'master3' }))).toBe('the manifest goes to the first server of masters (master1) only');
    expect(wait!.readAhead).toBe(false);
    expect(stat!.when!(ctxFor(t))).toMatch(/^the chart is not served from static\/charts/);
    expect(stat!.when!(ctxFor(t, { host: 'master3', vars: { cilium_chart_file: STUB, cilium_chart_delivery: 'static' } }))).toBe(true);
    expect(stat!.when!(ctxFor(t, { host: 'worker1', vars: { cilium_chart_file: STUB, cilium_chart_delivery: 'static' } }))).toBe('not a server of masters');
  });

  it('the static chart task uploads the checked archive 0644', async () => {
    const path = '/var/lib/rancher/k3s/server/static/charts/cilium-1.19.6.tgz';
    const fs = fakeFs('master2', [path]);
    const task = ciliumRole.tasks[0]!;
    const c = ctxFor(fs.t, { host: 'master2', vars: { cilium_chart_file: STUB, cilium_chart_delivery: 'static' } });
    expect((await task.run(c)).status).toBe('changed');
    expect(fs.t.files.get(path)!.content.equals(readFileSync(STUB))).toBe(true);
    expect(fs.t.files.get(path)!.options).toMatchObject({ mode: '0644' });
    expect((await task.run(c)).status).toBe('ok');
    const bad = ctxFor(new FakeTransport('master2'), { host: 'master2', vars: { cilium_chart_file: STUB_OLD, cilium_version: '1.19.6', cilium_chart_delivery: 'static' } });
    expect((await task.run(bad)).msg).toContain('holds chart cilium 1.18.12, but cilium_version is 1.19.6');
  });
});

describe('cilium through the runner', () => {
  it('master1 writes the manifest and waits; the others skip; a second run changes nothing', async () => {
    const { harness, makeInventory } = await import('../run/helpers.ts');
    const k3s = { api_vip: '10.17.4.32', k3s_flannel_backend: 'none', k3s_disable_network_policy: true, k3s_disable_kube_proxy: true };
    const i = makeInventory({ master1: { groups: ['masters'], vars: k3s }, master2: { groups: ['masters'], vars: k3s }, worker1: { groups: ['workers'], vars: k3s } });
    const DIR = '/var/lib/rancher/k3s/server/manifests';
    const fss = new Map(['master1', 'master2'].map((h) => [h, fakeFs(h, [DIR, `${DIR}/cilium.yaml`])]));
    fss.get('master1')!.t.on('k3s kubectl get nodes -o json', { stdout: nodesJson({ master1: true, master2: true, worker1: true }) });
    const h = harness(i);
    const connect = (host: { name: string }) => fss.get(host.name)!.t;
    const play = { name: 'cni', hosts: 'masters', roles: [ciliumRole] };
    const r1 = await h.run([play], { connect });
    expect(r1.exitCode).toBe(0);
    expect(r1.hosts.master1).toMatchObject({ changed: 1, failed: 0 });
    expect(r1.hosts.master2).toMatchObject({ changed: 0, skipped: 3 });
    expect(fss.get('master1')!.t.files.get(`${DIR}/cilium.yaml`)!.content.toString()).toBe(readFileSync(new URL('manifest-default.yaml', FIX), 'utf8'));
    const r2 = await h.run([play], { connect });
    expect(r2.hosts.master1).toMatchObject({ changed: 0, failed: 0 });
  });

  it('an inconsistent server fails the run before anything is written', async () => {
    const { harness, makeInventory } = await import('../run/helpers.ts');
    const k3s = { api_vip: '10.17.4.32', k3s_flannel_backend: 'none', k3s_disable_network_policy: true, k3s_disable_kube_proxy: true };
    const i = makeInventory({ master1: { groups: ['masters'], vars: k3s }, master2: { groups: ['masters'], vars: { ...k3s, k3s_disable_kube_proxy: false } } });
    const fs1 = fakeFs('master1', ['/var/lib/rancher/k3s/server/manifests']);
    const h = harness(i);
    const r = await h.run([{ name: 'cni', hosts: 'masters', roles: [ciliumRole] }], { connect: (host: { name: string }) => (host.name === 'master1' ? fs1.t : new FakeTransport(host.name)) });
    expect(r.exitCode).toBe(2);
    expect(fs1.writes).toEqual([]);
    const failedEnd = h.sink.ends('master1').find((e) => e.status === 'failed');
    expect(JSON.stringify(failedEnd)).toContain('master2: kubeProxyReplacement is true but K3s still runs kube-proxy');
  });
});
