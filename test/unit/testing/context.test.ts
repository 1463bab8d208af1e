// drover/testing's makeHostCtx: the context a role's task gets, built as the runner builds it.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError } from '../../../lib/errors.ts';
import { changed } from '../../../lib/ops/types.ts';
import { defineRole } from '../../../lib/run/types.ts';
import { FakeTransport, makeHostCtx, taskOf } from '../../../lib/testing/index.ts';

const role = defineRole({
  name: 'web',
  vars: z.object({ web_port: z.number().int().default(8080), web_name: z.string() }),
  tasks: [{ name: 'restart', run: async (c) => (await c.$`systemctl restart ${c.vars.web_name}`, changed()) }],
});

describe('makeHostCtx (drover/testing)', () => {
  it('parses the role vars by its schema, defaults applied; Debian 12 facts; a recording FakeTransport', async () => {
    const { ctx, transport } = makeHostCtx(role, { vars: { web_name: 'my web' } });
    expect(ctx.host).toBe('node1');
    expect(ctx.vars).toEqual({ web_port: 8080, web_name: 'my web' });
    expect(ctx.facts.os).toMatchObject({ id: 'debian', version: '12' });
    expect(transport).toBeInstanceOf(FakeTransport);
    expect((await taskOf(role, 'restart').run(ctx)).status).toBe('changed');
    expect(transport.commands).toEqual(["systemctl restart 'my web'"]);
  });

  it('a bad variable throws the runner\'s InputError naming the key', () => {
    expect(() => makeHostCtx(role, { vars: { web_name: 'x', web_port: 'http' } })).toThrow(InputError);
    try {
      makeHostCtx(role, { vars: { web_name: 'x', web_port: 'http' } });
    } catch (e) {
      expect((e as InputError).key).toBe('web_port');
    }
  });

  it('takes an inventory text: the host\'s own vars and groups, and the other hosts', () => {
    const inv = 'all:\n  children:\n    web:\n      hosts:\n        web1: { web_name: one, ansible_host: 10.0.0.1 }\n        web2: { web_name: two, peer_address: 192.168.0.2 }\n';
    const { ctx } = makeHostCtx(role, { inventory: inv, host: 'web2', facts: { container: 'docker' } });
    expect(ctx.vars.web_name).toBe('two');
    expect(ctx.groups).toContain('web');
    expect(ctx.facts.container).toBe('docker');
    expect(ctx.hostsOf('web')).toEqual(['web1', 'web2']);
    expect(ctx.addressOf('web1')).toBe('10.0.0.1');
    expect(ctx.addressOf('web2')).toBe('192.168.0.2');
  });

  it('taskOf names the tasks there are when one is missing', () => {
    expect(() => taskOf(role, 'start')).toThrow('role "web" has no task "start" (tasks: restart)');
  });
});
