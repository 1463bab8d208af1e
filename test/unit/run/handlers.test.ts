import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError } from '../../../lib/errors.ts';
import { changed, failed, ok } from '../../../lib/ops/types.ts';
import { defineRole } from '../../../lib/run/types.ts';
import { harness, makeInventory } from './helpers.ts';

const inv = makeInventory({ a: {}, b: {} });

function roleWith(log: string[], tasks: Array<{ name: string; result: (host: string) => ReturnType<typeof ok>; notify?: string | string[] }>) {
  return defineRole({
    name: 'svc',
    vars: z.object({}),
    tasks: tasks.map((t) => ({ name: t.name, notify: t.notify, run: (ctx) => (log.push(`${ctx.host}:${t.name}`), t.result(ctx.host)) })),
    handlers: [
      { name: 'reload', run: (ctx) => (log.push(`${ctx.host}:H reload`), ok()) },
      { name: 'restart', run: (ctx) => (log.push(`${ctx.host}:H restart`), changed()) },
    ],
  });
}

describe('handlers', () => {
  it('run once per host at the end of the play, in definition order, however often notified', async () => {
    const log: string[] = [];
    const role = roleWith(log, [
      { name: 't1', result: () => changed(), notify: 'restart' },
      { name: 't2', result: () => changed(), notify: ['restart', 'reload'] },
      { name: 't3', result: () => ok() },
    ]);
    const h = harness(inv);
    await h.run([{ name: 'p', hosts: 'all', roles: [role] }]);
    const a = log.filter((l) => l.startsWith('a:'));
    expect(a).toEqual(['a:t1', 'a:t2', 'a:t3', 'a:H reload', 'a:H restart']);
    expect(log.filter((l) => l === 'b:H restart')).toHaveLength(1);
    const hs = h.sink.of('task_end').filter((e) => e.handler);
    expect(hs.map((e) => `${e.host}:${e.task}`).sort()).toEqual(['a:reload', 'a:restart', 'b:reload', 'b:restart']);
    expect(h.sink.of('task_start').filter((e) => e.handler).length).toBe(4);
    const notes = h.sink.of('handler_notify').filter((e) => e.host === 'a');
    expect(notes.map((n) => `${n.handler}<-${n.by}`)).toEqual(['restart<-t1', 'restart<-t2', 'reload<-t2']);
  });

  it('are notified only by a changed result', async () => {
    const log: string[] = [];
    const role = roleWith(log, [{ name: 't1', result: (host) => (host === 'a' ? changed() : ok()), notify: 'restart' }]);
    const h = harness(inv);
    await h.run([{ name: 'p', hosts: 'all', roles: [role] }]);
    expect(log).toContain('a:H restart');
    expect(log).not.toContain('b:H restart');
    expect(h.sink.of('handler_notify').map((e) => e.host)).toEqual(['a']);
  });

  it('still run on a host whose later task failed (force_handlers), and the host is failed', async () => {
    const log: string[] = [];
    const role = roleWith(log, [
      { name: 't1', result: () => changed(), notify: 'restart' },
      { name: 't2', result: (host) => (host === 'a' ? failed('boom') : ok()) },
      { name: 't3', result: () => ok() },
    ]);
    const h = harness(inv);
    const recap = await h.run([{ name: 'p', hosts: 'all', roles: [role] }]);
    expect(log.filter((l) => l.startsWith('a:'))).toEqual(['a:t1', 'a:t2', 'a:H restart']);
    expect(log.filter((l) => l.startsWith('b:'))).toEqual(['b:t1', 'b:t2', 'b:t3', 'b:H restart']);
    expect(recap.hosts.a).toMatchObject({ ok: 3, failed: 1, changed: 2 });
    expect(recap.exitCode).toBe(2);
  });

  it('a failed handler fails the host and ends its remaining handlers', async () => {
    const role = defineRole({
      name: 'svc',
      vars: z.object({}),
      tasks: [{ name: 't', notify: ['h1', 'h2'], run: () => changed() }],
      handlers: [
        { name: 'h1', run: () => failed('reload failed') },
        { name: 'h2', run: () => ok() },
      ],
    });
    const h = harness(makeInventory({ a: {} }));
    const recap = await h.run([{ name: 'p', hosts: 'all', roles: [role] }]);
    expect(h.sink.of('task_end').filter((e) => e.handler).map((e) => `${e.task}=${e.status}`)).toEqual(['h1=failed']);
    expect(recap.exitCode).toBe(2);
  });

  it('a notify naming no handler is an input error before anything runs', async () => {
    const role = defineRole({ name: 'svc', vars: z.object({}), tasks: [{ name: 't', notify: 'nope', run: () => changed() }] });
    const h = harness(inv);
    await expect(h.run([{ name: 'p', hosts: 'all', roles: [role] }])).rejects.toBeInstanceOf(InputError);
    expect(h.connects).toEqual([]);
  });

  it('a notify can reach a handler of another role of the play', async () => {
    const log: string[] = [];
    const a = defineRole({ name: 'a', vars: z.object({}), tasks: [{ name: 't', notify: 'other', run: () => changed() }] });
    const b = defineRole({ name: 'b', vars: z.object({}), tasks: [], handlers: [{ name: 'other', run: (ctx) => (log.push(ctx.host), ok()) }] });
    const h = harness(makeInventory({ x: {} }));
    await h.run([{ name: 'p', hosts: 'all', roles: [a, b] }]);
    expect(log).toEqual(['x']);
  });
});
