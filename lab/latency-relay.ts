// A userspace TCP relay that delays each direction by a set time: latency for the lab, where
// the kernel has no netem (`tc qdisc ... netem` is "qdisc kind is unknown" here). Every chunk
// read on one side is written to the other `oneWayMs` later, in order, so a request/response
// round trip through the relay costs 2 x oneWayMs more, as over a WAN link with that RTT.
// Bandwidth is not limited and chunks are not split: it models latency, not a slow link.
// It also counts round trips as the wire sees them (TurnCounter): the same count for every
// tool, since it sits outside all of them.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface RelayRoute {
  /** Where the relay listens (inside the lab namespace: the bridge address). */
  listenHost: string;
  /** 0: pick a free port. */
  listenPort: number;
  targetHost: string;
  targetPort: number;
}

/** A route with a name (the lab host it leads to), as the relay process takes it on its command line. */
export interface NamedRoute extends RelayRoute {
  name: string;
}

/** `name=listenHost:listenPort:targetHost:targetPort` (IPv4 addresses: the lab's). */
export function formatNamedRoute(r: NamedRoute): string {
  return `${r.name}=${r.listenHost}:${r.listenPort}:${r.targetHost}:${r.targetPort}`;
}

export function parseNamedRoute(s: string): NamedRoute {
  const m = /^([^=\s]+)=(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5}):(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(s);
  if (!m) throw new Error(`bad route "${s}" (want name=listenHost:port:targetHost:port)`);
  return { name: m[1]!, listenHost: m[2]!, listenPort: Number(m[3]), targetHost: m[4]!, targetPort: Number(m[5]) };
}

export interface Relay {
  readonly route: RelayRoute;
  /** The port it listens on (the one picked when listenPort was 0). */
  readonly port: number;
  /** Connections relayed so far. */
  readonly connections: number;
  /** Round trips and bytes over all connections so far (cumulative: diff two readings). */
  stats(): RelayStats;
  /**
   * The last turn's time beyond the relay: from delivering the controller's data to the
   * target until the target's answer reached the relay (the target's own time plus the
   * link behind the relay). A ping-pong through the relay minus this is what the relay added.
   */
  readonly lastInnerMs: number | undefined;
  close(): Promise<void>;
}

export interface RelayStats {
  connections: number;
  /** Direction turns summed over the connections (see TurnCounter). */
  turns: number;
  /** Bytes from the client (controller) and from the target (host). */
  bytesUp: number;
  bytesDown: number;
}

/**
 * Round trips of one connection, as direction turns seen at the relay: the controller sent
 * something, then the host answered = 1. Data from the host that follows more host data (a
 * long output in several chunks), or that arrives before the controller sent anything (sshd's
 * banner), is no new turn; nor is controller data following controller data (a pipelined
 * burst). Over a link with one-way delay d, each turn costs at least 2d of wall time when the
 * controller waits for the answer, which is why it is the figure that decides latency cost.
 * (Concurrent channels on one connection can interleave and count more turns than the
 * controller waited for: the count is an upper bound of waited round trips, the same rule
 * for every tool.)
 */
export class TurnCounter {
  turns = 0;
  bytesUp = 0;
  bytesDown = 0;
  private last: 'up' | 'down' | undefined;
  fromClient(bytes: number): void {
    this.bytesUp += bytes;
    this.last = 'up';
  }
  fromTarget(bytes: number): void {
    this.bytesDown += bytes;
    if (this.last === 'up') this.turns++;
    this.last = 'down';
  }
}

/** Forward `from` to `to`, each chunk `delayMs` after it arrived, ending `to` after the last. */
function delayedPipe(from: Socket, to: Socket, delayMs: number, seen: (bytes: number) => void, delivered: () => void = () => {}): void {
  const queue: Array<{ at: number; chunk: Buffer | null }> = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length && queue[0]!.at <= now + 0.5) {
      const { chunk } = queue.shift()!;
      if (chunk === null) to.end();
      else if (!to.destroyed) {
        to.write(chunk);
        delivered();
      }
    }
    if (queue.length) timer = setTimeout(flush, Math.max(0, queue[0]!.at - performance.now()));
  };
  const push = (chunk: Buffer | null) => {
    if (delayMs <= 0) {
      if (chunk === null) to.end();
      else {
        to.write(chunk);
        delivered();
      }
      return;
    }
    queue.push({ at: performance.now() + delayMs, chunk });
    timer ??= setTimeout(flush, delayMs);
  };
  from.on('data', (c: Buffer) => {
    // Counted on arrival (the order the wire saw), before the delay.
    seen(c.length);
    push(c);
  });
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
  const counters: TurnCounter[] = [];
  let lastInnerMs: number | undefined;
  // Half-open: a side that ended its writing may still receive what is in flight to it.
  const server: Server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    connections++;
    const upstream = connect({ host: route.targetHost, port: route.targetPort, noDelay: true, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    const turns = new TurnCounter();
    counters.push(turns);
    let deliveredAt: number | undefined;
    delayedPipe(
      client,
      upstream,
      oneWayMs,
      (n) => turns.fromClient(n),
      () => (deliveredAt = performance.now()),
    );
    delayedPipe(upstream, client, oneWayMs, (n) => {
      if (deliveredAt !== undefined) lastInnerMs = performance.now() - deliveredAt;
      deliveredAt = undefined;
      turns.fromTarget(n);
    });
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
        get lastInnerMs() {
          return lastInnerMs;
        },
        stats: () => ({
          connections,
          turns: counters.reduce((a, c) => a + c.turns, 0),
          bytesUp: counters.reduce((a, c) => a + c.bytesUp, 0),
          bytesDown: counters.reduce((a, c) => a + c.bytesDown, 0),
        }),
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** The middle sample (the upper one of an even count): the relay's checks all use this. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
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
  return { medianMs: median(samples), samples };
}

/**
 * The round trip through a relay to a real sshd (no echo there): connect, wait for sshd's
 * banner, send ours, time until sshd's next packet (its KEXINIT, which OpenSSH sends only
 * after reading the client's banner). One sample per connection; median of `rounds`
 * connections, made one after another. The connections end before authentication (sshd logs
 * them as closed during preauth).
 */
export async function measureSshRoundTrip(host: string, port: number, rounds = 5, timeoutMs = 10_000): Promise<{ medianMs: number; samples: number[] }> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) samples.push(await sshBannerTurn(host, port, timeoutMs));
  return { medianMs: median(samples), samples };
}

function sshBannerTurn(host: string, port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port, noDelay: true });
    let got = '';
    let sentAt: number | undefined;
    const timer = setTimeout(() => finish(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    let done = false;
    const finish = (e: Error | null, ms?: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (e) reject(e);
      else resolve(ms!);
    };
    sock.on('error', (e) => finish(e));
    // Through a relay, a refused or dropped upstream shows as a close, not an error.
    sock.on('close', () => finish(new Error(`${host}:${port} closed the connection ${sentAt === undefined ? 'before its banner' : 'after our banner'}`)));
    sock.on('data', (c: Buffer) => {
      if (sentAt !== undefined) return finish(null, performance.now() - sentAt);
      got += c.toString('latin1');
      if (!got.includes('\n')) return;
      if (!got.startsWith('SSH-')) return finish(new Error(`${host}:${port} is not an SSH server (it sent ${JSON.stringify(got.slice(0, 40))})`));
      // Anything after the banner line would already be sshd's next packet: not expected
      // before our banner, but then the sample would be wrong, so refuse it.
      if (got.indexOf('\n') !== got.length - 1) return finish(new Error(`${host}:${port} sent data after its banner before ours`));
      sentAt = performance.now();
      sock.write('SSH-2.0-drover-latency-check\r\n');
    });
  });
}
