// Roles k3s-master and k3s-worker on the lab's K3s hosts, against the K3s test double
// (test/doubles/k3s: real etcd members, K3s's join protocol, READY only with quorum), served
// as a release over HTTP with a real sha256sum-amd64.txt. One cluster, converged from fresh
// hosts by playbooks/k3s.ts, then rolled, broken and repaired in order; taken away by
// playbooks/k3s-reset.ts at the end. Needs the load balancers' VIP (playbooks/lb.ts first).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { controllerKubectl, prepareK3sHosts, startK3sRelease, wipeK3s, DEFAULT_K3S_VERSION, type K3sRelease } from './support/k3s-double.ts';
import { analyse, startQuorumWatch, type QuorumReport } from './support/k3s-quorum-watch.ts';
import { describeRun, runDrover, type DroverRun } from './support/drover.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const SERVERS = [
  { name: 'master1', ip: '10.17.4.21' },
  { name: 'master2', ip: '10.17.4.22' },
  { name: 'master3', ip: '10.17.4.23' },
];
const AGENTS = ['worker1', 'worker2', 'worker3'];
const NODES = [...SERVERS.map((s) => s.name), ...AGENTS];
const V2 = 'v1.31.5+k3s1';
const unitOf = (h: string) => (h.startsWith('master') ? 'k3s' : 'k3s-agent');

let lab: Lab | undefined;
let release: K3sRelease;
let work: string;
let kubeconfig: string;
let base: string[];

const k3s = (args: string[] = [], playbook = 'playbooks/k3s.ts') => runDrover(playbook, [...base, ...args], { timeoutMs: 600_000 });
const sh = async (host: string, cmd: string, input?: string) => {
  const r = await lab!.sh(host, cmd, input === undefined ? {} : { input });
  if (r.code !== 0 && r.stderr.trim()) console.warn(`[k3s] ${host}: ${cmd.slice(0, 80)}: exit ${r.code}: ${r.stderr.trim().slice(0, 500)}`);
  return r.stdout.trim();
};
/** Quorum held: no stretch of 0.5 s (5 ticks) without any server answering (see analyse()). */
const HELD = 5;
const started = (h: string) => sh(h, `systemctl show -p ActiveEnterTimestampMonotonic --value ${unitOf(h)}`);
const startedAll = async () => Object.fromEntries(await Promise.all(NODES.map(async (h) => [h, await started(h)] as const)));
const task = (r: DroverRun, host: string, name: string) => r.tasks.find((t) => t.host === host && t.task.startsWith(name));
/** [start, end] ms of a task on a host. */
const span = (r: DroverRun, host: string, name: string): [number, number] => {
  const t = task(r, host, name);
  if (!t) throw new Error(`no task "${name}" on ${host}:\n${describeRun(r)}`);
  return [t.ts - t.durationMs, t.ts];
};
const nodesJson = async () => {
  const r = await controllerKubectl(release.builds[DEFAULT_K3S_VERSION]!, kubeconfig, ['get', 'nodes', '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { items: Array<{ metadata: { name: string; labels: Record<string, string> }; status: { conditions: Array<{ type: string; status: string }>; nodeInfo: { kubeletVersion: string } } }> };
};
const voter = (n: { status: { conditions: Array<{ type: string; status: string }> } }) => n.status.conditions.find((c) => c.type === 'EtcdIsVoter')?.status;
/** A roll watched by the quorum sampler. */
async function watched(run: () => Promise<DroverRun>): Promise<{ run: DroverRun; q: QuorumReport }> {
  const w = startQuorumWatch(kubeconfig, SERVERS);
  await new Promise((r) => setTimeout(r, 500));
  const result = await run();
  await new Promise((r) => setTimeout(r, 500));
  const samples = await w.stop();
  return { run: result, q: analyse(samples, SERVERS.map((s) => s.name)) };
}
/** Bounded: every server answers /readyz (after a deliberate outage). */
async function waitHealthy(limitSec = 120): Promise<void> {
  const r = await lab!.sh(
    'master1',
    `end=$(( $(date +%s) + ${limitSec} )); until k3s kubectl get --raw /readyz --request-timeout=3s >/dev/null 2>&1 && [ "$(k3s kubectl get nodes -l node-role.kubernetes.io/etcd=true -o jsonpath='{.items[*].status.conditions[?(@.type=="EtcdIsVoter")].status}' --request-timeout=3s)" = "True True True" ]; do [ $(date +%s) -ge $end ] && exit 1; sleep 1; done`,
    { timeoutMs: (limitSec + 30) * 1000 },
  );
  expect(r.code, 'the cluster did not become healthy again').toBe(0);
}

beforeAll(async () => {
  lab = await useLab();
  if (!lab) return;
  await prepareK3sHosts(lab);
  release = await startK3sRelease([DEFAULT_K3S_VERSION, V2]);
  // A run interrupted in the broken-roll test could leave its drop-in behind.
  await Promise.all(SERVERS.map((s) => lab!.sh(s.name, 'rm -f /etc/systemd/system/k3s.service.d/zz-drover-test-broken.conf; rmdir /etc/systemd/system/k3s.service.d 2>/dev/null; true')));
  await wipeK3s(lab);
  work = mkdtempSync(join(tmpdir(), 'drover-k3s-'));
  kubeconfig = join(work, 'lab.kubeconfig');
  base = ['-i', lab.inventory, '-e', `k3s_release_url=${release.baseUrl}`, '-e', `k3s_kubeconfig_path=${kubeconfig}`, '-e', 'k3s_ready_timeout=90s'];
  const lb = await runDrover('playbooks/lb.ts', ['-i', lab.inventory]);
  expect(lb.code, describeRun(lb)).toBe(0);
});

afterAll(async () => {
  if (!lab) return;
  await release?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('K3s servers and agents through the API VIP (K3s double)', () => {
  let first: DroverRun;
  let token = '';

  it('converge from fresh hosts in the safe order: 3 servers (etcd voters) and 3 agents through the VIP; a re-run changes and restarts nothing', async (ctx) => {
    if (!lab) return ctx.skip();
    first = await k3s();
    expect(first.code, describeRun(first)).toBe(0);
    // Downloaded from the release, checked against its sha256sum-amd64.txt.
    for (const h of NODES) {
      expect(task(first, h, 'K3s binary')?.msg, h).toContain(`${release.baseUrl}/${encodeURIComponent(DEFAULT_K3S_VERSION)}/k3s`);
      expect(await sh(h, 'sha256sum /usr/local/bin/k3s | cut -d" " -f1'), h).toBe(release.builds[DEFAULT_K3S_VERSION]!.sha256);
    }
    // The order: master1 ready before master2 starts, master2 a voter before master3 starts,
    // every server done before the first agent starts; the first agent (canary) before the others.
    const ready = (h: string) => span(first, h, 'k3s ready')[1];
    const start = (h: string) => span(first, h, h.startsWith('master') ? 'k3s started' : 'k3s-agent started')[0];
    expect(start('master2')).toBeGreaterThan(ready('master1'));
    expect(start('master3')).toBeGreaterThan(ready('master2'));
    expect(task(first, 'master2', 'k3s ready')?.msg).toMatch(/master2 is an etcd voter/);
    for (const a of AGENTS) expect(start(a)).toBeGreaterThan(ready('master3'));
    expect(start('worker2')).toBeGreaterThan(span(first, 'worker1', 'node registered')[1]);

    // kubectl from the controller through the VIP, with the fetched kubeconfig.
    const kc = parseYaml(readFileSync(kubeconfig, 'utf8'));
    expect(kc.clusters[0].cluster.server).toBe('https://10.17.4.32:6443');
    expect(kc['current-context']).toBe('lab');
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
    const nodes = (await nodesJson()).items;
    const servers = nodes.filter((n) => n.metadata.labels['node-role.kubernetes.io/etcd'] === 'true');
    expect(servers.map((n) => n.metadata.name).sort()).toEqual(['master1', 'master2', 'master3']);
    expect(servers.map(voter)).toEqual(['True', 'True', 'True']);
    expect(nodes.filter((n) => !n.metadata.labels['node-role.kubernetes.io/control-plane']).map((n) => n.metadata.name).sort()).toEqual(AGENTS);

    const before = await startedAll();
    const second = await k3s();
    expect(second.code, describeRun(second)).toBe(0);
    expect(second.tasks.filter((t) => t.status === 'changed').map((t) => `${t.host}: ${t.task}: ${t.msg}`)).toEqual([]);
    expect(await startedAll()).toEqual(before);
    // Converged, no host rolled: every server and agent was checked at once (Play.checkFirst),
    // each gate one look that found it ready (a real readiness check, not a skip).
    const checkedFirst = second.events.flatMap((e) => (e.type === 'host_state' && e.msg === 'nothing to change (checked first)' ? [e.host] : []));
    expect(checkedFirst.sort()).toEqual([...NODES].sort());
    for (const m of ['master1', 'master2', 'master3']) expect(task(second, m, 'k3s ready')).toMatchObject({ status: 'ok', msg: expect.stringMatching(/^ready: k3s active, \/readyz ok/) });
    for (const a of AGENTS) expect(task(second, a, 'k3s-agent joined')).toMatchObject({ status: 'ok', msg: 'ready: k3s-agent active' });

    // The token: 0600 files only, in no argv, no world-readable file, no drover output.
    token = await sh('master1', 'cat /var/lib/rancher/k3s/server/token');
    const password = token.split(':').at(-1)!;
    expect(password.length).toBeGreaterThan(16);
    for (const h of NODES) {
      expect(await sh(h, 'stat -c %a /etc/rancher/k3s/config.yaml'), h).toBe('600');
      const leaks = await sh(
        h,
        [
          'pw=$(cat)',
          'for p in /proc/[0-9]*; do if tr "\\0" " " < $p/cmdline 2>/dev/null | grep -qF -- "$pw"; then echo "argv of pid ${p#/proc/}"; fi; done',
          'grep -rlF -- "$pw" /etc /var/lib/rancher /run /tmp /root /usr/local /var/log 2>/dev/null | while read -r f; do case $(stat -c %a "$f") in *[4567]) echo "world-readable $f";; esac; done',
        ].join('\n'),
        password,
      );
      expect(leaks, h).toBe('');
    }
    for (const r of [first, second]) expect(r.stdout + r.stderr).not.toContain(password);
  });

  it('a config change rolls the servers strictly one at a time: quorum held at every 100 ms sample', async (ctx) => {
    if (!lab) return ctx.skip();
    const { run, q } = await watched(() => k3s(['-e', '{"k3s_server_config_extra": {"etcd-snapshot-retention": 6}}']));
    expect(run.code, describeRun(run)).toBe(0);
    for (const s of SERVERS) expect(task(run, s.name, 'k3s started')?.msg).toBe('restart k3s: /etc/rancher/k3s/config.yaml changed');
    expect(span(run, 'master2', 'k3s started')[0]).toBeGreaterThan(span(run, 'master1', 'k3s ready')[1]);
    expect(span(run, 'master3', 'k3s started')[0]).toBeGreaterThan(span(run, 'master2', 'k3s ready')[1]);
    console.log(`[k3s roll] ${q.ticks} ticks; down windows ${JSON.stringify(q.down)}; no answer at ${q.lostTicks.length} ticks, longest ${q.longestLost}, two down at ${q.overlapTicks.length}${q.lostWhy.length ? `: ${q.lostWhy.slice(0, 3).join(' | ')}` : ''}`);
    expect(q.ticks).toBeGreaterThan(50);
    expect(q.longestLost).toBeLessThan(HELD);
    expect(q.overlapTicks).toEqual([]);
    // Each server went down (restarted) once, in order.
    const w = SERVERS.map((s) => q.down[s.name]!);
    for (const x of w) expect(x.length).toBeGreaterThanOrEqual(1);
    expect(w[1]![0]![0]).toBeGreaterThan(w[0]!.at(-1)![1]);
    expect(w[2]![0]![0]).toBeGreaterThan(w[1]!.at(-1)![1]);
    // Agents were not restarted (a server-only key).
    expect(AGENTS.map((a) => task(run, a, 'k3s-agent started')?.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('the same roll with master2 unable to start stops at master2: master3 untouched, exit 2, quorum held; repaired, it completes', async (ctx) => {
    if (!lab) return ctx.skip();
    await sh('master2', "mkdir -p /etc/systemd/system/k3s.service.d && printf '[Service]\\nExecStartPre=/bin/false\\n' > /etc/systemd/system/k3s.service.d/zz-drover-test-broken.conf && systemctl daemon-reload");
    const m3 = { config: await sh('master3', 'sha256sum /etc/rancher/k3s/config.yaml'), started: await started('master3') };
    const change = ['-e', '{"k3s_server_config_extra": {"etcd-snapshot-retention": 7}}'];
    let broken: { run: DroverRun; q: QuorumReport };
    try {
      broken = await watched(() => k3s([...change, '-e', 'k3s_ready_timeout=15s']));
    } finally {
      await sh('master2', 'rm -f /etc/systemd/system/k3s.service.d/zz-drover-test-broken.conf && systemctl daemon-reload');
    }
    const { run, q } = broken;
    expect(run.code, describeRun(run)).toBe(2);
    const failed = run.tasks.filter((t) => t.status === 'failed');
    expect(failed.map((t) => `${t.host}: ${t.task}`)).toEqual(['master2: k3s ready (joining: an etcd voter) before the next server']);
    expect(failed[0]!.msg).toMatch(/timed out after 15s: unit k3s is (activating|failed)/);
    expect(failed[0]!.msg).toMatch(/journalctl -u k3s/);
    expect(run.tasks.filter((t) => t.host === 'master3' && t.play?.startsWith('K3s servers'))).toEqual([]);
    expect(await sh('master3', 'sha256sum /etc/rancher/k3s/config.yaml')).toBe(m3.config);
    expect(await started('master3')).toBe(m3.started);
    console.log(`[k3s broken roll] failed after ${(failed[0]!.durationMs / 1000).toFixed(1)}s; down windows ${JSON.stringify(q.down)}; longest stretch without an answer ${q.longestLost} ticks${q.lostWhy.length ? `: ${q.lostWhy.slice(0, 3).join(' | ')}` : ''}`);
    expect(q.longestLost).toBeLessThan(HELD);

    const fixed = await watched(() => k3s(change));
    expect(fixed.run.code, describeRun(fixed.run)).toBe(0);
    // master2's config was written by the failed run. Once the drop-in is gone, either
    // systemd's own Restart=always brought it back with that config before this run reached it
    // (ok: nothing newer than its start), or the run restarts it (its config is newer than its
    // last start). Either way it passes the gate, and master3 gets the change.
    expect(['ok', 'changed']).toContain(task(fixed.run, 'master2', 'k3s started')?.status);
    expect(task(fixed.run, 'master2', 'k3s ready')?.msg).toMatch(/master2 is an etcd voter/);
    expect(task(fixed.run, 'master3', 'k3s started')?.msg).toBe('restart k3s: /etc/rancher/k3s/config.yaml changed');
    expect(task(fixed.run, 'master1', 'k3s started')?.status).toBe('ok');
    expect(fixed.q.longestLost).toBeLessThan(HELD);
  });

  it('the same roll with the gates off (TEST-ONLY switch) loses quorum: proof that the watcher can fail', async (ctx) => {
    if (!lab) return ctx.skip();
    const { run, q } = await watched(async () => {
      const r = await k3s(['-e', '{"k3s_server_config_extra": {"etcd-snapshot-retention": 8}}', '-e', 'k3s_test_unsafe_roll=true']);
      // The run itself does not wait; keep sampling until the servers are back.
      await waitHealthy();
      return r;
    });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.tasks.filter((t) => t.task.startsWith('k3s ready')).map((t) => t.status)).toEqual(['skipped', 'skipped', 'skipped']);
    console.log(`[k3s unsafe roll] no server answered for ${q.longestLost * 100} ms in a row (${q.lostTicks.length} ticks in all); overlapping downs at ${q.overlapTicks.length} ticks`);
    expect(q.longestLost).toBeGreaterThanOrEqual(2 * HELD);
    expect(q.overlapTicks.length).toBeGreaterThan(0);
  });

  it('a wrong checksum is refused before anything changes', async (ctx) => {
    if (!lab) return ctx.skip();
    const before = { bin: await sh('worker3', 'sha256sum /usr/local/bin/k3s'), started: await started('worker3') };
    const r = await k3s(['--limit', 'worker3', '-e', `k3s_release_url=${release.badChecksumBaseUrl}`, '-e', `k3s_version=${V2}`]);
    expect(r.code, describeRun(r)).toBe(2);
    const bin = task(r, 'worker3', 'K3s binary')!;
    expect(bin.status).toBe('failed');
    expect(bin.msg).toMatch(/sha256 mismatch/);
    expect(bin.msg).toMatch(/nothing was installed/);
    expect(r.tasks.filter((t) => t.host === 'worker3' && t.status === 'changed')).toEqual([]);
    expect(await sh('worker3', 'sha256sum /usr/local/bin/k3s')).toBe(before.bin);
    expect(await sh('worker3', 'ls -a /usr/local/bin | grep -c drover || true')).toBe('0');
    expect(await started('worker3')).toBe(before.started);
  });

  it('an agent with a wrong token fails with the reason within the bound, never a hang; the right one repairs it', async (ctx) => {
    if (!lab) return ctx.skip();
    const t0 = Date.now();
    const r = await k3s(['--limit', 'worker3', '-e', 'k3s_token=not-the-cluster-token', '-e', 'k3s_ready_timeout=15s']);
    expect(r.code, describeRun(r)).toBe(2);
    const f = r.tasks.find((t) => t.status === 'failed')!;
    expect(`${f.host}: ${f.task}`).toBe('worker3: k3s-agent joined (READY)');
    expect(f.msg).toMatch(/timed out after 15s: unit k3s-agent is (activating|failed)/);
    expect(f.msg).toMatch(/401|Unauthorized|token/i);
    expect(Date.now() - t0).toBeLessThan(120_000);
    expect(r.stdout + r.stderr).not.toContain('not-the-cluster-token');
    const fix = await k3s(['--limit', 'worker3']);
    expect(fix.code, describeRun(fix)).toBe(0);
    expect(task(fix, 'worker3', 'node registered')?.status).toBe('ok');
  });

  it('a critical value that differs on one server is refused before any host changes, with the reason', async (ctx) => {
    if (!lab) return ctx.skip();
    const extra = join(work, 'mismatch.yaml');
    writeFileSync(extra, 'all:\n  children:\n    masters:\n      hosts:\n        master3:\n          k3s_flannel_backend: vxlan\n');
    const before = await startedAll();
    const r = await k3s(['-i', extra]);
    expect(r.code, describeRun(r)).toBe(2);
    const f = r.tasks.find((t) => t.status === 'failed')!;
    expect(f.task).toBe('cluster plan (node names, critical values, VIP, token)');
    expect(f.msg).toContain('critical value flannel-backend differs: master1=none, master3=vxlan (k3s#12745');
    expect(r.tasks.filter((t) => t.status === 'changed')).toEqual([]);
    expect(await startedAll()).toEqual(before);
  });

  it('a joiner started before the first server is ready waits, then joins (master3 reset, rejoined while master1 is down)', async (ctx) => {
    if (!lab) return ctx.skip();
    await waitHealthy();
    const reset = await runDrover('playbooks/k3s-reset.ts', ['-i', lab.inventory, '--limit', 'master3']);
    expect(reset.code, describeRun(reset)).toBe(0);
    expect(await sh('master3', 'ls /usr/local/bin/k3s /etc/rancher/k3s /var/lib/rancher/k3s /etc/systemd/system/k3s.service 2>&1 | grep -c "No such file"')).toBe('4');
    expect(await sh('master1', 'k3s kubectl delete node master3 >/dev/null && echo deleted')).toBe('deleted');
    await sh('master1', 'systemctl stop k3s');
    // master2 alone has no quorum: master3 cannot join until master1 is back.
    const delayed = (async () => {
      await new Promise((r) => setTimeout(r, 10_000));
      await sh('master1', 'systemctl start --no-block k3s');
    })();
    let r: DroverRun;
    try {
      r = await k3s(['--limit', 'master3']);
    } finally {
      await delayed;
    }
    expect(r.code, describeRun(r)).toBe(0);
    const gate = task(r, 'master3', 'k3s ready')!;
    expect(gate.durationMs).toBeGreaterThan(8_000);
    expect(gate.msg).toMatch(/master3 is an etcd voter/);
    await waitHealthy();
  });

  it('k3s-upgrade.ts: servers then agents, one at a time, quorum held; every node reports the new version', async (ctx) => {
    if (!lab) return ctx.skip();
    await waitHealthy();
    const { run, q } = await watched(() => k3s(['-e', `k3s_version=${V2}`], 'playbooks/k3s-upgrade.ts'));
    expect(run.code, describeRun(run)).toBe(0);
    expect(q.longestLost).toBeLessThan(HELD);
    expect(q.overlapTicks).toEqual([]);
    const agentStarts = AGENTS.map((a) => span(run, a, 'k3s-agent started'));
    agentStarts.sort((a, b) => a[0] - b[0]);
    expect(agentStarts[1]![0]).toBeGreaterThan(agentStarts[0]![1]);
    expect(agentStarts[0]![0]).toBeGreaterThan(span(run, 'master3', 'k3s ready')[1]);
    for (const h of NODES) expect(await sh(h, 'k3s --version | head -1'), h).toMatch(`k3s version ${V2} `);
    const nodes = (await nodesJson()).items;
    expect(nodes.map((n) => n.status.nodeInfo.kubeletVersion)).toEqual(NODES.map(() => V2));
  });

  it('k3s-reset.ts removes K3s cleanly from every node; a second run changes nothing', async (ctx) => {
    if (!lab) return ctx.skip();
    const r = await runDrover('playbooks/k3s-reset.ts', ['-i', lab.inventory]);
    expect(r.code, describeRun(r)).toBe(0);
    for (const h of NODES) {
      const left = await sh(
        h,
        'for p in /usr/local/bin/k3s /usr/local/bin/kubectl /etc/rancher/k3s /etc/rancher/node /var/lib/rancher/k3s /etc/systemd/system/k3s.service /etc/systemd/system/k3s-agent.service /etc/systemd/system/k3s.service.env /etc/cni/net.d /run/k3s; do [ -e "$p" ] && echo "$p"; done; ps -eo pid,args | grep -E "[k]3s (server|agent)|[/]usr/bin/etcd" || true',
      );
      expect(left, h).toBe('');
    }
    const again = await runDrover('playbooks/k3s-reset.ts', ['-i', lab.inventory]);
    expect(again.code, describeRun(again)).toBe(0);
    expect(again.changed).toBe(0);
  });
});

