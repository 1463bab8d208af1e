// The round-trip counter (lib/transport/round-trips.ts) over a real TCP socket pair: a turn
// is counted when the host answers after the controller sent, whatever the number of writes
// before the answer or of 'data' chunks in it; the TCP connect is one; the split between
// opening and after follows opened()/ready(); nothing counts once frozen.
import { createServer, Socket, type Server } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeRoundTrips, RoundTripCounter } from '../../../lib/transport/round-trips.ts';

let server: Server;
let port = 0;
/** The server side of the last connection: the test decides when the "host" answers. */
let peer: Socket;
const peers: Socket[] = [];

beforeAll(async () => {
  server = createServer((s) => {
    peer = s;
    peers.push(s);
    s.on('data', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const p of peers) p.destroy();
  server.close();
});

const tick = () => new Promise<void>((r) => setTimeout(r, 30));

/** Host answers and the controller sees it. */
async function answer(sock: Socket, text: string): Promise<void> {
  const got = once(sock, 'data');
  peer.write(text);
  await got;
}

async function connected(counter: RoundTripCounter): Promise<Socket> {
  counter.busy();
  const sock = observeRoundTrips(new Socket(), counter);
  counter.opened();
  counter.sent();
  sock.connect({ host: '127.0.0.1', port });
  await once(sock, 'connect');
  sock.on('data', () => {});
  await tick(); // the server's connection handler has run
  return sock;
}

describe('RoundTripCounter over a socket', () => {
  it('counts the TCP connect and each answer after a send, once per turn', async () => {
    const c = new RoundTripCounter();
    const sock = await connected(c);
    expect(c.value).toEqual({ total: 1, connect: 1 }); // SYN, SYN-ACK
    sock.write('version');
    await answer(sock, 'version');
    expect(c.value).toEqual({ total: 2, connect: 2 });
    c.ready();
    // Three requests before any answer (parallel channels, a batch): one round trip.
    sock.write('a');
    sock.write('b');
    sock.write('c');
    await tick();
    await answer(sock, 'A');
    await answer(sock, 'B');
    await answer(sock, 'C');
    expect(c.value).toEqual({ total: 3, connect: 2 });
    // Request, answer; request, answer: two.
    sock.write('d');
    await answer(sock, 'D');
    sock.write('e');
    await answer(sock, 'E');
    expect(c.value).toEqual({ total: 5, connect: 2 });
    sock.destroy();
  });

  it('does not count what the host sends unasked, nor anything once frozen', async () => {
    const c = new RoundTripCounter();
    const sock = await connected(c);
    c.ready();
    await answer(sock, 'banner'); // nothing sent since the connect was answered
    expect(c.value.total).toBe(1);
    c.freeze();
    sock.write('bye');
    await answer(sock, 'bye');
    expect(c.value).toEqual({ total: 1, connect: 1 });
    sock.destroy();
  });

  it('counts only while an operation waits (a keepalive of an idle connection is free)', async () => {
    const c = new RoundTripCounter();
    const sock = await connected(c);
    c.ready();
    c.idle();
    sock.write('keepalive');
    await answer(sock, 'ok');
    expect(c.value.total).toBe(1);
    await c.during(async () => {
      sock.write('exec');
      await answer(sock, 'done');
    });
    expect(c.value.total).toBe(2);
    sock.destroy();
  });

  it('leaves the stream paused and its data intact (no listener is added)', async () => {
    const c = new RoundTripCounter();
    c.busy();
    const sock = observeRoundTrips(new Socket(), c);
    expect(sock.listenerCount('data')).toBe(0);
    c.sent();
    sock.connect({ host: '127.0.0.1', port });
    await once(sock, 'connect');
    await tick();
    sock.pause();
    peer.write('kept');
    await tick();
    expect(c.value.total).toBe(1); // not read yet: not seen
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.resume();
    await tick();
    expect(Buffer.concat(chunks).toString()).toBe('kept');
    sock.destroy();
  });
});
