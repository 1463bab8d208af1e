// The latency relay on loopback: the round trip through it grows by 2 x the one-way delay,
// bytes arrive intact and in order, a clean end and a reset both reach the other side.
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureRoundTrip, startRelay } from '../../../lab/latency-relay.ts';

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
