// The main job, as README's first command runs it: playbooks/site.ts over every lab host.
// It must converge all 12 hosts with no failure, and a second run must change nothing.
// Runs after the role tests (test/lab-order.ts), so it also proves site.ts converges hosts
// from whatever state those tests left (a promoted replica, stopped services, drifted files).
// K3s: the K3s hosts are wiped first (fresh K3s hosts), and the K3s test double is served as
// the release (test/lab/support/k3s-double.ts); kubectl through the VIP must then list 3 etcd
// voters and 3 agents, and the re-run must restart no K3s unit.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopology } from '../../lab/index.ts';
import { describeRun, runDrover } from './support/drover.ts';
import { controllerKubectl, DEFAULT_K3S_VERSION, prepareK3sHosts, startK3sRelease, wipeK3s, type K3sRelease } from './support/k3s-double.ts';
import { useLab, type Lab } from './support/use-lab.ts';

let lab: Lab | undefined;
let release: K3sRelease | undefined;
let k3sArgs: string[] = [];
let kubeconfig = '';
const K3S_NODES = ['master1', 'master2', 'master3', 'worker1', 'worker2', 'worker3'];
beforeAll(async () => {
  lab = await useLab();
  if (!lab) {
    console.warn('[site] lab not available here: skipping the site playbook test');
    return;
  }
  await prepareK3sHosts(lab);
  await wipeK3s(lab);
  release = await startK3sRelease([DEFAULT_K3S_VERSION]);
  kubeconfig = join(mkdtempSync(join(tmpdir(), 'drover-site-')), 'lab.kubeconfig');
  k3sArgs = ['-e', `k3s_release_url=${release.baseUrl}`, '-e', `k3s_kubeconfig_path=${kubeconfig}`];
});
afterAll(async () => {
  await release?.stop();
  if (kubeconfig) rmSync(join(kubeconfig, '..'), { recursive: true, force: true });
});
const k3sStarts = async (l: Lab) =>
  Promise.all(K3S_NODES.map(async (h) => (await l.sh(h, `systemctl show -p ActiveEnterTimestampMonotonic --value ${h.startsWith('master') ? 'k3s' : 'k3s-agent'}`)).stdout.trim()));

describe('playbooks/site.ts on the whole lab', () => {
  it('converges every host, then a second run reports zero changes', async (ctx) => {
    if (!lab) return ctx.skip();
    const hosts = (await readTopology(lab.inventory)).hosts.map((h) => h.name).sort();
    const t0 = Date.now();
    const first = await runDrover('playbooks/site.ts', ['-i', lab.inventory, ...k3sArgs], { timeoutMs: 900_000 });
    const firstMs = Date.now() - t0;
    expect(first.code, describeRun(first)).toBe(0);
    expect(Object.keys(first.recap!.hosts).sort()).toEqual(hosts);

    const nodes = JSON.parse((await controllerKubectl(release!.builds[DEFAULT_K3S_VERSION]!, kubeconfig, ['get', 'nodes', '-o', 'json'])).stdout) as {
      items: Array<{ metadata: { name: string; labels: Record<string, string> }; status: { conditions: Array<{ type: string; status: string }> } }>;
    };
    const voters = nodes.items.filter((n) => n.status.conditions.some((c) => c.type === 'EtcdIsVoter' && c.status === 'True')).map((n) => n.metadata.name);
    expect(voters.sort()).toEqual(['master1', 'master2', 'master3']);
    expect(nodes.items.filter((n) => !n.metadata.labels['node-role.kubernetes.io/control-plane']).map((n) => n.metadata.name).sort()).toEqual(['worker1', 'worker2', 'worker3']);
    // Cilium came last: its bootstrap HelmChart on the first server only (0600), and with the
    // CNI in place every node went Ready (with flannel-backend none they were NotReady before).
    const notReady = nodes.items.filter((n) => !n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name);
    expect(notReady).toEqual([]);
    expect((await lab.sh('master1', 'stat -c %a /var/lib/rancher/k3s/server/manifests/cilium.yaml && grep -c "bootstrap: true" /var/lib/rancher/k3s/server/manifests/cilium.yaml')).stdout.split('\n').slice(0, 2)).toEqual(['600', '1']);
    expect((await lab.sh('master2', 'test -e /var/lib/rancher/k3s/server/manifests/cilium.yaml; echo $?')).stdout.trim()).toBe('1');
    expect(first.tasks.some((t) => t.role === 'cloudflared')).toBe(false);
    const startsBefore = await k3sStarts(lab);

    const t1 = Date.now();
    const second = await runDrover('playbooks/site.ts', ['-i', lab.inventory, ...k3sArgs]);
    const secondMs = Date.now() - t1;
    expect(second.code, describeRun(second)).toBe(0);
    const changedTasks = second.tasks.filter((t) => t.status === 'changed').map((t) => `${t.host}: ${t.role} : ${t.task} (${t.msg ?? ''})`);
    expect(changedTasks).toEqual([]);
    expect(second.changed).toBe(0);
    expect(await k3sStarts(lab)).toEqual(startsBefore);
    for (const h of hosts) {
      expect(second.recap!.hosts[h]!.failed, h).toBe(0);
      expect(second.recap!.hosts[h]!.unreachable, h).toBe(0);
    }
    // Probe-ahead read the converged hosts' state in a few round trips each, and the answers
    // are the ones each probe gives on its own: a run without it reports the very same results.
    const ahead = new Map<string, { read: number; trips: number; hits: number }>();
    for (const e of second.events) {
      const m = e.type === 'log' && e.host ? /^probe-ahead: (\d+) probes read in (\d+) round trips, (\d+) answered/.exec(e.msg) : null;
      if (m && e.type === 'log' && e.host) ahead.set(e.host, { read: Number(m[1]), trips: Number(m[2]), hits: Number(m[3]) });
    }
    expect([...ahead.keys()].sort()).toEqual(hosts);
    for (const [h, a] of ahead) {
      expect(a.hits, h).toBeGreaterThanOrEqual(a.read);
      expect(a.read / a.trips, h).toBeGreaterThan(3);
    }
    const without = await runDrover('playbooks/site.ts', ['-i', lab.inventory, ...k3sArgs, '-e', 'drover_probe_ahead=false']);
    expect(without.code, describeRun(without)).toBe(0);
    expect(without.events.some((e) => e.type === 'log' && e.msg.startsWith('probe-ahead:'))).toBe(false);
    const results = (r: typeof second) => r.tasks.map((t) => `${t.host} | ${t.role ?? ''} | ${t.task} | ${t.status} | ${t.msg ?? ''}`).sort();
    expect(results(second)).toEqual(results(without));

    // With a tunnel token (seed 000), the same playbook adds the cloudflared play: its manifest
    // on the first server, 0600, and the token in no output.
    const secretsFile = join(kubeconfig, '..', 'tunnel.yaml');
    const token = Buffer.from(JSON.stringify({ a: 'f'.repeat(32), t: '6ff42ae2-765d-4adf-8112-31c55c1551ef', s: randomBytes(32).toString('base64') })).toString('base64');
    writeFileSync(secretsFile, `cloudflared_tunnel_token: "${token}"\n`, { mode: 0o600 });
    const tunnel = await runDrover('playbooks/site.ts', ['-i', lab.inventory, ...k3sArgs, '-e', `@${secretsFile}`]);
    expect(tunnel.code, describeRun(tunnel)).toBe(0);
    expect(tunnel.tasks.filter((t) => t.status === 'changed').map((t) => `${t.host}: ${t.role}`)).toEqual(['master1: cloudflared']);
    expect(JSON.stringify(tunnel.events) + tunnel.stdout + tunnel.stderr).not.toContain(token);
    expect((await lab.sh('master1', 'stat -c %a /var/lib/rancher/k3s/server/manifests/cloudflared.yaml')).stdout.trim()).toBe('600');

    const skipped = second.tasks.filter((t) => t.status === 'skipped');
    console.log(
      `[site] first run ${firstMs} ms (${first.changed} changed), no-change re-run ${secondMs} ms over ${hosts.length} hosts; ` +
        `${skipped.length} skipped task results, e.g. ${[...new Set(skipped.map((t) => `${t.task}: ${t.msg}`))].slice(0, 4).join(' | ')}`,
    );
  });
});
