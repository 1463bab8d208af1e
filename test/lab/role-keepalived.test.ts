// Role keepalived against real hosts: the lb playbook on loadbalancer1/2 (haproxy + keepalived,
// unicast VRRP from the lab group_vars), stand-in backends on masters/workers (socat answering
// with the host name, transient units removed in afterAll). Checked for real: the VIPs sit on
// loadbalancer1, the API answers through the VIP from the controller, stopping haproxy on
// loadbalancer1 moves the VIPs to loadbalancer2 and starting it brings them back (preempt);
// both moves are MEASURED (VIP polled every 100 ms on the host, the VIP:6443 connected to every
// 100 ms from the controller, the longest outage printed) and only sanity-bounded.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labExec } from '../../lab/index.ts';
import { REDACTED } from '../../lib/secrets/redact.ts';
import { describeRun, runDrover, type DroverRun } from './support/drover.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const PLAYBOOK = 'playbooks/lb.ts';
const LB1 = 'loadbalancer1';
const LB2 = 'loadbalancer2';
const API_VIP = '10.17.4.32';
const WEB_VIP = '10.17.4.33';
const CFG = '/etc/keepalived/keepalived.conf';
const CFG_TASK = 'keepalived.conf (validated with keepalived -t)';
const MASTERS = ['master1', 'master2', 'master3'];
const WORKERS = ['worker1', 'worker2', 'worker3'];
const AUTH_PASS = (parse(readFileSync('inventory/group_vars/loadbalancers.yaml', 'utf8')) as { keepalived_auth_pass: string }).keepalived_auth_pass;
/** Sanity bound only ("within a few seconds"); the real figures are printed. */
const BOUND_MS = 15_000;

// ---- stand-in backends (only a transient unit per port; socat installed if missing) -------

const unitName = (port: number) => `drover-test-backend-${port}`;
const BACKENDS: Array<{ host: string; ports: number[] }> = [
  ...MASTERS.map((host) => ({ host, ports: [6443] })),
  ...WORKERS.map((host) => ({ host, ports: [80, 443] })),
];

async function must(lab: Lab, host: string, cmd: string, timeoutMs = 300_000): Promise<string> {
  const r = await lab.sh(host, cmd, { timeoutMs });
  if (r.code !== 0) throw new Error(`${host}: ${cmd} -> exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

const stopUnit = (port: number) => `systemctl stop ${unitName(port)} 2>/dev/null; systemctl reset-failed ${unitName(port)} 2>/dev/null; true`;
const startUnit = (port: number) => `${stopUnit(port)}; systemd-run --quiet --unit ${unitName(port)} socat TCP-LISTEN:${port},fork,reuseaddr SYSTEM:hostname`;

async function startBackends(lab: Lab): Promise<void> {
  const install =
    'command -v socat >/dev/null || { apt-get -o DPkg::Lock::Timeout=300 update -qq && ' +
    'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends socat >/dev/null; }';
  await Promise.all(BACKENDS.map((b) => must(lab, b.host, [install, ...b.ports.map(startUnit)].join(' && '))));
}

async function stopBackends(lab: Lab): Promise<void> {
  await Promise.all(BACKENDS.map((b) => lab.sh(b.host, b.ports.map(stopUnit).join('; '))));
}

// ---- connections from the controller's namespace ---------------------------------------

/** Node, inside the lab namespace. `many`: N sequential connections. `probe`: one connection
 *  every interval until a stop file appears; each sample is {t, ok, host|err, ms}. */
const CLIENT = `
const net = require('net');
const fs = require('fs');
const [mode, host, port, a, b, c] = process.argv.slice(1);
function one(timeoutMs) {
  return new Promise((resolve) => {
    let data = '';
    let done = false;
    const end = (r) => { if (!done) { done = true; resolve(r); } };
    const s = net.connect({ host, port: Number(port) });
    s.setTimeout(timeoutMs, () => { s.destroy(); end({ ok: false, err: 'timeout' }); });
    s.on('data', (d) => (data += d));
    s.on('error', (e) => end({ ok: false, err: e.code || e.message }));
    s.on('close', () => end(data.trim() ? { ok: true, host: data.trim() } : { ok: false, err: 'empty reply' }));
  });
}
(async () => {
  const out = [];
  if (mode === 'many') {
    for (let i = 0; i < Number(a); i++) out.push(await one(2000));
  } else {
    const interval = Number(a), stopFile = b, maxMs = Number(c), t0 = Date.now();
    while (!fs.existsSync(stopFile) && Date.now() - t0 < maxMs) {
      const t = Date.now();
      const r = await one(Math.max(interval * 3, 300));
      out.push({ t, ms: Date.now() - t, ...r });
      const wait = interval - (Date.now() - t);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  console.log(JSON.stringify(out));
})();
`;

interface Sample {
  t: number;
  ms: number;
  ok: boolean;
  host?: string;
  err?: string;
}

async function connectMany(address: string, port: number, n: number): Promise<Array<Omit<Sample, 't' | 'ms'>>> {
  const r = await labExec([process.execPath, '-e', CLIENT, 'many', address, String(port), String(n)], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`client failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Sample[];
}

/** Start probing address:port every intervalMs; stop() ends it and returns the samples. */
function startProbe(address: string, port: number, intervalMs: number): { stop: () => Promise<Sample[]> } {
  const stopFile = join(tmpdir(), `drover-keepalived-probe-${process.pid}-${Date.now()}`);
  const done = labExec([process.execPath, '-e', CLIENT, 'probe', address, String(port), String(intervalMs), stopFile, '180000'], { timeoutMs: 200_000 });
  let stopped: Promise<Sample[]> | undefined;
  const stop = async (): Promise<Sample[]> => {
    await labExec(['touch', stopFile]);
    const r = await done;
    await labExec(['rm', '-f', stopFile]);
    if (r.code !== 0) throw new Error(`probe failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Sample[];
  };
  return { stop: () => (stopped ??= stop()) };
}

interface Outage {
  /** From the first failed probe to the first good one after it. */
  gapMs: number;
  failed: number;
  total: number;
  resumed: boolean;
}

/** The longest run of failed probes among samples taken at or after `from`. */
function longestOutage(samples: readonly Sample[], from = 0): Outage {
  const s = samples.filter((x) => x.t >= from);
  let gapMs = 0;
  let failStart: number | undefined;
  for (const x of s) {
    if (!x.ok) failStart ??= x.t;
    else if (failStart !== undefined) {
      gapMs = Math.max(gapMs, x.t - failStart);
      failStart = undefined;
    }
  }
  // Still failing at the end: count it as a gap up to the last sample.
  const last = s[s.length - 1];
  if (failStart !== undefined && last) gapMs = Math.max(gapMs, last.t + last.ms - failStart);
  return { gapMs, failed: s.filter((x) => !x.ok).length, total: s.length, resumed: !!last?.ok };
}

// ---- VIP placement -----------------------------------------------------------------------

const hasVips = `ip -o -4 addr show | grep -q ' ${API_VIP}/' && ip -o -4 addr show | grep -q ' ${WEB_VIP}/'`;

async function vipsOn(lab: Lab, host: string): Promise<{ api: boolean; web: boolean }> {
  const out = await must(lab, host, 'ip -o -4 addr show');
  return { api: out.includes(` ${API_VIP}/`), web: out.includes(` ${WEB_VIP}/`) };
}

/** Runs on `host`: polls every 100 ms until both VIPs are there; prints the time (ms since epoch). */
function watchVips(lab: Lab, host: string): Promise<number> {
  const script = `i=0; while [ $i -lt 600 ]; do if ${hasVips}; then date +%s%3N; exit 0; fi; sleep 0.1; i=$((i+1)); done; echo never; exit 1`;
  return must(lab, host, script, 120_000).then((s) => Number(s.trim()));
}

async function waitVipsSettled(lab: Lab, on: string, off: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const a = await vipsOn(lab, on);
    const b = await vipsOn(lab, off);
    if (a.api && a.web && !b.api && !b.web) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`VIPs not settled on ${on}: ${on}=${JSON.stringify(a)} ${off}=${JSON.stringify(b)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `date +%s%3N` then the command, on the host: the returned time is the host's own. */
async function timed(lab: Lab, host: string, cmd: string): Promise<number> {
  const out = await must(lab, host, `date +%s%3N; ${cmd}`);
  return Number(out.split('\n')[0]);
}

// ---- the tests --------------------------------------------------------------------------------

let lab: Lab | undefined;
const runs: DroverRun[] = [];
const figures: string[] = [];

async function drover(args: string[]): Promise<DroverRun> {
  const run = await runDrover(PLAYBOOK, ['-i', lab!.inventory, ...args]);
  runs.push(run);
  return run;
}

describe('role keepalived (lab)', () => {
  beforeAll(async () => {
    lab = await useLab();
    if (!lab) {
      console.warn('[role-keepalived] lab not available here: skipping the role keepalived lab tests');
      return;
    }
    await startBackends(lab);
  });

  afterAll(async () => {
    if (!lab) return;
    await lab.sh(LB1, 'systemctl start haproxy');
    await stopBackends(lab);
    if (figures.length) console.log(`[role-keepalived] figures:\n  ${figures.join('\n  ')}`);
  });

  it('converges the pair: keepalived running with the validated config, unicast peers from the group', async () => {
    if (!lab) return; // reason printed in beforeAll
    const run = await drover(['--limit', 'loadbalancers']);
    expect(run.code, describeRun(run)).toBe(0);
    for (const [host, self, peer, state, prio] of [
      [LB1, '10.17.4.30', '10.17.4.31', 'MASTER', 150],
      [LB2, '10.17.4.31', '10.17.4.30', 'BACKUP', 100],
    ] as const) {
      expect((await must(lab, host, 'systemctl is-active keepalived haproxy')).trim()).toBe('active\nactive');
      const cfg = await must(lab, host, `cat ${CFG}`);
      expect(cfg).toContain(`    state ${state}\n    interface eth0\n    virtual_router_id 51\n    priority ${prio}\n`);
      expect(cfg).toContain(`    unicast_src_ip ${self}\n    unicast_peer {\n        ${peer}\n    }\n`);
      expect(cfg).toContain(`        ${API_VIP}/24 dev eth0\n`);
      expect((await must(lab, host, `stat -c '%a %U' ${CFG}`)).trim()).toBe('600 root');
    }
  });

  it('the VIPs sit on loadbalancer1, and the API and web frontends answer through them', async () => {
    if (!lab) return;
    await waitVipsSettled(lab, LB1, LB2);
    expect(await vipsOn(lab, LB1)).toEqual({ api: true, web: true });
    expect(await vipsOn(lab, LB2)).toEqual({ api: false, web: false });
    const api = await connectMany(API_VIP, 6443, 3);
    expect(api.every((r) => r.ok && MASTERS.includes(r.host!)), JSON.stringify(api)).toBe(true);
    const web = await connectMany(WEB_VIP, 80, 3);
    expect(web.every((r) => r.ok && WORKERS.includes(r.host!)), JSON.stringify(web)).toBe(true);
  });

  it('haproxy down on loadbalancer1 moves the VIPs to loadbalancer2; back up, they return (preempt): measured', async () => {
    if (!lab) return;
    await waitVipsSettled(lab, LB1, LB2);
    const probe = startProbe(API_VIP, 6443, 100);
    await new Promise((r) => setTimeout(r, 1500)); // a baseline of good samples
    try {
      // Failover.
      const onLb2 = watchVips(lab, LB2);
      await new Promise((r) => setTimeout(r, 1000)); // the watcher's ssh is up and polling
      const stoppedAt = await timed(lab, LB1, 'systemctl stop haproxy');
      const movedAt = await onLb2;
      const failoverMs = movedAt - stoppedAt;
      expect(await vipsOn(lab, LB1)).toEqual({ api: false, web: false });
      await new Promise((r) => setTimeout(r, 3000)); // service through loadbalancer2 for a while

      // Failback (preempt: priority 150 > 100 once the check passes again).
      const onLb1 = watchVips(lab, LB1);
      await new Promise((r) => setTimeout(r, 1000));
      const startedAt = await timed(lab, LB1, 'systemctl start haproxy');
      const backAt = await onLb1;
      const failbackMs = backAt - startedAt;
      await waitVipsSettled(lab, LB1, LB2, 10_000);
      await new Promise((r) => setTimeout(r, 3000));

      const samples = await probe.stop();
      const over = longestOutage(samples.filter((s) => s.t < startedAt));
      const back = longestOutage(samples, startedAt);
      const servedBy = new Set(samples.filter((s) => s.ok).map((s) => s.host));
      figures.push(
        `failover: VIPs on ${LB2} ${failoverMs} ms after haproxy stopped on ${LB1}; longest API outage through ${API_VIP}:6443 ${over.gapMs} ms (${over.failed} of ${over.total} probes failed, 100 ms apart)`,
        `failback (preempt): VIPs back on ${LB1} ${failbackMs} ms after haproxy started; longest outage ${back.gapMs} ms (${back.failed} of ${back.total} probes failed)`,
      );
      console.log(`[role-keepalived] ${figures.join('\n[role-keepalived] ')}`);

      expect(failoverMs).toBeGreaterThan(0);
      expect(failoverMs).toBeLessThan(BOUND_MS);
      expect(over.gapMs).toBeLessThan(BOUND_MS);
      expect(failbackMs).toBeGreaterThan(0);
      expect(failbackMs).toBeLessThan(BOUND_MS);
      expect(back.gapMs).toBeLessThan(BOUND_MS);
      // Service resumed after each move: good probes after the failover and at the end.
      expect(samples.some((s) => s.ok && s.t > movedAt && s.t < startedAt)).toBe(true);
      expect(back.resumed).toBe(true);
      expect([...servedBy].every((h) => MASTERS.includes(h!))).toBe(true);
    } finally {
      await lab.sh(LB1, 'systemctl start haproxy');
      await probe.stop().catch(() => []);
    }
  });

  it('a second run changes nothing', async () => {
    if (!lab) return;
    const run = await drover(['--limit', 'loadbalancers']);
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.changed, JSON.stringify(run.tasks.filter((x) => x.status === 'changed'))).toBe(0);
  });

  it('--check --diff after a drift reports it (auth_pass masked) and changes nothing; a run reloads without moving the VIPs', async () => {
    if (!lab) return;
    await must(lab, LB1, `printf '%s\\n' '# local drift' >> ${CFG}`);
    const drifted = await must(lab, LB1, `sha256sum ${CFG}`);
    const pid = (await must(lab, LB1, 'systemctl show -p MainPID --value keepalived')).trim();
    const check = await drover(['--limit', LB1, '--check', '--diff']);
    expect(check.code, describeRun(check)).toBe(0);
    const task = check.tasks.find((x) => x.host === LB1 && x.task === CFG_TASK);
    expect(task?.status).toBe('changed');
    expect(task?.msg).toMatch(/^would update/);
    expect(task?.diff?.[0]?.before).toContain('# local drift');
    expect(task?.diff?.[0]?.after).toContain(`auth_pass ${REDACTED}`);
    expect(await must(lab, LB1, `sha256sum ${CFG}`)).toBe(drifted);

    const fix = await drover(['--limit', LB1]);
    expect(fix.code, describeRun(fix)).toBe(0);
    expect(fix.tasks.find((x) => x.task === CFG_TASK)?.status).toBe('changed');
    expect(fix.tasks.find((x) => x.handler && x.task === 'reload keepalived')?.status).toBe('changed');
    expect(await must(lab, LB1, `sha256sum ${CFG}`)).not.toBe(drifted);
    // Reload (SIGHUP), not restart: same process, and the VIPs never left loadbalancer1.
    expect((await must(lab, LB1, 'systemctl show -p MainPID --value keepalived')).trim()).toBe(pid);
    expect(await vipsOn(lab, LB1)).toEqual({ api: true, web: true });
    expect(await vipsOn(lab, LB2)).toEqual({ api: false, web: false });
    expect((await drover(['--limit', LB1])).changed).toBe(0);
  });

  it('never prints the VRRP password in any run', async () => {
    if (!lab) return;
    expect(runs.length).toBeGreaterThanOrEqual(4);
    for (const run of runs) {
      expect(run.stdout.includes(AUTH_PASS)).toBe(false);
      expect(run.stderr.includes(AUTH_PASS)).toBe(false);
    }
  });
});
