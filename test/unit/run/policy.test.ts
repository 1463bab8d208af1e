import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UnreachableError } from '../../../lib/errors.ts';
import { failed, ok } from '../../../lib/ops/types.ts';
import { defineRole, type Task } from '../../../lib/run/types.ts';
import { harness, makeInventory, tick } from './helpers.ts';

const hosts = (n: number) => makeInventory(Object.fromEntries(Array.from({ length: n }, (_, i) => [`h${i + 1}`, {}])));
const log: string[] = [];
const step = (name: string, failOn: string[] = []): Task => ({
  name,
  run: (ctx) => (log.push(`${ctx.host}:${name}`), failOn.includes(ctx.host) ? failed(`${name} broke`) : ok()),
});
const role = (...tasks: Task[]) => defineRole({ name: 'r', vars: z.object({}), tasks });

describe('failure policy', () => {
  it('a failed host stops its own tasks; the others go on; exit 2', async () => {
    log.length = 0;
    const h = harness(hosts(3));
    const recap = await h.run([{ name: 'p', hosts: 'all', roles: [role(step('t1'), step('t2', ['h2']), step('t3'))] }]);
    expect(log.filter((l) => l.endsWith(':t3')).sort()).toEqual(['h1:t3', 'h3:t3']);
    expect(recap.hosts.h2).toMatchObject({ ok: 2, failed: 1 });
    expect(recap.exitCode).toBe(2);
    expect(h.sink.of('host_state').filter((e) => e.host === 'h2').map((e) => e.state)).toContain('failed');
  });

  it('hosts that failed in one play sit out the later plays', async () => {
    log.length = 0;
    const h = harness(hosts(2));
    await h.run([
      { name: 'p1', hosts: 'all', roles: [role(step('t1', ['h1']))] },
      { name: 'p2', hosts: 'all', roles: [role(step('t2'))] },
    ]);
    expect(h.sink.of('play_start')[1]!.hosts).toEqual(['h2']);
    expect(log).not.toContain('h1:t2');
  });

  it('anyErrorsFatal: one failure stops every host after the current task, and the run', async () => {
    log.length = 0;
    const h = harness(hosts(3));
    const recap = await h.run(
      [
        { name: 'p', hosts: 'all', anyErrorsFatal: true, roles: [role(step('t1'), step('t2', ['h1']), step('t3'))] },
        { name: 'later', hosts: 'all', roles: [role(step('t4'))] },
      ],
      { forks: 1 },
    );
    // t2 finished on every host (even with forks 1), nobody started t3, the next play never ran.
    expect(log.filter((l) => l.endsWith(':t2'))).toHaveLength(3);
    expect(log.some((l) => l.endsWith(':t3') || l.endsWith(':t4'))).toBe(false);
    expect(h.sink.of('play_start')).toHaveLength(1);
    expect(recap.exitCode).toBe(2);
    expect(h.sink.of('log').some((e) => /any_errors_fatal/.test(e.msg))).toBe(true);
  });

  it('maxFailPercentage: exceeding it stops the play and the remaining batches', async () => {
    log.length = 0;
    const h = harness(hosts(6));
    // batches of 3: 1 of 3 failed = 33% (not above 40): go on; batch 2: 2 of 3 = 67%: stop.
    const recap = await h.run([{ name: 'p', hosts: 'all', serial: 3, maxFailPercentage: 40, roles: [role(step('t1', ['h1', 'h4', 'h5']), step('t2'))] }]);
    expect(log.filter((l) => l.endsWith(':t2')).sort()).toEqual(['h2:t2', 'h3:t2']);
    expect(recap.exitCode).toBe(2);

    log.length = 0;
    const h2 = harness(hosts(6));
    await h2.run([{ name: 'p', hosts: 'all', serial: 2, maxFailPercentage: 40, roles: [role(step('t1', ['h1']), step('t2'))] }]);
    // 1 of 2 = 50% > 40: the first batch's other host stops after t1 and no batch follows.
    expect(log).toEqual(['h1:t1', 'h2:t1']);
  });

  it('a batch where every host failed ends the run (NO MORE HOSTS LEFT)', async () => {
    log.length = 0;
    const h = harness(hosts(4));
    await h.run([{ name: 'p', hosts: 'all', serial: 2, roles: [role(step('t1', ['h1', 'h2']))] }]);
    expect(log).toEqual(['h1:t1', 'h2:t1']);
    expect(h.sink.of('log').some((e) => /NO MORE HOSTS LEFT/.test(e.msg))).toBe(true);
  });
});

describe('unreachable hosts and exit codes', () => {
  it('a host that cannot connect is unreachable; the others go on; exit 4', async () => {
    log.length = 0;
    const h = harness(hosts(3), { unreachable: ['h2'] });
    const recap = await h.run([{ name: 'p', hosts: 'all', roles: [role(step('t1'))] }]);
    expect(log.sort()).toEqual(['h1:t1', 'h3:t1']);
    expect(recap.hosts.h2).toMatchObject({ unreachable: 1, ok: 0 });
    const st = h.sink.of('host_state').find((e) => e.host === 'h2' && e.state === 'unreachable');
    expect(st?.msg).toMatch(/ECONNREFUSED/);
    expect(recap.exitCode).toBe(4);
  });

  it('failed + unreachable gives 6; all ok gives 0', async () => {
    const h = harness(hosts(3), { unreachable: ['h3'] });
    expect((await h.run([{ name: 'p', hosts: 'all', roles: [role(step('t1', ['h1']))] }])).exitCode).toBe(6);
    expect((await harness(hosts(2)).run([{ name: 'p', hosts: 'all', roles: [role(step('t1'))] }])).exitCode).toBe(0);
  });

  it('a connection that breaks during a task (UnreachableError) makes the host unreachable', async () => {
    const h = harness(hosts(2));
    const broken: Task = { name: 'drop', run: (ctx) => (ctx.host === 'h1' ? Promise.reject(new UnreachableError('h1', 'connection reset')) : ok()) };
    const recap = await h.run([{ name: 'p', hosts: 'all', roles: [role(broken, step('next'))] }]);
    expect(recap.hosts.h1).toMatchObject({ unreachable: 1 });
    expect(h.sink.ends('h1').map((e) => e.status)).toEqual(['unreachable']);
    expect(recap.exitCode).toBe(4);
  });
});

describe('graceful abort', () => {
  it('no new task starts, the in-flight one finishes, recap counts what did not run; exit 130', async () => {
    const ac = new AbortController();
    const done: string[] = [];
    const slow: Task = {
      name: 'slow',
      run: async (ctx) => {
        if (ctx.host === 'h1') ac.abort();
        await tick(20);
        done.push(ctx.host);
        return ok();
      },
    };
    const h = harness(hosts(4));
    const recap = await h.run([{ name: 'p', hosts: 'all', serial: 2, roles: [role(slow, step('t2'), step('t3'))] }], { signal: ac.signal });
    expect(done.sort()).toEqual(['h1', 'h2']); // in flight when aborted: finished
    expect(h.sink.starts().filter((s) => !s.endsWith(':slow'))).toEqual([]);
    expect(recap.aborted).toBe(true);
    expect(recap.exitCode).toBe(130);
    expect(recap.hosts.h1!.aborted).toBe(2);
    expect(recap.hosts.h3!.aborted).toBe(3);
    const ev = h.sink.of('recap')[0]!;
    expect(ev).toMatchObject({ aborted: true, exitCode: 130 });
    expect([...h.transports.values()].every((t) => t.closed)).toBe(true);
  });
});

describe('robustness', () => {
  it('a reporter that throws does not stop the run', async () => {
    const inv = hosts(2);
    const { runPlays } = await import('../../../lib/run/runner.ts');
    const { fakeSelect, fakeFacts } = await import('./helpers.ts');
    const { FakeTransport } = await import('../../support/fake-transport.ts');
    const errWrite = process.stderr.write;
    let warned = '';
    process.stderr.write = ((s: string) => ((warned += s), true)) as typeof process.stderr.write;
    try {
      const recap = await runPlays([{ name: 'p', hosts: 'all', roles: [role(step('t1'), step('t2'))] }], {
        inventory: inv,
        sink: {
          emit: (e) => {
            if (e.type === 'task_end') throw new Error('disk full');
          },
        },
        selectHosts: fakeSelect,
        connect: (h) => new FakeTransport(h.name),
        gatherFacts: async (t) => fakeFacts(t.name),
      });
      expect(recap.exitCode).toBe(0);
      expect(recap.hosts.h1!.ok).toBe(3);
      expect(warned).toMatch(/reporter failed.*disk full/);
    } finally {
      process.stderr.write = errWrite;
    }
  });
});
