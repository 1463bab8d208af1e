// Play.checkFirst (lib/run/runner.ts): a serial play checks every host at once in check mode;
// hosts with nothing to change are done then, failures there are real and judged before any
// host rolls, and only hosts with something to change roll in serial batches.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { changed, failed, ok, wouldWait } from '../../../lib/ops/types.ts';
import { defineRole, type Play, type Task } from '../../../lib/run/types.ts';
import { harness, makeInventory, tick } from './helpers.ts';

const inv = makeInventory({ a: { groups: ['s'] }, b: { groups: ['s'] }, c: { groups: ['s'] } });

/** Per host: the config it has, whether its service is ready, what really ran on it. */
interface World {
  config: Record<string, string>;
  ready: Record<string, boolean>;
  /** "host:task:check|real" for every task body that ran. */
  ran: string[];
  /** Real changes, in order: "host:what". */
  changes: string[];
  inFlight: number;
  peak: number;
}

function world(config: Record<string, string>, ready: Record<string, boolean> = {}): World {
  return { config, ready: { a: true, b: true, c: true, ...ready }, ran: [], changes: [], inFlight: 0, peak: 0 };
}

function role(w: World, gate: 'wait' | 'fail' = 'wait'): ReturnType<typeof defineRole> {
  const tasks: Task[] = [
    {
      name: 'config',
      register: 'cfg',
      run: async (ctx) => {
        w.ran.push(`${ctx.host}:config:${ctx.check ? 'check' : 'real'}`);
        w.inFlight++;
        w.peak = Math.max(w.peak, w.inFlight);
        await tick(5);
        w.inFlight--;
        if (w.config[ctx.host] === 'v2') return ok('config up to date');
        if (ctx.check) return changed('would write config v2');
        w.config[ctx.host] = 'v2';
        w.changes.push(`${ctx.host}:config`);
        // A restart makes the service not ready until the gate has waited for it.
        w.ready[ctx.host] = false;
        return changed('wrote config v2');
      },
    },
    {
      name: 'gate',
      run: async (ctx) => {
        w.ran.push(`${ctx.host}:gate:${ctx.check ? 'check' : 'real'}`);
        if (w.ready[ctx.host]) return ok('ready');
        if (gate === 'fail') return failed(`${ctx.host} not ready`);
        if (ctx.check) return wouldWait('would wait for ready');
        w.ready[ctx.host] = true;
        return ok('ready after a wait');
      },
    },
  ];
  return defineRole({ name: 'r', vars: z.object({}), tasks });
}

function play(w: World, extra: Partial<Play> = {}, gate: 'wait' | 'fail' = 'wait'): Play {
  return { name: 'roll', hosts: 's', serial: 1, checkFirst: true, anyErrorsFatal: true, roles: [role(w, gate)], ...extra };
}

/** Connect and gather facts first (check-first only checks hosts already connected). */
const warmUp: Play = { name: 'warm up', hosts: 's', roles: [defineRole({ name: 'w', vars: z.object({}), tasks: [{ name: 'noop', run: async () => ok() }] })] };

describe('Play.checkFirst', () => {
  it('a converged serial play: every host checked at once, each done with its real results', async () => {
    const w = world({ a: 'v2', b: 'v2', c: 'v2' });
    const h = harness(inv);
    const recap = await h.run([warmUp, play(w)]);
    expect(recap.exitCode).toBe(0);
    // ok = facts, the warm-up, config, gate. One pass, all hosts together (serial 1 would have had one host at a time).
    expect(w.peak).toBe(3);
    expect(w.ran.filter((r) => r.endsWith(':real'))).toEqual([]);
    expect(w.ran.filter((r) => r.endsWith(':check')).sort()).toEqual(['a:config:check', 'a:gate:check', 'b:config:check', 'b:gate:check', 'c:config:check', 'c:gate:check']);
    for (const host of ['a', 'b', 'c']) {
      expect(recap.hosts[host]).toMatchObject({ ok: 4, changed: 0, failed: 0 });
      const ends = h.sink.ends(host).filter((e) => e.play === 'roll');
      expect(ends.map((e) => `${e.task}:${e.status}:${e.msg}`)).toEqual(['config:ok:config up to date', 'gate:ok:ready']);
    }
    const states = h.sink.of('host_state').filter((e) => e.state === 'done' && e.msg === 'nothing to change (checked first)');
    expect(states.map((e) => e.host).sort()).toEqual(['a', 'b', 'c']);
  });

  it('only the host with something to change rolls, for real, and its preview is not reported', async () => {
    const w = world({ a: 'v2', b: 'v1', c: 'v2' });
    const h = harness(inv);
    const recap = await h.run([warmUp, play(w)]);
    expect(recap.exitCode).toBe(0);
    expect(w.changes).toEqual(['b:config']);
    // b's preview stopped at its first would-change: its gate never ran in check mode.
    expect(w.ran.filter((r) => r.startsWith('b:'))).toEqual(['b:config:check', 'b:config:real', 'b:gate:real']);
    expect(recap.hosts.b).toMatchObject({ ok: 4, changed: 1 });
    expect(recap.hosts.a).toMatchObject({ ok: 4, changed: 0 });
    const bEnds = h.sink.ends('b').filter((e) => e.play === 'roll');
    expect(bEnds.map((e) => `${e.task}:${e.status}:${e.msg}`)).toEqual(['config:changed:wrote config v2', 'gate:ok:ready after a wait']);
    expect(h.sink.of('host_state').some((e) => e.host === 'b' && e.state === 'waiting' && e.msg?.includes('would change (config)'))).toBe(true);
  });

  it('the hosts that roll keep their serial order and batches', async () => {
    const w = world({ a: 'v1', b: 'v2', c: 'v1' });
    const h = harness(inv);
    await h.run([warmUp, play(w)]);
    expect(w.changes).toEqual(['a:config', 'c:config']);
    // a's gate (its batch) before c's config (the next batch).
    expect(w.ran.indexOf('a:gate:real')).toBeLessThan(w.ran.indexOf('c:config:real'));
    expect(w.ran.filter((r) => r.startsWith('b:'))).toEqual(['b:config:check', 'b:gate:check']);
  });

  it('a state a real run would wait for is not "nothing to change": that host rolls and waits', async () => {
    const w = world({ a: 'v2', b: 'v2', c: 'v2' }, { c: false });
    const h = harness(inv);
    const recap = await h.run([warmUp, play(w)]);
    expect(recap.exitCode).toBe(0);
    expect(w.ran.filter((r) => r.startsWith('c:'))).toEqual(['c:config:check', 'c:gate:check', 'c:config:real', 'c:gate:real']);
    expect(h.sink.ends('c').filter((e) => e.play === 'roll').map((e) => e.msg)).toEqual(['config up to date', 'ready after a wait']);
  });

  it('a failure in the check is real, and any_errors_fatal stops the play before anything rolls', async () => {
    const w = world({ a: 'v1', b: 'v2', c: 'v2' }, { c: false });
    const h = harness(inv);
    const recap = await h.run([warmUp, play(w, {}, 'fail')]);
    expect(recap.exitCode).toBe(2);
    expect(recap.hosts.c).toMatchObject({ failed: 1 });
    // a had something to change, but c was found failing first: nothing was changed.
    expect(w.changes).toEqual([]);
    expect(h.sink.of('log').some((e) => e.level === 'error' && e.msg.includes('any_errors_fatal (c failed)'))).toBe(true);
    expect(h.sink.of('host_state').some((e) => e.host === 'a' && e.state === 'done' && e.msg?.startsWith('not run'))).toBe(true);
  });

  it('what the check registered is there for later plays; a dropped preview leaves nothing', async () => {
    const w = world({ a: 'v2', b: 'v1', c: 'v2' });
    const seen: Record<string, string | undefined> = {};
    const after: Play = {
      name: 'after',
      hosts: 's',
      roles: [defineRole({ name: 'x', vars: z.object({}), tasks: [{ name: 'read', run: async (ctx) => ((seen[ctx.host] = ctx.registered.cfg?.msg), ok()) }] })],
    };
    const h = harness(inv);
    await h.run([warmUp, play(w), after]);
    expect(seen).toEqual({ a: 'config up to date', b: 'wrote config v2', c: 'config up to date' });
  });

  it('off unless set, and not under --check (all of it is a check then): batches as Ansible runs them', async () => {
    for (const o of [{ play: { checkFirst: false }, check: false }, { play: {}, check: true }]) {
      const w = world({ a: 'v2', b: 'v2', c: 'v2' });
      const h = harness(inv);
      await h.run([warmUp, play(w, o.play)], { check: o.check });
      expect(w.peak).toBe(1);
      expect(h.sink.of('log').some((e) => e.msg.includes('checking'))).toBe(false);
    }
  });

  it('hosts not yet connected are not checked first: they connect in their own batch', async () => {
    const w = world({ a: 'v2', b: 'v2', c: 'v2' });
    const h = harness(inv);
    const recap = await h.run([play(w)]);
    expect(recap.exitCode).toBe(0);
    expect(w.ran.every((r) => r.endsWith(':real'))).toBe(true);
    expect(w.peak).toBe(1);
  });

  it('the check pass runs each host at its own pace (a slow host holds no task of the others), its events still per host', async () => {
    // Host a's first task is slow; in lockstep b and c would wait for it before their second.
    const order: string[] = [];
    const slow = defineRole({
      name: 's',
      vars: z.object({}),
      tasks: ['one', 'two'].map((name): Task => ({
        name,
        run: async (ctx) => {
          if (ctx.host === 'a' && name === 'one') await tick(60);
          order.push(`${ctx.host}:${name}`);
          return ok();
        },
      })),
    });
    for (const strategy of ['linear', 'free'] as const) {
      order.length = 0;
      const h = harness(inv);
      const recap = await h.run([warmUp, { name: 'roll', hosts: 's', serial: 1, checkFirst: true, strategy, roles: [slow] }]);
      expect(recap.exitCode).toBe(0);
      expect(order.indexOf('b:two')).toBeLessThan(order.indexOf('a:one'));
      expect(order.indexOf('c:two')).toBeLessThan(order.indexOf('a:one'));
      // Held and flushed host by host: a's events, then b's, then c's.
      const hosts = h.sink.of('task_end').filter((e) => e.play === 'roll').map((e) => e.host);
      expect(hosts).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
    }
  });
});
