// A userspace TCP relay that delays each direction by a set time: latency for the lab, where
// the kernel has no netem (`tc qdisc ... netem` is "qdisc kind is unknown" here). Every chunk
// read on one side is written to the other `oneWayMs` later, in order, so a request/response
// round trip through the relay costs 2 x oneWayMs more, as over a WAN link with that RTT.
// Bandwidth is not limited and chunks are not split: it models latency, not a slow link.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface RelayRoute {
  /** Where the relay listens (inside the lab namespace: the bridge address). */
  listenHost: string;
  /** 0: pick a free port. */
  listenPort: number;
  targetHost: string;
  targetPort: number;
}

export interface Relay {
  readonly route: RelayRoute;
  /** The port it listens on (the one picked when listenPort was 0). */
  readonly port: number;
  /** Connections relayed so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Forward `from` to `to`, each chunk `delayMs` after it arrived, ending `to` after the last. */
function delayedPipe(from: Socket, to: Socket, delayMs: number): void {
  const queue: Array<{ at: number; chunk: Buffer | null }> = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length && queue[0]!.at <= now + 0.5) {
      const { chunk } = queue.shift()!;
      if (chunk === null) to.end();
      else if (!to.destroyed) to.write(chunk);
    }
    if (queue.length) timer = setTimeout(flush, Math.max(0, queue[0]!.at - performance.now()));
  };
  const push = (chunk: Buffer | null) => {
    if (delayMs <= 0) {
      if (chunk === null) to.end();
      else to.write(chunk);
      return;
    }
    queue.push({ at: performance.now() + delayMs, chunk });
    timer ??= setTimeout(flush, delayMs);
  };
  from.on('data', (c: Buffer) => push(c));
  from.on('end', () => push(null));
  from.on('close', () => {
    // A reset (not a clean end) goes through at once: nothing is left to deliver in order.
    if (from.errored || !from.readableEnded) {
      if (timer) clearTimeout(timer);
      queue.length = 0;
      to.destroy();
    }
  });
}

export function startRelay(route: RelayRoute, oneWayMs: number): Promise<Relay> {
  let connections = 0;
  const sockets = new Set<Socket>();
  // Half-open: a side that ended its writing may still receive what is in flight to it.
  const server: Server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    connections++;
    const upstream = connect({ host: route.targetHost, port: route.targetPort, noDelay: true, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    delayedPipe(client, upstream, oneWayMs);
    delayedPipe(upstream, client, oneWayMs);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(route.listenPort, route.listenHost, () => {
      server.off('error', reject);
      resolve({
        route,
        port: (server.address() as AddressInfo).port,
        get connections() {
          return connections;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Measure the round trip through a relay: a one-byte ping-pong against an echo target,
 * median of `rounds` (the relay's added latency shows as ~2 x oneWayMs).
 */
export async function measureRoundTrip(host: string, port: number, rounds = 20): Promise<{ medianMs: number; samples: number[] }> {
  const sock = connect({ host, port, noDelay: true });
  await new Promise<void>((res, rej) => {
    sock.once('connect', () => res());
    sock.once('error', rej);
  });
  const samples: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      const got = new Promise<void>((res) => sock.once('data', () => res()));
      sock.write('x');
      await got;
      samples.push(performance.now() - t);
    }
  } finally {
    sock.destroy();
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, samples };
}
