// Fault: a host stops mid-run (worker3's container SIGKILLed, as a power cut, while every host
// is inside a 4 s command). It is reported unreachable, the 11 others finish every task, the
// run exits 4. Then `npm run lab -- up` brings it back (a fresh host: the lab rebuilds a
// killed host's disk) and a re-run converges it while the others report no change.
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTopology } from '../../lab/index.ts';
import { FAULT_DIR, SMALL_FILES, sha256, smallContent } from './support/fault-playbook.ts';
import { FAULT_PLAYBOOK, killLabHost, onHost, sleep, startRun, taskEnds } from './support/fault-run.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const VICTIM = 'worker3';
let lab: Lab | undefined;

beforeAll(async () => {
  lab = await useLab();
  if (!lab) console.warn('[faults-host-down] lab not available here: skipping');
});

describe('a host stopped mid-run', () => {
  it('is unreachable, the others finish, exit 4; once back, a re-run converges it', async (ctx) => {
    if (!lab) return ctx.skip();
    const hosts = (await readTopology(lab.inventory)).hosts.map((h) => h.name);
    const id = `down-${Date.now()}`;
    const run = startRun(FAULT_PLAYBOOK, ['-i', lab.inventory, '-e', `fault_run=${id}`, '-e', 'fault_sleep=4']);
    await run.waitFor(`${VICTIM} in journal`, (e) => e.type === 'task_start' && e.host === VICTIM && e.task === 'journal');
    await sleep(500);
    const killed = killLabHost(VICTIM);
    expect(killed).toBeGreaterThan(1);
    const end = await run.done;

    expect(end.code, end.stderr).toBe(4);
    const recap = end.recap!;
    expect(recap.hosts[VICTIM]).toMatchObject({ unreachable: 1, failed: 0 });
    const victimEnd = taskEnds(end.events).find((t) => t.host === VICTIM && t.status === 'unreachable');
    expect(victimEnd?.task).toBe('journal');
    expect(victimEnd?.msg).toMatch(/connection lost while running/);
    // Nothing ran on it after that.
    expect(taskEnds(end.events).filter((t) => t.host === VICTIM && t.task.startsWith('file '))).toEqual([]);
    for (const h of hosts.filter((x) => x !== VICTIM)) {
      expect(recap.hosts[h], h).toMatchObject({ failed: 0, unreachable: 0 });
      for (const f of SMALL_FILES) {
        expect(taskEnds(end.events).find((t) => t.host === h && t.task === `file ${f}`)?.status, `${h} file ${f}`).toBe('changed');
      }
    }

    // Back up with the lab's own command; the lab gives a killed host a fresh disk and host key.
    execFileSync('npm', ['run', '--silent', 'lab', '--', 'up'], { encoding: 'utf8', timeout: 300_000 });
    expect(await onHost(VICTIM, 'systemctl is-system-running || true')).toMatch(/running|degraded/);

    const again = await startRun(FAULT_PLAYBOOK, ['-i', lab.inventory, '-e', `fault_run=${id}`]).done;
    expect(again.code, again.stderr + again.stdout.slice(-3000)).toBe(0);
    for (const h of hosts) {
      const changed = again.recap!.hosts[h]!.changed;
      if (h === VICTIM) expect(changed, h).toBe(1 + SMALL_FILES.length); // directory + the files
      else expect(changed, h).toBe(0);
    }
    for (const f of SMALL_FILES) {
      expect((await onHost(VICTIM, `sha256sum ${FAULT_DIR}/${f}`)).split(' ')[0]).toBe(sha256(smallContent(id, f)));
    }
    console.log(`[faults-host-down] 1 host killed (${killed} processes) mid-run; ${hosts.length - 1} others finished; re-run converged it`);
  });
});
