// Fault: signals to a run on all 12 lab hosts.
// - SIGINT mid-run (--json): the in-flight command finishes on every host, nothing new
//   starts, the recap is printed with aborted, exit 130;
// - SIGTERM mid-run (plain output): the same stop, the recap table printed, exit 143;
// - a second SIGINT stops at once (exit 130, no recap, in-flight results not waited for);
// - Terraform's way, SIGINT then SIGKILL during 16 MiB uploads to every host: after it,
//   every managed file on every host is whole (the old or the new content), no temp file is
//   left, and no host is left locked.
import { beforeAll, describe, expect, it } from 'vitest';
import { readTopology } from '../../lab/index.ts';
import { bigContent, FAULT_DIR, SMALL_FILES, sha256, smallContent } from './support/fault-playbook.ts';
import { FAULT_PLAYBOOK, onHost, sleep, startRun, taskEnds, type LiveRun } from './support/fault-run.ts';
import { useLab, type Lab } from './support/use-lab.ts';

let lab: Lab | undefined;
let hosts: string[] = [];
let signalsSent = 0;

beforeAll(async () => {
  lab = await useLab();
  if (!lab) return console.warn('[faults-signals] lab not available here: skipping');
  hosts = (await readTopology(lab.inventory)).hosts.map((h) => h.name);
});

// --forks 20: all 12 hosts are inside the command at once (with the default 10, two would
// start only after others finished).
const inJournal = (run: LiveRun, h: string) => run.waitFor(`${h} journal`, (e) => e.type === 'task_start' && e.host === h && e.task === 'journal');
const journalOf = async (h: string, id: string) => (await onHost(h, `grep -F '${id} ' ${FAULT_DIR}/journal || true`)).split('\n').filter(Boolean);

describe('signals mid-run', () => {
  it('SIGINT: in-flight commands finish, nothing new starts, recap with aborted, exit 130', async (ctx) => {
    if (!lab) return ctx.skip();
    const id = `sigint-${Date.now()}`;
    const run = startRun(FAULT_PLAYBOOK, ['-i', lab.inventory, '--forks', '20', '-e', `fault_run=${id}`, '-e', 'fault_sleep=3']);
    await Promise.all(hosts.map((h) => inJournal(run, h)));
    run.signal('SIGINT');
    signalsSent++;
    const end = await run.done;
    expect(end.code, end.stderr).toBe(130);
    expect(end.stderr).toContain('Interrupted: no new task will start; waiting for running tasks');
    expect(end.recap?.aborted).toBe(true);
    for (const h of hosts) {
      expect(taskEnds(end.events).find((t) => t.host === h && t.task === 'journal')?.status, h).toBe('changed');
      expect(await journalOf(h, id), h).toEqual([`${id} begin`, `${id} end`]);
    }
    expect(end.events.filter((e) => e.type === 'task_start' && e.task.startsWith('file '))).toEqual([]);
  });

  it('SIGTERM: the same graceful stop, recap table printed, exit 143', async (ctx) => {
    if (!lab) return ctx.skip();
    const id = `sigterm-${Date.now()}`;
    const run = startRun(FAULT_PLAYBOOK, ['-i', lab.inventory, '--forks', '20', '-e', `fault_run=${id}`, '-e', 'fault_sleep=3', '-vv'], { json: false });
    // Plain -vv prints task starts: wait for every host's journal task.
    await waitForStdout(run, (out) => hosts.every((h) => out.includes(`START [fault : journal] ${h}\n`)));
    run.signal('SIGTERM');
    signalsSent++;
    const end = await run.done;
    expect(end.code, end.stderr).toBe(143);
    expect(end.stderr).toContain('Terminated (SIGTERM): no new task will start; waiting for running tasks');
    expect(end.stdout).toMatch(/PLAY RECAP/);
    for (const h of hosts) expect(await journalOf(h, id), h).toEqual([`${id} begin`, `${id} end`]);
    expect(end.stdout).not.toMatch(/fault : file f-a/);
  });

  it('a second SIGINT stops at once: exit 130 without waiting for the in-flight commands', async (ctx) => {
    if (!lab) return ctx.skip();
    const id = `sigint2-${Date.now()}`;
    const run = startRun(FAULT_PLAYBOOK, ['-i', lab.inventory, '--forks', '20', '-e', `fault_run=${id}`, '-e', 'fault_sleep=5']);
    await Promise.all(hosts.map((h) => inJournal(run, h)));
    run.signal('SIGINT');
    await run.waitForStderr(/Interrupted: no new task/);
    const second = Date.now();
    run.signal('SIGINT');
    signalsSent += 2;
    const end = await run.done;
    const why = `exited ${Date.now() - second} ms after the second SIGINT; stderr: ${end.stderr}`;
    expect(end.code, why).toBe(130);
    expect(end.recap, why).toBeUndefined();
    expect(taskEnds(end.events).filter((t) => t.task === 'journal').length, why).toBe(0);
  });

  it('SIGINT then SIGKILL (Terraform) during uploads: every file whole, old or new; no temp file; no host left locked', async (ctx) => {
    if (!lab) return ctx.skip();
    const MB = 16;
    const old = `tf-old-${Date.now()}`;
    // A known "old" state everywhere first.
    const setup = await startRun(FAULT_PLAYBOOK, ['-i', lab.inventory, '-e', `fault_run=${old}`, '-e', `fault_big_mb=${MB}`]).done;
    expect(setup.code, setup.stderr).toBe(0);
    const id = `tf-new-${Date.now()}`;
    const run = startRun(FAULT_PLAYBOOK, ['-i', lab.inventory, '-e', `fault_run=${id}`, '-e', `fault_big_mb=${MB}`]);
    await run.waitFor('an upload', (e) => e.type === 'task_start' && e.task === 'big file');
    await sleep(300);
    run.signal('SIGINT');
    await run.waitForStderr(/Interrupted: no new task/);
    await sleep(200);
    run.signal('SIGKILL');
    signalsSent += 2;
    const end = await run.done;
    expect(end.signal).toBe('SIGKILL');

    const want = {
      old: { big: sha256(bigContent(old, MB)), ...Object.fromEntries(SMALL_FILES.map((f) => [f, sha256(smallContent(old, f))])) },
      new: { big: sha256(bigContent(id, MB)), ...Object.fromEntries(SMALL_FILES.map((f) => [f, sha256(smallContent(id, f))])) },
    } as Record<'old' | 'new', Record<string, string>>;
    let olds = 0;
    let news = 0;
    for (const h of hosts) {
      // A cut upload's script removes its temp file as soon as its input ends; give it a moment.
      let left = '';
      for (let i = 0; i < 50; i++) {
        left = (await onHost(h, `ls -A ${FAULT_DIR} | grep -F .drover- || true`)).trim();
        if (!left) break;
        await sleep(100);
      }
      expect(left, `${h}: temp files left`).toBe('');
      const sums = Object.fromEntries(
        (await onHost(h, `cd ${FAULT_DIR} && sha256sum big.bin ${SMALL_FILES.join(' ')}`))
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/))
          .map(([sum, f]) => [f === 'big.bin' ? 'big' : f!, sum!]),
      );
      for (const [f, sum] of Object.entries(sums)) {
        const which = sum === want.new[f] ? 'new' : sum === want.old[f] ? 'old' : 'PARTIAL OR FOREIGN';
        expect(which, `${h}:${f}`).not.toBe('PARTIAL OR FOREIGN');
        if (which === 'new') news++;
        else olds++;
      }
    }
    // No host is left locked: the killed run's locks went with its connections (each held
    // only until that run's last command on the host ended), so a new run gets every host.
    const after = await startRun(FAULT_PLAYBOOK, ['-i', lab.inventory, '-e', `fault_run=${id}`, '-e', 'fault_only=none', '--lock-wait', '10']).done;
    expect(after.code, after.stdout).toBe(0);
    console.log(`[faults-signals] ${signalsSent} signals sent; after SIGINT+SIGKILL: ${news} files new, ${olds} old, 0 partial over ${hosts.length} hosts`);
  });
});

async function waitForStdout(run: LiveRun, ok: (out: string) => boolean, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok(run.stdout)) {
    if (Date.now() > until) throw new Error(`stdout never matched; stdout:\n${run.stdout.slice(-3000)}`);
    await sleep(50);
  }
}
