// The recap carries each host's network round trips as its transport counted them
// (lib/transport/round-trips.ts): read after the transports are closed, through the
// probe-ahead wrapper, and left out for transports that do not count (local, fakes).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ok } from '../../../lib/ops/types.ts';
import { defineRole } from '../../../lib/run/types.ts';
import type { RoundTrips } from '../../../lib/transport/types.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { harness, makeInventory } from './helpers.ts';

/** A fake that counts one round trip per exec, plus 5 for opening, like the ssh transport. */
class CountingFake extends FakeTransport {
  constructor(name: string) {
    // A read-ahead batch (lib/transport/probe-batch.ts) of probes that all print nothing:
    // each one's end markers, as the host's sh would print them.
    super(name, (cmd) => {
      const nonce = /__DROVER_PROBE_[0-9a-f]+__/.exec(cmd)?.[0];
      if (!nonce) return { code: 0 };
      const n = cmd.split(`printf '\\n%s\\n' '${nonce}' >&2`).length - 1;
      return { stdout: `\n${nonce} 0\n`.repeat(n), stderr: `\n${nonce}\n`.repeat(n), code: 0 };
    });
  }
  roundTrips(): RoundTrips {
    return { total: 5 + this.execs.length, connect: 5 };
  }
}

const role = defineRole({
  name: 'r',
  vars: z.object({}),
  readAhead: true,
  tasks: [
    { name: 'one', run: async (ctx) => (await ctx.transport.exec('true', { probe: true }), ok()) },
    { name: 'two', run: async (ctx) => (await ctx.transport.exec('true', { probe: true }), ok()) },
  ],
});

describe('round trips in the recap', () => {
  it('per host from its transport, with probe-ahead on or off; absent when not counted', async () => {
    const inv = makeInventory({ a: {}, b: { vars: { drover_probe_ahead: false } }, c: {} });
    const h = harness(inv);
    const made = new Map<string, FakeTransport>();
    const recap = await h.run([{ name: 'p', hosts: 'all', roles: [role] }], {
      connect: (host) => {
        const t = host.name === 'c' ? new FakeTransport(host.name) : new CountingFake(host.name);
        made.set(host.name, t);
        return t;
      },
    });
    // a: both probes read ahead in one exec; b (probe-ahead off): one exec each.
    expect(made.get('a')!.execs).toHaveLength(1);
    expect(recap.hosts.a).toMatchObject({ roundTrips: 6, connectRoundTrips: 5 });
    expect(recap.hosts.b).toMatchObject({ roundTrips: 7, connectRoundTrips: 5 });
    expect(recap.hosts.c!.roundTrips).toBeUndefined();
    const ev = h.sink.of('recap')[0]!;
    expect(ev.hosts.a).toMatchObject({ roundTrips: 6, connectRoundTrips: 5 });
  });
});
