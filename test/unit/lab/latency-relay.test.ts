// The latency relay on loopback: the round trip through it grows by 2 x the one-way delay,
// bytes arrive intact and in order, a clean end and a reset both reach the other side.
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TurnCounter, formatNamedRoute, measureRoundTrip, measureSshRoundTrip, parseNamedRoute, startRelay } from '../../../lab/latency-relay.ts';

let echo: Server;
let echoPort: number;

beforeAll(async () => {
  echo = createServer({ noDelay: true }, (s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => echo.close(() => r())));

describe('latency relay', () => {
  it('adds two one-way delays to each round trip', async () => {
    const relay = await startRelay({ listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: echoPort }, 25);
    try {
      const through = await measureRoundTrip('127.0.0.1', relay.port, 10);
      // Timers never fire early, so every round trip takes at least the 2 x 25 ms asked for
      // (how much more depends on the machine's load: bench/ reports the measured figure).
      expect(Math.min(...through.samples)).toBeGreaterThanOrEqual(49.5);
      expect(relay.connections).toBe(1);
    } finally {
      await relay.close();
    }
  });

  it('delivers a large stream intact and in order, then the end', async () => {
    const relay = await startRelay({ listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: echoPort }, 5);
    try {
      const payload = Buffer.alloc(2_000_000);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) % 251;
      const sock = connect({ host: '127.0.0.1', port: relay.port });
      const chunks: Buffer[] = [];
      const ended = new Promise<void>((r) => sock.on('end', () => r()));
      sock.on('data', (c: Buffer) => chunks.push(c));
      for (let off = 0; off < payload.length; off += 65536) sock.write(payload.subarray(off, off + 65536));
      sock.end();
      await ended;
      expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    } finally {
      await relay.close();
    }
  });

  it('passes a reset through at once', async () => {
    const relay = await startRelay({ listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: echoPort }, 200);
    try {
      const sock = connect({ host: '127.0.0.1', port: relay.port });
      await new Promise<void>((r) => sock.once('connect', () => r()));
      await new Promise((r) => setTimeout(r, 20));
      const closed = new Promise<void>((r) => sock.on('close', () => r()));
      // Closing the relay destroys both sides: the client sees its socket close.
      await relay.close();
      await closed;
      expect(sock.destroyed).toBe(true);
    } finally {
      await relay.close().catch(() => {});
    }
  });
});

describe('round trips counted by the relay', () => {
  it('counts a turn when the host answers what the controller sent, not bursts or the banner', () => {
    const t = new TurnCounter();
    t.fromTarget(20); // sshd's banner before the client said anything: no turn
    expect(t.turns).toBe(0);
    t.fromClient(10);
    t.fromClient(10); // a pipelined burst: still one request
    t.fromTarget(5);
    t.fromTarget(5); // a long answer in two chunks: one turn
    expect(t.turns).toBe(1);
    t.fromClient(1);
    t.fromTarget(1);
    expect(t.turns).toBe(2);
    expect(t.bytesUp).toBe(21);
    expect(t.bytesDown).toBe(31);
  });

  it('counts one turn per ping-pong through a live relay', async () => {
    const relay = await startRelay({ listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: echoPort }, 0);
    try {
      await measureRoundTrip('127.0.0.1', relay.port, 7);
      // The echo answers each byte before the next is sent.
      await new Promise((r) => setTimeout(r, 20));
      expect(relay.stats()).toMatchObject({ connections: 1, turns: 7, bytesUp: 7, bytesDown: 7 });
    } finally {
      await relay.close();
    }
  });

  it('measures the SSH banner ping-pong through a relay to a server that answers after our banner', async () => {
    // A stand-in sshd: its banner on connect, its next packet only after the client's banner.
    const sshd = createServer({ noDelay: true }, (s) => {
      s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
      s.once('data', () => s.write(Buffer.alloc(64, 1)));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => sshd.listen(0, '127.0.0.1', r));
    const port = (sshd.address() as AddressInfo).port;
    const relay = await startRelay({ listenHost: '127.0.0.1', listenPort: 0, targetHost: '127.0.0.1', targetPort: port }, 15);
    try {
      const r = await measureSshRoundTrip('127.0.0.1', relay.port, 3);
      expect(r.samples).toHaveLength(3);
      expect(Math.min(...r.samples)).toBeGreaterThanOrEqual(29.5);
      await new Promise((res) => setTimeout(res, 50));
      // Per connection: banner (no turn), our banner, its packet = 1 turn.
      expect(relay.stats()).toMatchObject({ connections: 3, turns: 3 });
      // The time beyond the relay (the stand-in answers at once) is far below the 30 ms added.
      expect(relay.lastInnerMs).toBeGreaterThanOrEqual(0);
      expect(relay.lastInnerMs!).toBeLessThan(Math.min(...r.samples) - 25);
    } finally {
      await relay.close();
      await new Promise<void>((r) => sshd.close(() => r()));
    }
  });

  it('refuses a target that is not an SSH server', async () => {
    await expect(measureSshRoundTrip('127.0.0.1', echoPort, 1, 300)).rejects.toThrow(/no answer|not an SSH server/);
  });

  it('formats and parses a named route', () => {
    const r = { name: 'lb1', listenHost: '10.17.4.1', listenPort: 22200, targetHost: '10.17.4.30', targetPort: 22 };
    expect(formatNamedRoute(r)).toBe('lb1=10.17.4.1:22200:10.17.4.30:22');
    expect(parseNamedRoute(formatNamedRoute(r))).toEqual(r);
    expect(() => parseNamedRoute('lb1=10.17.4.1:22200')).toThrow(/bad route/);
  });
});
