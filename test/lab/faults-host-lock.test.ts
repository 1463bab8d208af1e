// Fault: two Drover runs against the same hosts at once (the three masters). Each run holds a
// lock on every host it works on (lib/transport/host-lock.ts). Proven on the hosts' journal
// (each run appends "<run> begin", sleeps, "<run> end"):
// - the second run says who holds each host and waits; it starts only after the first is
//   done, so the journal never interleaves;
// - with --lock-wait 0 the second run refuses at once (exit 4) and writes nothing;
// - the first run killed with SIGKILL mid-command leaves no lock behind: the waiting run
//   goes on once the killed run's last command on the host has ended (never during it).
import { beforeAll, describe, expect, it } from 'vitest';
import { FAULT_DIR } from './support/fault-playbook.ts';
import { FAULT_PLAYBOOK, onHost, startRun, taskEnds } from './support/fault-run.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const HOSTS = ['master1', 'master2', 'master3'];
let lab: Lab | undefined;

beforeAll(async () => {
  lab = await useLab();
  if (!lab) console.warn('[faults-host-lock] lab not available here: skipping');
});

const args = (run: string, sleepS: number, ...extra: string[]) => [
  '-i',
  lab!.inventory,
  '--limit',
  HOSTS.join(','),
  '-e',
  `fault_run=${run}`,
  '-e',
  `fault_sleep=${sleepS}`,
  '-e',
  'fault_only=journal',
  ...extra,
];
const journal = async (host: string) => (await onHost(host, `cat ${FAULT_DIR}/journal 2>/dev/null || true`)).split('\n').filter(Boolean);
/** The journal lines of these runs only, in order. */
async function linesOf(host: string, ...runs: string[]): Promise<string[]> {
  return (await journal(host)).filter((l) => runs.some((r) => l.startsWith(`${r} `)));
}
const bothStarted = (run: ReturnType<typeof startRun>) =>
  Promise.all(HOSTS.map((h) => run.waitFor(`${h} journal start`, (e) => e.type === 'task_start' && e.host === h && e.task === 'journal')));

describe('two runs against the same hosts at once', () => {
  it('the second waits for the first, saying who holds each host; their writes never interleave', async (ctx) => {
    if (!lab) return ctx.skip();
    const a = `lockA-${Date.now()}`;
    const b = `lockB-${Date.now()}`;
    const first = startRun(FAULT_PLAYBOOK, args(a, 3));
    await bothStarted(first);
    const second = startRun(FAULT_PLAYBOOK, args(b, 1));
    const [endA, endB] = await Promise.all([first.done, second.done]);
    expect(endA.code, endA.stderr).toBe(0);
    expect(endB.code, endB.stderr).toBe(0);
    const waits = endB.events.filter((e) => e.type === 'log' && e.level === 'warn' && e.msg.includes('host is locked by'));
    expect(waits.map((e) => (e.type === 'log' ? e.host : '')).sort()).toEqual(HOSTS);
    for (const w of waits) expect(w.type === 'log' && w.msg).toMatch(new RegExp(`^host is locked by drover pid ${first.pid} \\(fault-playbook\\.ts\\) on \\S+ as \\S+, since \\S+; waiting up to 60 s`));
    for (const h of HOSTS) expect(await linesOf(h, a, b), h).toEqual([`${a} begin`, `${a} end`, `${b} begin`, `${b} end`]);
  });

  it('with --lock-wait 0 the second run refuses at once: exit 4, each host named with its holder, nothing written', async (ctx) => {
    if (!lab) return ctx.skip();
    const a = `lockC-${Date.now()}`;
    const b = `lockD-${Date.now()}`;
    const first = startRun(FAULT_PLAYBOOK, args(a, 3));
    await bothStarted(first);
    const endB = await startRun(FAULT_PLAYBOOK, args(b, 1, '--lock-wait', '0')).done;
    expect(endB.code, endB.stdout).toBe(4);
    for (const h of HOSTS) {
      expect(endB.recap!.hosts[h], h).toMatchObject({ unreachable: 1, changed: 0 });
      const st = endB.events.find((e) => e.type === 'host_state' && e.host === h && e.state === 'unreachable');
      expect(st?.type === 'host_state' && st.msg).toMatch(new RegExp(`host is locked by drover pid ${first.pid} .*another Drover run is working on it; not touched`));
    }
    expect(taskEnds(endB.events).filter((t) => t.task === 'journal')).toEqual([]);
    expect((await first.done).code).toBe(0);
    for (const h of HOSTS) expect(await linesOf(h, a, b), h).toEqual([`${a} begin`, `${a} end`]);
  });

  it('a first run killed with SIGKILL leaves no lock: the waiting run goes on after the killed run\'s last command ends', async (ctx) => {
    if (!lab) return ctx.skip();
    const a = `lockE-${Date.now()}`;
    const b = `lockF-${Date.now()}`;
    const first = startRun(FAULT_PLAYBOOK, args(a, 3));
    await bothStarted(first);
    const second = startRun(FAULT_PLAYBOOK, args(b, 1));
    await Promise.all(HOSTS.map((h) => second.waitFor(`${h} waiting`, (e) => e.type === 'log' && e.host === h && e.msg.startsWith('host is locked by'))));
    first.signal('SIGKILL');
    const endA = await first.done;
    expect(endA.signal).toBe('SIGKILL');
    const endB = await second.done;
    expect(endB.code, endB.stdout).toBe(0);
    // The killed run's command went on without its connection; the lock was held until it ended.
    for (const h of HOSTS) expect(await linesOf(h, a, b), h).toEqual([`${a} begin`, `${a} end`, `${b} begin`, `${b} end`]);
    // And nothing holds the hosts now: a run that refuses to wait gets every one.
    const after = await startRun(FAULT_PLAYBOOK, ['-i', lab.inventory, '--limit', HOSTS.join(','), '-e', `fault_run=${b}`, '-e', 'fault_only=none', '--lock-wait', '0']).done;
    expect(after.code, after.stdout).toBe(0);
  });
});
