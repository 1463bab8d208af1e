// Role haproxy against real hosts: loadbalancer1/2 get the lb playbook (haproxy + keepalived);
// masters and workers get stand-in backends (socat answering with the host name, as transient
// systemd units removed in afterAll) since the lab cannot download K3s. Checked for real:
// round robin through every frontend, a dead backend skipped after the health check, a broken
// extra config refused with the live config and process untouched, the stats page behind its
// password, the password absent from every output, idempotence, and --check after a drift.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labExec } from '../../lab/index.ts';
import { REDACTED } from '../../lib/secrets/redact.ts';
import { describeRun, runDrover, type DroverRun } from './support/drover.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const PLAYBOOK = 'playbooks/lb.ts';
const LB1 = 'loadbalancer1';
const LB1_ADDR = '10.17.4.30';
const CFG = '/etc/haproxy/haproxy.cfg';
const CFG_TASK = 'haproxy.cfg (validated with haproxy -c)';
const MASTERS = ['master1', 'master2', 'master3'];
const WORKERS = ['worker1', 'worker2', 'worker3'];
const PASSWORD = (parse(readFileSync('inventory/group_vars/loadbalancers.yaml', 'utf8')) as { haproxy_stats_password: string }).haproxy_stats_password;

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

function stopUnit(port: number): string {
  return `systemctl stop ${unitName(port)} 2>/dev/null; systemctl reset-failed ${unitName(port)} 2>/dev/null; true`;
}

function startUnit(port: number): string {
  // Then make sure the stand-in holds the port: if something else does, say what (ss -p).
  const held = `ss -Hltnp 'sport = :${port}' | grep -q '"socat"'`;
  const wait = `i=0; until ${held}; do i=$((i+1)); if [ $i -ge 50 ]; then echo "port ${port} is not the stand-in's: $(ss -Hltnp 'sport = :${port}')" >&2; exit 1; fi; sleep 0.1; done`;
  return `${stopUnit(port)}; systemd-run --quiet --unit ${unitName(port)} socat TCP-LISTEN:${port},fork,reuseaddr SYSTEM:hostname && ( ${wait} )`;
}

async function startBackends(lab: Lab): Promise<void> {
  const install =
    'command -v socat >/dev/null || { apt-get -o DPkg::Lock::Timeout=300 update -qq && ' +
    'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends socat >/dev/null; }';
  await Promise.all(BACKENDS.map((b) => must(lab, b.host, [install, ...b.ports.map(startUnit)].join(' && '))));
}

async function stopBackends(lab: Lab): Promise<void> {
  await Promise.all(BACKENDS.map((b) => lab.sh(b.host, b.ports.map(stopUnit).join('; '))));
}

// ---- from the controller's namespace --------------------------------------------------------

/** Node script run inside the lab namespace: N sequential TCP connections, each reading the reply. */
const CONNECT_MANY = `
const net = require('net');
const [host, port, n] = process.argv.slice(1);
function one() {
  return new Promise((resolve) => {
    let data = '';
    const s = net.connect({ host, port: Number(port) });
    s.setTimeout(2000, () => { s.destroy(); resolve({ ok: false, err: 'timeout' }); });
    s.on('data', (d) => (data += d));
    s.on('error', (e) => resolve({ ok: false, err: e.code || e.message }));
    s.on('close', () => resolve(data.trim() ? { ok: true, host: data.trim() } : { ok: false, err: 'empty reply' }));
  });
}
(async () => { const out = []; for (let i = 0; i < Number(n); i++) out.push(await one()); console.log(JSON.stringify(out)); })();
`;

interface Reply {
  ok: boolean;
  host?: string;
  err?: string;
}

async function connectMany(address: string, port: number, n: number): Promise<Reply[]> {
  const r = await labExec([process.execPath, '-e', CONNECT_MANY, address, String(port), String(n)], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`connect script failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Reply[];
}

/** curl from the controller namespace; credentials via a config on stdin (never argv). */
async function statsRequest(path: string, withPassword: boolean): Promise<{ code: string; body: string }> {
  const url = `http://${LB1_ADDR}:8404${path}`;
  const r = await labExec(['curl', '-sS', '--max-time', '5', '-K', '-', '-w', '\n%{http_code}', url], {
    input: withPassword ? `user = "admin:${PASSWORD}"\n` : '\n',
  });
  const i = r.stdout.lastIndexOf('\n');
  return { code: r.stdout.slice(i + 1).trim(), body: r.stdout.slice(0, i) };
}

/** Server status from the stats CSV (pxname,svname,...,status,...). */
async function serverStatus(backend: string, server: string): Promise<string | undefined> {
  const { code, body } = await statsRequest('/stats;csv', true);
  if (code !== '200') return undefined;
  const lines = body.split('\n');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const at = header.indexOf('status');
  const row = lines.find((l) => l.startsWith(`${backend},${server},`));
  return row?.split(',')[at];
}

async function waitForStatus(backend: string, server: string, want: RegExp, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  let last: string | undefined;
  while (Date.now() - t0 < timeoutMs) {
    last = await serverStatus(backend, server);
    if (last !== undefined && want.test(last)) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${backend}/${server} did not reach ${want} in ${timeoutMs} ms (last: ${last})`);
}

/**
 * Every server UP for HAProxy. Strictly "UP": right after a (re)start HAProxy reports its
 * servers UP before their first check, and "UP 1/2" is a server on its way down.
 */
async function waitAllUp(): Promise<void> {
  for (const m of MASTERS) await waitForStatus('masters_6443', m, /^UP$/);
  for (const p of [80, 443]) for (const w of WORKERS) await waitForStatus(`workers_${p}`, w, /^UP$/);
}

// ---- the tests --------------------------------------------------------------------------------

let lab: Lab | undefined;
const runs: DroverRun[] = [];

async function drover(args: string[]): Promise<DroverRun> {
  const run = await runDrover(PLAYBOOK, ['-i', lab!.inventory, ...args]);
  runs.push(run);
  return run;
}

const lb1 = (cmd: string) => must(lab!, LB1, cmd);
const sha = async () => (await lb1(`sha256sum ${CFG}`)).split(' ')[0];
const mainPid = async () => (await lb1('systemctl show -p MainPID --value haproxy')).trim();

describe('role haproxy (lab)', () => {
  beforeAll(async () => {
    lab = await useLab();
    if (!lab) {
      console.warn('[role-haproxy] lab not available here: skipping the role haproxy lab tests');
      return;
    }
    await startBackends(lab);
  });

  afterAll(async () => {
    if (!lab) return;
    await lab.sh(LB1, 'systemctl start haproxy');
    await stopBackends(lab);
  });

  it('converges both load balancers (haproxy installed, validated config, running)', async () => {
    if (!lab) return; // reason printed in beforeAll
    const run = await drover(['--limit', 'loadbalancers']);
    expect(run.code, describeRun(run)).toBe(0);
    for (const host of [LB1, 'loadbalancer2']) {
      expect((await must(lab, host, 'systemctl is-active haproxy')).trim()).toBe('active');
      const cfg = await must(lab, host, `cat ${CFG}`);
      expect(cfg).toContain('server master1 10.17.4.21:6443 check inter 1s fall 2 rise 1');
      expect(cfg).toContain('server worker3 10.17.4.26:443 check');
      expect((await must(lab, host, `stat -c '%a %U %G' ${CFG}`)).trim()).toBe('640 root haproxy');
    }
    await waitAllUp();
  });

  it('each frontend reaches every backend in turn (round robin)', async () => {
    if (!lab) return; // reason printed in beforeAll
    // The health checks have run since the converge: every server must be UP by them now.
    await new Promise((r) => setTimeout(r, 2500));
    await waitAllUp();
    for (const [port, hosts] of [[6443, MASTERS], [80, WORKERS], [443, WORKERS]] as const) {
      const replies = await connectMany(LB1_ADDR, port, 9);
      expect(replies.every((r) => r.ok), JSON.stringify(replies)).toBe(true);
      const seen = replies.map((r) => r.host);
      expect(new Set(seen), `port ${port}: ${seen.join(' ')}`).toEqual(new Set(hosts));
      // Not asserted exactly: right after servers change state (the stand-ins were just
      // restarted) haproxy's dynamic round robin may be uneven for a few picks.
      console.log(`[role-haproxy] ${LB1_ADDR}:${port} -> ${hosts.map((h) => `${h} x${seen.filter((s) => s === h).length}`).join(', ')}`);
    }
  });

  it('skips a backend once the health check marks it down, and takes it back when it returns', async () => {
    if (!lab) return; // reason printed in beforeAll
    await must(lab, 'master2', stopUnit(6443));
    const downMs = await waitForStatus('masters_6443', 'master2', /^DOWN/);
    console.log(`[role-haproxy] master2 marked DOWN ${downMs} ms after its stand-in stopped (inter 1s, fall 2)`);
    const replies = await connectMany(LB1_ADDR, 6443, 8);
    expect(replies.every((r) => r.ok), JSON.stringify(replies)).toBe(true);
    expect(new Set(replies.map((r) => r.host))).toEqual(new Set(['master1', 'master3']));

    await must(lab, 'master2', startUnit(6443));
    await waitForStatus('masters_6443', 'master2', /^UP/);
    const again = await connectMany(LB1_ADDR, 6443, 9);
    expect(new Set(again.map((r) => r.host))).toEqual(new Set(MASTERS));
  });

  it('the stats page needs the password: 401 without, 200 with', async () => {
    if (!lab) return; // reason printed in beforeAll
    expect((await statsRequest('/stats', false)).code).toBe('401');
    const ok = await statsRequest('/stats', true);
    expect(ok.code).toBe('200');
    expect(ok.body).toContain('masters_6443');
  });

  it('refuses a broken haproxy_extra_config: exit 2, haproxy message, live config and process untouched', async () => {
    if (!lab) return; // reason printed in beforeAll
    const shaBefore = await sha();
    const pidBefore = await mainPid();
    const broken = JSON.stringify({ haproxy_extra_config: 'frontend broken\n    bind *:9999\n    bogus_keyword yes\n' });
    const run = await drover(['--limit', LB1, '-e', broken]);
    expect(run.code, describeRun(run)).toBe(2);
    const task = run.tasks.find((x) => x.host === LB1 && x.task === CFG_TASK);
    expect(task?.status).toBe('failed');
    expect(task?.msg).toContain("unknown keyword 'bogus_keyword' in 'frontend' section");
    expect(task?.msg).toMatch(/^validation of \/etc\/haproxy\/haproxy.cfg failed/);
    // No reload was notified by a failed task.
    expect(run.tasks.some((x) => x.handler)).toBe(false);
    expect(await sha()).toBe(shaBefore);
    expect((await lb1('systemctl is-active haproxy')).trim()).toBe('active');
    expect(await mainPid()).toBe(pidBefore);
    expect((await lb1('ls -a /etc/haproxy')).includes('.drover-')).toBe(false);
  });

  it('a second run changes nothing', async () => {
    if (!lab) return; // reason printed in beforeAll
    const run = await drover(['--limit', 'loadbalancers']);
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.changed, JSON.stringify(run.tasks.filter((x) => x.status === 'changed'))).toBe(0);
  });

  it('--check --diff after a drift reports it (password masked) and changes nothing; a run then reloads, not restarts', async () => {
    if (!lab) return; // reason printed in beforeAll
    await lb1(`printf '%s\\n' '# local drift' >> ${CFG}`);
    const drifted = await sha();
    const pid = await mainPid();
    const check = await drover(['--limit', LB1, '--check', '--diff']);
    expect(check.code, describeRun(check)).toBe(0);
    const task = check.tasks.find((x) => x.host === LB1 && x.task === CFG_TASK);
    expect(task?.status).toBe('changed');
    expect(task?.msg).toMatch(/^would update/);
    expect(task?.diff?.[0]?.before).toContain('# local drift');
    expect(task?.diff?.[0]?.after).toContain(`stats auth ${REDACTED}`);
    expect(await sha()).toBe(drifted);
    expect(await mainPid()).toBe(pid);

    const fix = await drover(['--limit', LB1, '--diff']);
    expect(fix.code, describeRun(fix)).toBe(0);
    expect(fix.tasks.find((x) => x.task === CFG_TASK)?.status).toBe('changed');
    const handler = fix.tasks.find((x) => x.handler && x.task === 'reload haproxy');
    expect(handler?.status).toBe('changed');
    expect(handler?.msg).toContain('reload haproxy');
    expect(await sha()).not.toBe(drifted);
    // A reload keeps the master process: the same MainPID.
    expect(await mainPid()).toBe(pid);
    const again = await drover(['--limit', LB1]);
    expect(again.changed).toBe(0);
  });

  it('never prints the stats password, in any run (JSON events, diffs, errors, stderr)', async () => {
    if (!lab) return; // reason printed in beforeAll
    expect(runs.length).toBeGreaterThanOrEqual(5);
    for (const run of runs) {
      expect(run.stdout.includes(PASSWORD)).toBe(false);
      expect(run.stderr.includes(PASSWORD)).toBe(false);
    }
    // ...while the diffs did show the stats section, masked.
    expect(runs.some((r) => r.stdout.includes(`stats auth ${REDACTED}`))).toBe(true);
  });
});
