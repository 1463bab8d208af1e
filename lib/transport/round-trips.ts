// Round trips per host, counted on the wire. Over a WAN a host's wall time is about its round
// trips times the RTT, whatever the CPU does, so this is the figure to cut (issue 15).
//
// A round trip is a direction turn on the raw socket: the controller sent bytes and then
// received the host's answer. Counting turns on the socket (instead of execs) counts every
// cost the same way: TCP connect, the SSH version exchange, key exchange, authentication,
// each channel open and request, pipelined commands, transfers. Requests sent together
// before the first answer (parallel channels, a batch) are one turn, as they cost one RTT.
// What a turn does not see: a host that sends without being asked (a long command's output
// arriving in chunks the controller acknowledges with window adjusts counts a turn per
// chunk). Only turns while the transport waits for something count (busy(): connecting, a
// command or transfer running): a keepalive exchanged while the host sits idle (waiting for
// the other hosts of a linear play) costs the run nothing. Concurrent requests whose answers
// interleave with the next requests can count a turn more than the RTTs they cost.
import type { Duplex } from 'node:stream';

/** Round trips of one host's connection(s) in a run. */
export interface RoundTrips {
  /** All of them: `connect` plus every one after the connection was ready. */
  total: number;
  /** Opening the connection(s): TCP connect, SSH version, key exchange, authentication. */
  connect: number;
}

export class RoundTripCounter {
  private total = 0;
  private connectTurns = 0;
  /** The last thing seen on the wire was ours: the next bytes from the host end a turn. */
  private waiting = false;
  private opening = false;
  private frozen = false;
  /** Operations in flight (busy()/idle()): only their turns are waited for. */
  private inFlight = 0;

  busy(): void {
    this.inFlight++;
  }

  idle(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  /** Count the turns of this operation (what the run waits for). */
  async during<T>(op: () => Promise<T>): Promise<T> {
    this.busy();
    try {
      return await op();
    } finally {
      this.idle();
    }
  }

  /** A connection is being opened: turns count as connect until ready(). */
  opened(): void {
    this.opening = true;
  }

  ready(): void {
    this.opening = false;
  }

  sent(): void {
    if (!this.frozen && this.inFlight > 0) this.waiting = true;
  }

  received(): void {
    if (this.frozen || !this.waiting) return;
    this.waiting = false;
    this.total++;
    if (this.opening) this.connectTurns++;
  }

  /**
   * Stop counting (the transport is closing): what the host says after our disconnect is
   * not waited for a full round trip (see the close grace in ssh.ts).
   */
  freeze(): void {
    this.frozen = true;
  }

  get value(): RoundTrips {
    return { total: this.total, connect: this.connectTurns };
  }
}

type Emit = Duplex['emit'];
type WriteOne = Duplex['_write'];
type WriteMany = NonNullable<Duplex['_writev']>;

/**
 * Watch a stream's writes and its 'data' (and, for a net.Socket, 'connect': the TCP
 * handshake is a turn too: call counter.sent() before connecting). The stream's behaviour is
 * unchanged: this wraps the instance's _write/_writev (not write(), which net.Socket resets
 * on connect) and emit, adding no listener, so a paused stream stays paused until its owner
 * reads it.
 */
export function observeRoundTrips<S extends Duplex>(stream: S, counter: RoundTripCounter): S {
  const writeOne: WriteOne = stream._write;
  const writeMany = stream._writev;
  const emit: Emit = stream.emit;
  stream._write = function (this: S, ...args: Parameters<WriteOne>) {
    counter.sent();
    return writeOne.apply(this, args);
  };
  if (writeMany) {
    stream._writev = function (this: S, ...args: Parameters<WriteMany>) {
      counter.sent();
      return writeMany.apply(this, args);
    };
  }
  stream.emit = function (this: S, event: string | symbol, ...args: unknown[]) {
    if (event === 'data' || event === 'connect') counter.received();
    return emit.call(this, event, ...args);
  } as Emit;
  return stream;
}
