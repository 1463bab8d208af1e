// Shared fakes for runner tests: a small inventory builder, a host-pattern resolver
// (names, groups, 'all', ':' unions, '!' exclusions, '&' intersections), fake facts and
// an event recorder. No ssh2, no inventory/transport/facts modules are loaded.
import type { SourcePos } from '../../../lib/errors.ts';
import type { Facts } from '../../../lib/facts/types.ts';
import type { Inventory, InventoryHost } from '../../../lib/inventory/types.ts';
import type { DroverEvent, EventOf, EventSink } from '../../../lib/report/events.ts';
import { runPlays } from '../../../lib/run/runner.ts';
import type { Recap, RunOptions } from '../../../lib/run/options.ts';
import type { Play } from '../../../lib/run/types.ts';
import { FakeTransport } from '../../support/fake-transport.ts';

export interface HostSpec {
  vars?: Record<string, unknown>;
  origins?: Record<string, SourcePos>;
  groups?: string[];
}

export function makeInventory(hosts: Record<string, HostSpec>): Inventory {
  const map = new Map<string, InventoryHost>();
  const groups = new Map<string, { name: string; hosts: string[]; children: string[]; vars: Record<string, unknown> }>();
  for (const [name, spec] of Object.entries(hosts)) {
    const g = [...new Set(['all', ...(spec.groups ?? [])])].sort();
    map.set(name, { name, vars: spec.vars ?? {}, origins: spec.origins ?? {}, groups: g });
    for (const gn of g) {
      if (!groups.has(gn)) groups.set(gn, { name: gn, hosts: [], children: [], vars: {} });
      groups.get(gn)!.hosts.push(name);
    }
  }
  return { sources: ['test'], hosts: map, groups };
}

export function fakeSelect(inv: Inventory, pattern: string): { hosts: string[]; warnings: string[] } {
  const all = [...inv.hosts.keys()];
  const one = (p: string): string[] => (p === 'all' ? all : inv.groups.has(p) ? inv.groups.get(p)!.hosts : inv.hosts.has(p) ? [p] : []);
  let sel = new Set<string>();
  const warnings: string[] = [];
  for (const part of pattern.split(/[:,]/).filter(Boolean)) {
    if (part.startsWith('!')) for (const h of one(part.slice(1))) sel.delete(h);
    else if (part.startsWith('&')) {
      const keep = new Set(one(part.slice(1)));
      sel = new Set([...sel].filter((h) => keep.has(h)));
    } else {
      const hs = one(part);
      if (!hs.length) warnings.push(`pattern "${part}" matched no hosts`);
      for (const h of hs) sel.add(h);
    }
  }
  return { hosts: all.filter((h) => sel.has(h)), warnings };
}

export function fakeFacts(name: string, over: Partial<Facts> = {}): Facts {
  return {
    hostname: name,
    os: { id: 'debian', family: 'debian', version: '12', versionMajor: 12, codename: 'bookworm' },
    kernel: '6.1.0',
    arch: 'x86_64',
    init: 'systemd',
    pkgManager: 'apt',
    container: null,
    vm: null,
    python: null,
    interfaces: [],
    defaultIpv4: '10.0.0.1',
    memTotalMb: 2048,
    cpus: 2,
    uid: 0,
    selinux: 'absent',
    ...over,
  };
}

export class Recorder implements EventSink {
  readonly events: DroverEvent[] = [];
  closed = false;
  emit(e: DroverEvent): void {
    this.events.push(e);
  }
  close(): void {
    this.closed = true;
  }
  of<T extends DroverEvent['type']>(type: T): EventOf<T>[] {
    return this.events.filter((e): e is EventOf<T> => e.type === type);
  }
  /** "host:task" for every task_start, in order. */
  starts(filter: (e: EventOf<'task_start'>) => boolean = (e) => e.task !== 'Gathering Facts'): string[] {
    return this.of('task_start').filter(filter).map((e) => `${e.host}:${e.task}`);
  }
  ends(host?: string): EventOf<'task_end'>[] {
    return this.of('task_end').filter((e) => e.task !== 'Gathering Facts' && (!host || e.host === host));
  }
}

export const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Harness {
  sink: Recorder;
  transports: Map<string, FakeTransport>;
  connects: string[];
  gathers: string[];
  run(plays: Play[], extra?: Partial<RunOptions>): Promise<Recap>;
}

/** A runner wired to fakes; `unreachable` hosts fail to connect. */
export function harness(inv: Inventory, opts: { unreachable?: string[] } = {}): Harness {
  const sink = new Recorder();
  const transports = new Map<string, FakeTransport>();
  const connects: string[] = [];
  const gathers: string[] = [];
  return {
    sink,
    transports,
    connects,
    gathers,
    run: (plays, extra = {}) =>
      runPlays(plays, {
        inventory: inv,
        sink,
        selectHosts: fakeSelect,
        connect: (host) => {
          connects.push(host.name);
          if (opts.unreachable?.includes(host.name)) throw new Error(`connect ECONNREFUSED ${host.name}:22`);
          const t = new FakeTransport(host.name);
          transports.set(host.name, t);
          return t;
        },
        gatherFacts: async (t) => {
          gathers.push(t.name);
          return fakeFacts(t.name);
        },
        ...extra,
      }),
  };
}
