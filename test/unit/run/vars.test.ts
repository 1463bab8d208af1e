import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError } from '../../../lib/errors.ts';
import { failed, ok } from '../../../lib/ops/types.ts';
import { serialBatches } from '../../../lib/run/batches.ts';
import { defineRole } from '../../../lib/run/types.ts';
import { REDACTED, clearSecrets, secret } from '../../../lib/secrets/redact.ts';
import { harness, makeInventory } from './helpers.ts';

afterEach(() => clearSecrets());

const haproxy = defineRole({
  name: 'haproxy',
  vars: z.object({ haproxy_port: z.number().int().default(6443), haproxy_mode: z.enum(['tcp', 'http']).default('tcp'), stats_password: secret().optional() }),
  tasks: [],
});

describe('role variables', () => {
  it('precedence: inventory < play vars < -e; defaults applied; unknown keys ignored', async () => {
    const inv = makeInventory({ lb1: { vars: { haproxy_port: 1, haproxy_mode: 'http', other: 'x' } }, lb2: { vars: { haproxy_port: 2 } } });
    const seen: Record<string, unknown> = {};
    const role = defineRole({ ...haproxy, tasks: [{ name: 'look', run: (ctx) => ((seen[ctx.host] = { ...ctx.vars, hv: ctx.hostVars.haproxy_port }), ok()) }] });
    const h = harness(inv);
    await h.run([{ name: 'p', hosts: 'all', vars: { haproxy_port: 10 }, roles: [role] }], { extraVars: { haproxy_mode: 'tcp' } });
    expect(seen.lb1).toEqual({ haproxy_port: 10, haproxy_mode: 'tcp', hv: 10 });
    expect(seen.lb2).toEqual({ haproxy_port: 10, haproxy_mode: 'tcp', hv: 10 });
    const h2 = harness(inv);
    await h2.run([{ name: 'p', hosts: 'all', vars: { haproxy_port: 10 }, roles: [role] }], { extraVars: { haproxy_port: 99 } });
    expect(seen.lb1).toMatchObject({ haproxy_port: 99, haproxy_mode: 'http' });
  });

  it('a bad inventory value is an InputError naming file:line:col and key, raised before connecting', async () => {
    const inv = makeInventory({
      lb1: { vars: { haproxy_port: 1 } },
      lb2: { vars: { haproxy_port: 'eighty' }, origins: { haproxy_port: { file: 'inventory/lab.yaml', line: 12, col: 24 } } },
    });
    const h = harness(inv);
    const err = await h.run([{ name: 'p', hosts: 'all', roles: [haproxy] }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const ie = err as InputError;
    expect(ie.message).toMatch(/^inventory\/lab\.yaml:12:24: key "haproxy_port": role "haproxy" on host "lb2"/);
    expect(ie.key).toBe('haproxy_port');
    expect(ie.exitCode).toBe(65);
    expect(h.connects).toEqual([]);
    expect(h.sink.events).toEqual([]);
  });

  it('a bad -e value points at the -e origin; a later play is validated up front too', async () => {
    const inv = makeInventory({ lb1: {} });
    const ok1 = defineRole({ name: 'first', vars: z.object({}), tasks: [{ name: 't', run: () => ok() }] });
    const h = harness(inv);
    const err = await h
      .run(
        [
          { name: 'one', hosts: 'all', roles: [ok1] },
          { name: 'two', hosts: 'all', roles: [haproxy] },
        ],
        { extraVars: { haproxy_mode: 'udp' }, extraVarOrigins: { haproxy_mode: { file: 'vars.yaml', line: 3, col: 15 } } },
      )
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^vars\.yaml:3:15: key "haproxy_mode"/);
    expect(h.connects).toEqual([]);
  });

  it('a missing required variable says where it could have been set', async () => {
    const role = defineRole({ name: 'k3s', vars: z.object({ k3s_token: z.string() }), tasks: [] });
    const err = await harness(makeInventory({ m1: {} }))
      .run([{ name: 'p', hosts: 'all', roles: [role] }])
      .catch((e: unknown) => e);
    expect((err as InputError).key).toBe('k3s_token');
    expect((err as Error).message).toMatch(/not set in inventory, play vars or -e/);
  });

  it('a secret() variable is redacted from every event', async () => {
    const inv = makeInventory({ lb1: { vars: { stats_password: 'hunter2-very-secret' } } });
    const role = defineRole({
      ...haproxy,
      tasks: [
        { name: 'echo', run: (ctx) => (ctx.log(`pw is ${ctx.vars.stats_password}`), ok(`set ${ctx.vars.stats_password}`, { stdout: `x ${ctx.vars.stats_password}` })) },
        { name: 'boom', run: (ctx) => Promise.reject(new Error(`auth ${ctx.vars.stats_password} refused`)) },
      ],
      handlers: [{ name: 'never', run: () => failed('x') }],
    });
    const h = harness(inv);
    await h.run([{ name: 'p', hosts: 'all', roles: [role] }]);
    const text = JSON.stringify(h.sink.events);
    expect(text).not.toContain('hunter2-very-secret');
    expect(text).toContain(REDACTED);
    expect(h.sink.ends('lb1').map((e) => e.msg)).toEqual([`set ${REDACTED}`, `auth ${REDACTED} refused`]);
  });
});

describe('serial batches', () => {
  const hs = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
  it('count, percentage (floor, at least 1), ramp list with the last entry repeating', () => {
    expect(serialBatches(hs, undefined)).toEqual([hs]);
    expect(serialBatches(hs, 4).map((b) => b.length)).toEqual([4, 4, 2]);
    expect(serialBatches(hs, '30%').map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(serialBatches(hs, '5%').map((b) => b.length)).toEqual(Array(10).fill(1));
    expect(serialBatches(hs, [1, '50%']).map((b) => b.length)).toEqual([1, 5, 4]);
    expect(serialBatches(hs, [1, 2, 3]).map((b) => b.length)).toEqual([1, 2, 3, 3, 1]);
    expect(serialBatches(hs, 0)).toEqual([hs]);
    expect(() => serialBatches(hs, 'lots')).toThrow(InputError);
  });
});

describe('connection variables', () => {
  it('-e overrides inventory connection vars for the host being connected', async () => {
    const inv = makeInventory({ n1: { vars: { ansible_user: 'debian' } } });
    const { runPlays } = await import('../../../lib/run/runner.ts');
    const { fakeSelect, fakeFacts } = await import('./helpers.ts');
    const { FakeTransport } = await import('../../support/fake-transport.ts');
    const seen: unknown[] = [];
    await runPlays([{ name: 'p', hosts: 'all', roles: [] }], {
      inventory: inv,
      sink: { emit: () => {} },
      extraVars: { ansible_user: 'root' },
      selectHosts: fakeSelect,
      connect: (h) => (seen.push(h.vars.ansible_user), new FakeTransport(h.name)),
      gatherFacts: async (t) => fakeFacts(t.name),
    });
    expect(seen).toEqual(['root']);
  });
});
