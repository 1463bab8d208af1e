// The latency relay as a process, for the bench: it must listen inside the lab namespace
// (the bridge address), which a process enters only at start, so the bench runs
//   ip netns exec lab node --import tsx lab/latency-relay-main.ts --one-way-ms 10 \
//     --route loadbalancer1=10.17.4.1:22200:10.17.4.30:22 --route ...
// It prints one JSON line {"ready":true,"pid":N} when every route listens, then answers one
// JSON line per command read on stdin:
//   stats        -> {"stats":{route name: RelayStats},"cpuMs":N} (cumulative since start)
//   check ROUNDS -> {"check":{route name: {"relayMs","addedMs","directMs"}}}: medians of the SSH
//                   banner ping-pong through each relay, of what the relay added to it (the
//                   ping-pong minus its time beyond the relay), and straight to the target
// It exits when stdin ends (the bench died or is done) or on SIGTERM.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { measureSshRoundTrip, median, parseNamedRoute, startRelay, type NamedRoute, type Relay } from './latency-relay.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'one-way-ms': { type: 'string' }, route: { type: 'string', multiple: true } } });
  const oneWay = Number(values['one-way-ms']);
  if (!Number.isFinite(oneWay) || oneWay < 0) throw new Error('--one-way-ms N (N >= 0) is required');
  const routes = (values.route ?? []).map(parseNamedRoute);
  if (!routes.length) throw new Error('at least one --route is required');
  const relays = new Map<string, { route: NamedRoute; relay: Relay }>();
  for (const r of routes) relays.set(r.name, { route: r, relay: await startRelay(r, oneWay) });
  const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const stop = async () => {
    await Promise.all([...relays.values()].map((r) => r.relay.close()));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  say({ ready: true, pid: process.pid });
  const rl = createInterface({ input: process.stdin });
  rl.on('close', () => void stop());
  // One command at a time, in order.
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    chain = chain.then(async () => {
      const [cmd, arg] = line.trim().split(/\s+/);
      try {
        if (cmd === 'stats') {
          const u = process.cpuUsage();
          say({ stats: Object.fromEntries([...relays].map(([n, r]) => [n, r.relay.stats()])), cpuMs: (u.user + u.system) / 1000 });
        } else if (cmd === 'check') {
          // Per sample: the ping-pong through the relay to the host's sshd, minus the time the
          // exchange spent beyond the relay (sshd's own time: tens of ms on a loaded machine),
          // is what the relay added. Also straight to the host, for reference.
          const rounds = Number(arg ?? 5);
          const out: Record<string, { relayMs: number; addedMs: number; directMs: number; samples: number[] }> = {};
          for (const [n, { route, relay }] of relays) {
            const samples: number[] = [];
            const added: number[] = [];
            for (let i = 0; i < rounds; i++) {
              const t = (await measureSshRoundTrip(route.listenHost, relay.port, 1)).medianMs;
              samples.push(t);
              added.push(t - (relay.lastInnerMs ?? 0));
            }
            const direct = await measureSshRoundTrip(route.targetHost, route.targetPort, rounds);
            out[n] = { relayMs: median(samples), addedMs: median(added), directMs: direct.medianMs, samples };
          }
          say({ check: out });
        } else {
          say({ error: `unknown command "${line.trim()}" (stats, check N)` });
        }
      } catch (e) {
        say({ error: (e as Error).message });
      }
    });
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`latency-relay: ${(e as Error).message}\n`);
  process.exit(1);
});
