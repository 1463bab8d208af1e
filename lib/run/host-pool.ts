// One transport per host for the whole run (reused across plays, closed at the end) and
// facts gathered at most once per host. A host that cannot be reached stays unreachable.
import { UnreachableError } from '../errors.ts';
import { missingFacts } from '../facts/missing.ts';
import type { Facts } from '../facts/types.ts';
import type { Inventory, InventoryHost } from '../inventory/types.ts';
import type { Transport } from '../transport/types.ts';
import type { ConnectHost, GatherFacts } from './options.ts';
import { truthy } from './context.ts';
import { ProbeAheadTransport } from './probe-ahead.ts';

/** Probe-ahead (lib/run/probe-ahead.ts): the host's drover_probe_ahead, else DROVER_PROBE_AHEAD, else on. */
export function wantsProbeAhead(h: InventoryHost, env: NodeJS.ProcessEnv = process.env): boolean {
  return truthy(h.vars.drover_probe_ahead) ?? truthy(env.DROVER_PROBE_AHEAD) ?? true;
}

/** Ansible's implicit localhost: delegate_to: localhost works without an inventory entry. */
export function implicitLocalhost(): InventoryHost {
  return { name: 'localhost', vars: { ansible_connection: 'local' }, origins: {}, groups: ['all'] };
}

export function lookupHost(inv: Inventory, name: string): InventoryHost | undefined {
  return inv.hosts.get(name) ?? (name === 'localhost' || name === '127.0.0.1' ? implicitLocalhost() : undefined);
}

/**
 * Stand-in facts when a play sets gatherFacts: false and none were gathered earlier: reading
 * any fact but the host name fails with FactsNotGathered (lib/facts/missing.ts), never a guess.
 */
export function unknownFacts(host: string): Facts {
  return missingFacts(host);
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class HostPool {
  private readonly transports = new Map<string, Promise<Transport>>();
  private readonly facts = new Map<string, Facts>();
  private readonly gathering = new Map<string, Promise<Facts>>();

  private connectFn?: Promise<ConnectHost>;
  private gatherFn?: Promise<GatherFacts>;

  constructor(
    private readonly inventory: Inventory,
    private readonly loadConnect: () => Promise<ConnectHost>,
    private readonly loadGather: () => Promise<GatherFacts>,
    /** Adjusts the host before connecting (the runner layers -e vars on top). */
    private readonly prepareHost: (h: InventoryHost) => InventoryHost = (h) => h,
  ) {}

  private connectHost(): Promise<ConnectHost> {
    return (this.connectFn ??= this.loadConnect());
  }

  private gather(): Promise<GatherFacts> {
    return (this.gatherFn ??= this.loadGather());
  }

  /** Load the (lazily imported) connect and facts modules before timing anything. */
  async preload(): Promise<void> {
    await Promise.all([this.connectHost(), this.gather()]);
  }

  isOpen(host: string): boolean {
    return this.transports.has(host);
  }

  /** Connect (once); rejects with UnreachableError, remembered for later calls. */
  transport(host: string): Promise<Transport> {
    let p = this.transports.get(host);
    if (!p) {
      p = this.open(host);
      this.transports.set(host, p);
    }
    return p;
  }

  private async open(host: string): Promise<Transport> {
    const inv = lookupHost(this.inventory, host);
    if (!inv) throw new UnreachableError(host, 'not in the inventory');
    try {
      const prepared = this.prepareHost(inv);
      const t = await (await this.connectHost())(prepared);
      await t.connect();
      // Every user of the host shares this one wrapper, so any change drops what was read ahead.
      return wantsProbeAhead(prepared) ? new ProbeAheadTransport(t) : t;
    } catch (e) {
      if (e instanceof UnreachableError) throw e;
      throw new UnreachableError(host, errMsg(e), { cause: e });
    }
  }

  hasFacts(host: string): boolean {
    return this.facts.has(host);
  }

  factsOf(host: string): Facts | undefined {
    return this.facts.get(host);
  }

  /** Gathered facts, or stand-ins when not gathered (gatherFacts: false). */
  factsOrUnknown(host: string): Facts {
    return this.facts.get(host) ?? unknownFacts(host);
  }

  /** Gather once per host; concurrent callers share the probe. */
  gatherFacts(host: string, t: Transport): Promise<Facts> {
    const have = this.facts.get(host);
    if (have) return Promise.resolve(have);
    let p = this.gathering.get(host);
    if (!p) {
      p = (async () => {
        try {
          const f = await (await this.gather())(t);
          this.facts.set(host, f);
          return f;
        } finally {
          this.gathering.delete(host);
        }
      })();
      this.gathering.set(host, p);
    }
    return p;
  }

  /** The transports that connected (for their end-of-run figures). */
  async connected(): Promise<Array<[string, Transport]>> {
    const out: Array<[string, Transport]> = [];
    for (const [name, p] of this.transports) {
      try {
        out.push([name, await p]);
      } catch {
        /* never connected */
      }
    }
    return out;
  }

  async closeAll(): Promise<void> {
    const all = [...this.transports.values()];
    this.transports.clear();
    await Promise.allSettled(all.map(async (p) => (await p).close()));
  }
}
