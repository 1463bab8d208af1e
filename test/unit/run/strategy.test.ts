import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { changed, ok } from '../../../lib/ops/types.ts';
import { defineRole, type Play, type Task } from '../../../lib/run/types.ts';
import { harness, makeInventory, tick } from './helpers.ts';

const inv = makeInventory({ a: { groups: ['web'] }, b: { groups: ['web'] }, c: { groups: ['web'] }, d: {}, e: {} });

/** A task that records start/end and sleeps a per-host time. */
function timed(name: string, log: string[], delays: Record<string, number>, result = ok()): Task {
  return {
    name,
    run: async (ctx) => {
      log.push(`start ${ctx.host}:${name}`);
      await tick(delays[ctx.host] ?? 0);
      log.push(`end ${ctx.host}:${name}`);
      return result;
    },
  };
}

describe('strategies', () => {
  it('linear: every host finishes task N before any host starts task N+1', async () => {
    const log: string[] = [];
    const delays = { a: 30, b: 1, c: 10 };
    const role = defineRole({ name: 'r', vars: z.object({}), tasks: [timed('t1', log, delays), timed('t2', log, delays), timed('t3', log, delays)] });
    const h = harness(inv);
    const recap = await h.run([{ name: 'p', hosts: 'web', roles: [role] }]);
    expect(recap.exitCode).toBe(0);
    for (const [cur, next] of [['t1', 't2'], ['t2', 't3']]) {
      const lastEnd = Math.max(...['a', 'b', 'c'].map((x) => log.indexOf(`end ${x}:${cur}`)));
      const firstNext = Math.min(...['a', 'b', 'c'].map((x) => log.indexOf(`start ${x}:${next}`)));
      expect(lastEnd).toBeGreaterThan(-1);
      expect(firstNext).toBeGreaterThan(lastEnd);
    }
    // Events follow the same lockstep: all task_start t1 before any t2.
    const starts = h.sink.starts();
    expect(starts.slice(0, 3).every((s) => s.endsWith(':t1'))).toBe(true);
    expect(starts.slice(3, 6).every((s) => s.endsWith(':t2'))).toBe(true);
  });

  it('free: a fast host runs ahead through its whole list while a slow one is still on task 1', async () => {
    const log: string[] = [];
    const delays = { a: 60, b: 1, c: 1 };
    const role = defineRole({ name: 'r', vars: z.object({}), tasks: [timed('t1', log, delays), timed('t2', log, delays), timed('t3', log, delays)] });
    const h = harness(inv);
    await h.run([{ name: 'p', hosts: 'web', roles: [role], strategy: 'free' }]);
    expect(log.indexOf('end b:t3')).toBeLessThan(log.indexOf('end a:t1'));
    expect(log.indexOf('start b:t2')).toBeLessThan(log.indexOf('end a:t1'));
    expect(log.filter((l) => l.startsWith('end'))).toHaveLength(9);
  });

  it('forks bounds how many hosts work at once (linear and free)', async () => {
    for (const strategy of ['linear', 'free'] as const) {
      let running = 0;
      let peak = 0;
      const role = defineRole({
        name: 'r',
        vars: z.object({}),
        tasks: [1, 2].map((i) => ({
          name: `t${i}`,
          run: async () => {
            peak = Math.max(peak, ++running);
            await tick(5);
            running--;
            return ok();
          },
        })),
      });
      const h = harness(inv);
      const recap = await h.run([{ name: 'p', hosts: 'all', roles: [role], strategy }], { forks: 2 });
      expect(peak).toBe(2);
      expect(Object.values(recap.hosts).every((x) => x.ok === 3)).toBe(true); // facts + 2 tasks
    }
  });

  it('serial [1, "50%"]: the whole play, handlers included, runs batch by batch (1, 2, 2)', async () => {
    const log: string[] = [];
    const role = defineRole({
      name: 'r',
      vars: z.object({}),
      tasks: [
        { name: 'change', notify: 'restart', run: (ctx) => (log.push(`${ctx.host}:change`), changed()) },
        { name: 'after', run: (ctx) => (log.push(`${ctx.host}:after`), ok()) },
      ],
      handlers: [{ name: 'restart', run: (ctx) => (log.push(`${ctx.host}:restart`), ok()) }],
    });
    const h = harness(inv);
    const play: Play = { name: 'rolling', hosts: 'all', roles: [role], serial: [1, '50%'] };
    const recap = await h.run([play]);
    expect(recap.exitCode).toBe(0);
    const pos = (s: string) => log.indexOf(s);
    // batch 1 = [a], batch 2 = [b, c], batch 3 = [d, e]
    expect(pos('a:restart')).toBeLessThan(pos('b:change'));
    expect(pos('b:restart')).toBeLessThan(pos('d:change'));
    expect(pos('c:restart')).toBeLessThan(pos('d:change'));
    expect(pos('b:after')).toBeLessThan(pos('b:restart'));
    expect(pos('c:after')).toBeLessThan(pos('b:restart'));
    expect(log.filter((l) => l.endsWith(':restart'))).toHaveLength(5);
    expect(h.sink.of('play_start')[0]!.serial).toBe('1,50%');
  });

  it('connections are reused across plays, facts gathered once per host, all closed at the end', async () => {
    const role = defineRole({ name: 'r', vars: z.object({}), tasks: [{ name: 't', run: () => ok() }] });
    const h = harness(inv);
    await h.run([
      { name: 'p1', hosts: 'web', roles: [role] },
      { name: 'p2', hosts: 'all', roles: [role] },
    ]);
    expect(h.connects.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(h.gathers.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect([...h.transports.values()].every((t) => t.closed)).toBe(true);
    const states = h.sink.of('host_state').filter((e) => e.host === 'a').map((e) => e.state);
    expect(states).toEqual(['waiting', 'connecting', 'running', 'done', 'waiting', 'running', 'done']);
  });

  it('gatherFacts: false skips the probe; the host name is known, reading another fact fails the task (never a guess)', async () => {
    let seen = '';
    const role = defineRole({ name: 'r', vars: z.object({}), tasks: [{ name: 't', run: (ctx) => ((seen = ctx.facts.hostname), ok(ctx.facts.os.family)) }] });
    const h = harness(inv);
    await h.run([{ name: 'p', hosts: 'a', roles: [role], gatherFacts: false }]);
    expect(h.gathers).toEqual([]);
    expect(seen).toBe('a');
    expect(h.sink.ends('a')[0]).toMatchObject({ status: 'failed', msg: expect.stringMatching(/needs the fact "os", which was not gathered/) });
  });
});
