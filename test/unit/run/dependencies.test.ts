// Role dependencies and the inventory helpers on the task context, through the real runner.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ok } from '../../../lib/ops/types.ts';
import { expandDependencies } from '../../../lib/run/dependencies.ts';
import { defineRole, type Role } from '../../../lib/run/types.ts';
import { harness, makeInventory } from './helpers.ts';

function recordingRole(name: string, ran: string[], dependencies?: Role[]): Role {
  return defineRole({ name, vars: z.object({}), dependencies, tasks: [{ name: `${name} task`, run: (ctx) => (ran.push(`${name}@${ctx.host}`), ok()) }] });
}

describe('role dependencies', () => {
  it('puts dependencies first, depth-first, each role once, and refuses cycles', () => {
    const a = recordingRole('a', []);
    const b = recordingRole('b', [], [a]);
    const c = recordingRole('c', [], [b, a]);
    expect(expandDependencies([c]).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(expandDependencies([a, c]).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    const x = defineRole({ name: 'x', vars: z.object({}), tasks: [] }) as Role;
    const y = defineRole({ name: 'y', vars: z.object({}), tasks: [], dependencies: [x] }) as Role;
    x.dependencies = [y];
    expect(() => expandDependencies([x])).toThrow(/cycle: x -> y -> x/);
  });

  it('runs a dependency before the role on the play hosts, and not again when an earlier play covered them', async () => {
    const inv = makeInventory({ m1: { groups: ['k3s'] }, m2: { groups: ['k3s'] }, lb: {} });
    const ran: string[] = [];
    const base = recordingRole('base', ran);
    const prereqs = recordingRole('prereqs', ran, [base]);
    const h = harness(inv);
    // Alone: base runs first on the k3s hosts.
    await h.run([{ name: 'k3s', hosts: 'k3s', roles: [prereqs] }]);
    expect(ran).toEqual(['base@m1', 'base@m2', 'prereqs@m1', 'prereqs@m2']);
    // After a play that applied base to all hosts: not again.
    ran.length = 0;
    await h.run([
      { name: 'base', hosts: 'all', roles: [base] },
      { name: 'k3s', hosts: 'k3s', roles: [prereqs] },
    ]);
    expect(ran).toEqual(['base@m1', 'base@m2', 'base@lb', 'prereqs@m1', 'prereqs@m2']);
    // An earlier play that covered only some of the hosts does not satisfy it.
    ran.length = 0;
    await h.run([
      { name: 'base', hosts: 'm1', roles: [base] },
      { name: 'k3s', hosts: 'k3s', roles: [prereqs] },
    ]);
    expect(ran).toEqual(['base@m1', 'base@m1', 'base@m2', 'prereqs@m1', 'prereqs@m2']);
  });
});

describe('inventory helpers on the task context', () => {
  it('hostsOf, varsOf (play vars and -e applied) and addressOf (peer address override)', async () => {
    const inv = makeInventory({
      lb1: { vars: { ansible_host: '192.0.2.10', prio: 150 }, groups: ['lb'] },
      lb2: { vars: { ansible_host: '198.51.100.7', drover_peer_address: '10.0.0.12', prio: 100 }, groups: ['lb'] },
      other: {},
    });
    const seen: Record<string, unknown> = {};
    const role = defineRole({
      name: 'peek',
      vars: z.object({}),
      tasks: [
        {
          name: 'look',
          run: (ctx) => {
            seen[ctx.host] = {
              group: ctx.hostsOf('lb'),
              unknown: ctx.hostsOf('nope'),
              peers: ctx.hostsOf('lb').map((h) => [ctx.addressOf(h), ctx.varsOf(h).prio, ctx.varsOf(h).color]),
              outside: ctx.varsOf('other').color,
              self: ctx.addressOf('other'),
            };
            return ok();
          },
        },
      ],
    });
    await harness(inv).run([{ name: 'p', hosts: 'lb', roles: [role], vars: { color: 'blue' } }], { extraVars: { prio: 7 } });
    expect(seen.lb1).toEqual({
      group: ['lb1', 'lb2'],
      unknown: [],
      // -e beats the inventory for every host; play vars reach a peer's and an outside host's view.
      peers: [
        ['192.0.2.10', 7, 'blue'],
        ['10.0.0.12', 7, 'blue'],
      ],
      outside: 'blue',
      self: 'other',
    });
  });
});
