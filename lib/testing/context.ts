// A task context for unit tests of a role, as the runner would build it for one host: the
// role's variables parsed by its schema (defaults applied; a bad value throws the runner's
// InputError), facts of a Debian 12 host unless told otherwise, and a FakeTransport that
// records every command and answers as scripted (exit 0 with no output by default).
import type { z } from 'zod';
import type { Facts } from '../facts/types.ts';
import { parseInventoryText } from '../inventory/load.ts';
import type { Inventory } from '../inventory/types.ts';
import type { OpResult } from '../ops/types.ts';
import { makeHostCtx as buildHostCtx } from '../run/context.ts';
import type { HostCtx, Role, Task } from '../run/types.ts';
import { mergeHostVars, parseRoleVars } from '../run/vars.ts';
import type { Transport } from '../transport/types.ts';
import { FakeTransport } from './fake-transport.ts';
import { debianFacts } from './facts.ts';

export interface TestCtxOptions<T extends Transport = FakeTransport> {
  /** The host the task runs on (default: the inventory's first host, or "node1"). */
  host?: string;
  /** An inventory, or its text (YAML or INI, as in a file); default: the one host alone. */
  inventory?: Inventory | string;
  /** Variables on top of the inventory's (as play vars or -e would be). */
  vars?: Record<string, unknown>;
  /** Changes to the Debian 12 facts (testing's debianFacts), e.g. { container: 'docker' }. */
  facts?: Partial<Facts>;
  /** Facts of the other hosts, for ctx.factsOf (default: none gathered). */
  factsOf?: (host: string) => Facts | undefined;
  /** Default: a new FakeTransport for the host. */
  transport?: T;
  check?: boolean;
  diff?: boolean;
  become?: boolean;
  /** Results of earlier tasks (`register`). */
  registered?: Record<string, OpResult>;
}

export interface TestCtx<V, T extends Transport = FakeTransport> {
  ctx: HostCtx<V>;
  /** The transport the context runs commands through (inspect `.commands`, script with `.on()`). */
  transport: T;
  /** What the tasks logged (ctx.log, shown with -v in a real run). */
  logs: string[];
}

/** The context `role`'s tasks would get on one host; see TestCtxOptions for the defaults. */
export function makeHostCtx<S extends z.ZodType, T extends Transport = FakeTransport>(
  role: Pick<Role<S>, 'name' | 'vars'>,
  o: TestCtxOptions<T> = {},
): TestCtx<z.infer<S>, T> {
  const inventory =
    typeof o.inventory === 'string'
      ? parseInventoryText(o.inventory, 'test inventory')
      : (o.inventory ?? parseInventoryText(`${o.host ?? 'node1'}\n`, 'test inventory', 'ini'));
  const host = o.host ?? inventory.hosts.keys().next().value ?? 'node1';
  const invHost = inventory.hosts.get(host);
  if (!invHost) throw new Error(`makeHostCtx: host "${host}" is not in the inventory (${[...inventory.hosts.keys()].join(', ') || 'no hosts'})`);
  const merged = mergeHostVars(invHost, { name: 'test', hosts: host, roles: [] }, o.vars ?? {});
  const vars = parseRoleVars(role as unknown as Role, host, merged) as z.infer<S>;
  const transport = o.transport ?? (new FakeTransport(host) as unknown as T);
  const logs: string[] = [];
  const ctx = buildHostCtx({
    host,
    transport,
    facts: { ...debianFacts, hostname: host, ...o.facts },
    check: o.check ?? false,
    diff: o.diff ?? false,
    become: o.become ?? false,
    vars,
    hostVars: merged.vars,
    inventory,
    groups: invHost.groups,
    registered: o.registered ?? {},
    factsOf: o.factsOf ?? (() => undefined),
    log: (m) => logs.push(m),
  }) as HostCtx<z.infer<S>>;
  return { ctx, transport, logs };
}

/** A role's task by name (an Error listing the names when there is none). */
export function taskOf<V>(role: { name: string; tasks: readonly Task<V>[] }, name: string): Task<V> {
  const t = role.tasks.find((x) => x.name === name);
  if (!t) throw new Error(`role "${role.name}" has no task "${name}" (tasks: ${role.tasks.map((x) => x.name).join(', ')})`);
  return t;
}
