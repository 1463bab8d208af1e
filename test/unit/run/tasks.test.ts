import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { changed, failed, ok, type OpResult } from '../../../lib/ops/types.ts';
import { shouldRunTags } from '../../../lib/run/tags.ts';
import { defineRole, type Task } from '../../../lib/run/types.ts';
import { harness, makeInventory } from './helpers.ts';

const inv = makeInventory({ a: { vars: { who: 'A' } }, b: { vars: { who: 'B' } }, c: { vars: { who: 'C' } }, db1: { vars: { who: 'DB' }, groups: ['db'] } });
const web = 'all:!db';

function role(tasks: Task[], tags?: string[]) {
  return defineRole({ name: 'r', vars: z.object({ who: z.string().default('?') }), tasks, tags });
}

describe('task features', () => {
  it('run_once: runs on the first host of the batch, reported and registered for every host', async () => {
    const ran: string[] = [];
    const seen: string[] = [];
    const h = harness(inv);
    await h.run([
      {
        name: 'p',
        hosts: web,
        roles: [
          role([
            { name: 'once', runOnce: true, register: 'token', run: (ctx) => (ran.push(ctx.host), changed('minted', { data: { token: 'tkn' } })) },
            { name: 'use', run: (ctx) => (seen.push(`${ctx.host}=${String(ctx.registered.token?.data?.token)}`), ok()) },
          ]),
        ],
      },
    ]);
    expect(ran).toEqual(['a']);
    expect(seen.sort()).toEqual(['a=tkn', 'b=tkn', 'c=tkn']);
    const ends = h.sink.ends().filter((e) => e.task === 'once');
    expect(ends.map((e) => `${e.host}:${e.status}`).sort()).toEqual(['a:changed', 'b:changed', 'c:changed']);
    expect(ends.find((e) => e.host === 'b')!.msg).toBe('run_once on a: minted');
    expect(Object.values(h.sink.of('recap')[0]!.hosts).map((x) => x.changed)).toEqual([1, 1, 1]);
  });

  it('run_once in free strategy still runs once', async () => {
    const ran: string[] = [];
    const h = harness(inv);
    await h.run([{ name: 'p', hosts: web, strategy: 'free', roles: [role([{ name: 'once', runOnce: true, run: (ctx) => (ran.push(ctx.host), ok()) }])] }]);
    expect(ran).toHaveLength(1);
    expect(h.sink.ends().filter((e) => e.task === 'once')).toHaveLength(3);
  });

  it("delegateTo: runs with the delegate's transport and facts but this host's vars", async () => {
    const calls: string[] = [];
    const h = harness(inv);
    await h.run([
      {
        name: 'p',
        hosts: 'a',
        roles: [
          role([
            {
              name: 'register on db',
              delegateTo: (ctx) => (ctx.vars.who === 'A' ? 'db1' : 'nowhere'),
              run: async (ctx) => {
                await ctx.transport.exec(`add-member ${ctx.vars.who}`);
                calls.push(`${ctx.host}|${ctx.transport.name}|${ctx.facts.hostname}|${ctx.vars.who}`);
                return changed();
              },
            },
          ]),
        ],
      },
    ]);
    expect(calls).toEqual(['a|db1|db1|A']);
    expect(h.transports.get('db1')!.commands).toEqual(['add-member A']);
    expect(h.transports.get('a')!.commands).toEqual([]);
    const end = h.sink.ends('a')[0]!;
    expect(end.delegatedTo).toBe('db1');
    expect(end.status).toBe('changed');
  });

  it('delegateTo a host missing from the inventory fails the task', async () => {
    const h = harness(inv);
    const recap = await h.run([{ name: 'p', hosts: 'a', roles: [role([{ name: 'x', delegateTo: 'ghost', run: () => ok() }])] }]);
    expect(h.sink.ends('a')[0]!.msg).toMatch(/ghost.*not in the inventory/);
    expect(recap.exitCode).toBe(2);
  });

  it('retries/until: re-runs until the condition holds, reporting attempts', async () => {
    let n = 0;
    const h = harness(inv);
    const recap = await h.run([
      {
        name: 'p',
        hosts: 'a',
        roles: [role([{ name: 'wait ready', retries: 5, delayMs: 1, until: (r) => r.data?.ready === true, run: () => ok('probe', { data: { ready: ++n >= 3 } }) }])],
      },
    ]);
    expect(n).toBe(3);
    const end = h.sink.ends('a')[0]!;
    expect(end).toMatchObject({ status: 'ok', attempts: 3 });
    expect(recap.exitCode).toBe(0);
    expect(h.sink.of('log').filter((l) => /retrying/.test(l.msg))).toHaveLength(2);
  });

  it('retries without until re-run failures; exhausted retries fail the task', async () => {
    let n = 0;
    const h = harness(inv);
    const recap = await h.run([
      {
        name: 'p',
        hosts: 'a',
        roles: [
          role([
            { name: 'flaky', retries: 2, run: () => (++n < 2 ? failed('not yet') : ok()) },
            { name: 'never', retries: 1, until: () => false, run: () => ok('still no') },
          ]),
        ],
      },
    ]);
    const [flaky, never] = h.sink.ends('a');
    expect(flaky).toMatchObject({ status: 'ok', attempts: 2 });
    expect(never).toMatchObject({ status: 'failed', attempts: 2 });
    expect(never!.msg).toMatch(/still no.*until condition not met after 2 attempts/);
    expect(recap.exitCode).toBe(2);
  });

  it('when: false is skipped "conditional false", a string is the skip reason', async () => {
    const h = harness(inv);
    const recap = await h.run([
      {
        name: 'p',
        hosts: web,
        roles: [
          role([
            { name: 'only A', when: (ctx) => ctx.vars.who === 'A', run: () => changed() },
            { name: 'reasoned', when: (ctx) => (ctx.host === 'b' ? 'not on b' : true), run: () => ok() },
          ]),
        ],
      },
    ]);
    const b = h.sink.ends('b');
    expect(b.map((e) => [e.task, e.status, e.msg])).toEqual([
      ['only A', 'skipped', 'conditional false'],
      ['reasoned', 'skipped', 'not on b'],
    ]);
    expect(recap.hosts.a).toMatchObject({ changed: 1, ok: 3, skipped: 0 }); // facts, reasoned, and the changed one (Ansible counts changed as ok too)
    expect(recap.hosts.b).toMatchObject({ skipped: 2 });
  });

  it('a task whose run() throws is failed with the error message; ignoreErrors lets the host go on', async () => {
    const h = harness(inv);
    const recap = await h.run([
      {
        name: 'p',
        hosts: 'a',
        roles: [
          role([
            { name: 'soft', ignoreErrors: true, run: () => failed('meh') },
            { name: 'hard', run: () => Promise.reject(new Error('kaboom')) },
            { name: 'after', run: () => ok() },
          ]),
        ],
      },
    ]);
    const ends = h.sink.ends('a');
    expect(ends.map((e) => [e.task, e.status, e.msg])).toEqual([
      ['soft', 'failed', 'ignored: meh'],
      ['hard', 'failed', 'kaboom'],
    ]);
    // The ignored failure counts as ok (as Ansible); facts + soft.
    expect(recap.hosts.a).toMatchObject({ ok: 2, failed: 1 });
  });

  it('a task returning nothing is failed with a helpful message', async () => {
    const h = harness(inv);
    await h.run([{ name: 'p', hosts: 'a', roles: [role([{ name: 'bad', run: () => undefined as unknown as OpResult }])] }]);
    expect(h.sink.ends('a')[0]!.msg).toMatch(/returned no result/);
  });

  it('check and diff reach the task context; become is dropped when connected as root', async () => {
    const seen: unknown[] = [];
    const h = harness(inv);
    await h.run([{ name: 'p', hosts: 'a', become: true, roles: [role([{ name: 't', run: (ctx) => (seen.push(ctx.check, ctx.diff, ctx.become), ok()) }])] }], { check: true, diff: true });
    expect(seen).toEqual([true, true, false]);
    expect(h.sink.of('run_start')[0]).toMatchObject({ check: true, diff: true });
  });

  it('tags, skip-tags, always and never select tasks (role tags included)', async () => {
    const ran: string[] = [];
    const t = (name: string, tags?: string[]): Task => ({ name, tags, run: () => (ran.push(name), ok()) });
    const tasks = [t('plain'), t('cfg', ['config']), t('pkg', ['packages']), t('alw', ['always']), t('nev', ['never', 'debug'])];
    const cases: Array<[{ tags?: string[]; skipTags?: string[] }, string[]]> = [
      [{}, ['plain', 'cfg', 'pkg', 'alw']],
      [{ tags: ['config'] }, ['cfg', 'alw']],
      [{ skipTags: ['config'] }, ['plain', 'pkg', 'alw']],
      [{ tags: ['config'], skipTags: ['always'] }, ['cfg']],
      [{ tags: ['debug'] }, ['alw', 'nev']],
      [{ tags: ['never'] }, ['alw', 'nev']],
      [{ tags: ['tagged'] }, ['cfg', 'pkg', 'alw']],
      [{ tags: ['untagged'] }, ['plain', 'alw']],
    ];
    for (const [filter, expected] of cases) {
      ran.length = 0;
      const h = harness(inv);
      await h.run([{ name: 'p', hosts: 'a', roles: [role(tasks)] }], filter);
      expect(ran, JSON.stringify(filter)).toEqual(expected);
    }
    // Role tags apply to every task of the role.
    ran.length = 0;
    const h = harness(inv);
    await h.run([{ name: 'p', hosts: 'a', roles: [role([t('x'), t('y')], ['lb'])] }], { tags: ['lb'] });
    expect(ran).toEqual(['x', 'y']);
  });

  it('shouldRunTags follows Ansible for skip-tags all / always', () => {
    expect(shouldRunTags(['always'], { skipTags: ['all'] })).toBe(true);
    expect(shouldRunTags(['x'], { skipTags: ['all'] })).toBe(false);
    expect(shouldRunTags(['always', 'x'], { skipTags: ['x'] })).toBe(false);
    expect(shouldRunTags([], { tags: ['all'] })).toBe(true);
    expect(shouldRunTags(['never'], { tags: ['all'] })).toBe(false);
  });

  it('--limit intersects with the play pattern', async () => {
    const h = harness(inv);
    await h.run([{ name: 'p', hosts: web, roles: [role([{ name: 't', run: () => ok() }])] }], { limit: 'b:db1' });
    expect(h.sink.of('play_start')[0]!.hosts).toEqual(['b']);
    expect(h.connects).toEqual(['b']);
    await expect(harness(inv).run([{ name: 'p', hosts: 'all', roles: [] }], { limit: 'zzz' })).rejects.toThrow(/matches no host/);
  });
});
