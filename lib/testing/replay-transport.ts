// Answers a host's execs and gets from a recording (recording.ts), with no host: a unit test
// can replay a converged run of real roles and count the round trips it costs.
//
//   const replay = new Replay(recordings, { hint: 'npm run record-converged' });
//   const recap = await runPlays(plays, { inventory, sink, ...replay.runOptions() });
//   replay.trips('web1');  // round trips the run asked of web1, by the model below
//
// A read-ahead batch is answered probe by probe and re-composed with the batch's own markers,
// so splitProbeBatch reads it as it would a host's. Anything not recorded fails loudly with
// the exact command: a role changed, re-record.
//
// The round-trip model (lib/run/README.md "Round trips" has what the ssh transport counts on
// the wire): an exec is 1 (a read-ahead batch is one exec; commands go through the
// connection's pipelined shell), an exec with stdin is 3 (a session of its own), a get is 1
// (a `cat` through the pipelined shell), a put is 3 (a session of its own: stdin), the facts
// are 1 (one exec). Connecting (6), the host lock and opening the shell (4-5) are not
// counted here: they are the same for every run of a host, whatever its roles.
import { UnreachableError } from '../errors.ts';
import type { Facts } from '../facts/types.ts';
import type { ConnectHost, GatherFacts } from '../run/options.ts';
import { parseProbeBatchScript } from '../transport/probe-batch.ts';
import type { BecomeOptions, ExecOptions, ExecResult, PutOptions, Transport } from '../transport/types.ts';
import { execKey, getKey, sudoShown, type HostRecording, type RecordedAnswer, type RecordingExec, type RecordedGet } from './recording.ts';

export const REPLAY_ROUND_TRIPS = { exec: 1, execWithStdin: 3, get: 1, put: 3, facts: 1 } as const;

/** What a replayed host was asked, counted as the replay went. */
export interface ReplayStats {
  /** Round trips by REPLAY_ROUND_TRIPS, facts included. */
  trips: number;
  /** Of trips: gathering facts. */
  factTrips: number;
  execs: number;
  batches: number;
  batchedProbes: number;
  /** Execs not marked probe: on a converged host, a change or a read that does not say so. */
  nonProbeExecs: number;
  stdinExecs: number;
  puts: number;
  gets: number;
}

export interface ReplayOptions {
  /** How to re-record, for the "not recorded" message (e.g. the command that writes the recordings). */
  hint: string;
  /** Placeholder -> value, put back into answers and file contents (e.g. a secret left out of the recording). */
  substitute?: Readonly<Record<string, string>>;
}

export class NotRecordedError extends Error {
  constructor(
    readonly host: string,
    readonly command: string,
    hint: string,
  ) {
    super(`${host}: not recorded: ${command}; re-record with ${hint}`);
    this.name = 'NotRecordedError';
  }
}

function substitute(text: string, subs: Readonly<Record<string, string>> | undefined): string {
  if (!subs) return text;
  let out = text;
  for (const [k, v] of Object.entries(subs)) out = out.split(k).join(v);
  return out;
}

export class ReplayTransport implements Transport {
  readonly stats: ReplayStats = { trips: 0, factTrips: 0, execs: 0, batches: 0, batchedProbes: 0, nonProbeExecs: 0, stdinExecs: 0, puts: 0, gets: 0 };
  /** Commands asked for that the recording does not have (each also failed its caller). */
  readonly missing: string[] = [];
  /** Paths put (a converged host gets none): accepted and counted, not written anywhere. */
  readonly puts: string[] = [];
  private readonly execs = new Map<string, RecordingExec>();
  private readonly gets = new Map<string, RecordedGet>();
  private readonly next = new Map<string, number>();

  constructor(
    readonly recording: HostRecording,
    private readonly options: ReplayOptions,
  ) {
    for (const e of recording.execs) this.execs.set(e.key, e);
    for (const g of recording.gets) this.gets.set(g.key, g);
  }

  get name(): string {
    return this.recording.host;
  }

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  /** The recorded facts, counted as the one exec gathering them costs. */
  facts(): Facts {
    this.stats.trips += REPLAY_ROUND_TRIPS.facts;
    this.stats.factTrips += REPLAY_ROUND_TRIPS.facts;
    return this.recording.facts as unknown as Facts;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.stats.execs++;
    const withStdin = options.stdin !== undefined;
    if (withStdin) this.stats.stdinExecs++;
    this.stats.trips += withStdin ? REPLAY_ROUND_TRIPS.execWithStdin : REPLAY_ROUND_TRIPS.exec;
    const batch = parseProbeBatchScript(command);
    if (batch) {
      this.stats.batches++;
      this.stats.batchedProbes += batch.commands.length;
      let stdout = '';
      let stderr = '';
      for (const c of batch.commands) {
        const a = this.answer(c, { sudo: options.sudo });
        stdout += `${a.stdout}\n${batch.nonce} ${a.code ?? 1}\n`;
        stderr += `${a.stderr}\n${batch.nonce}\n`;
      }
      return { stdout, stderr, code: 0, durationMs: 0 };
    }
    if (!options.probe) this.stats.nonProbeExecs++;
    return { ...this.answer(command, options), durationMs: 0 };
  }

  async put(path: string, _content: string | Buffer, _options?: PutOptions): Promise<void> {
    this.stats.puts++;
    this.stats.trips += REPLAY_ROUND_TRIPS.put;
    this.puts.push(path);
  }

  async get(path: string, options: { sudo?: boolean | BecomeOptions } = {}): Promise<Buffer> {
    this.stats.gets++;
    this.stats.trips += REPLAY_ROUND_TRIPS.get;
    const g = this.gets.get(getKey(path, options.sudo));
    if (!g) throw this.notRecorded(`get ${path}${options.sudo ? ` (sudo ${JSON.stringify(sudoShown(options.sudo))})` : ''}`);
    return Buffer.from(substitute(g.content, this.options.substitute), 'utf8');
  }

  private answer(command: string, options: ExecOptions): RecordedAnswer {
    const key = execKey(command, options);
    const e = this.execs.get(key);
    if (!e) {
      const sudo = sudoShown(options.sudo);
      throw this.notRecorded(`${command}${sudo ? ` (sudo ${JSON.stringify(sudo)})` : ''}${options.stdin !== undefined ? ' (with stdin)' : ''}`);
    }
    const i = this.next.get(key) ?? 0;
    this.next.set(key, i + 1);
    const a = e.answers[Math.min(i, e.answers.length - 1)]!;
    return { stdout: substitute(a.stdout, this.options.substitute), stderr: substitute(a.stderr, this.options.substitute), code: a.code };
  }

  private notRecorded(what: string): NotRecordedError {
    this.missing.push(what);
    return new NotRecordedError(this.name, what, this.options.hint);
  }
}

/** A set of hosts' recordings, and the connect/gatherFacts a runPlays() needs to replay them. */
export class Replay {
  /** The transports of the last connects, by host. */
  readonly transports = new Map<string, ReplayTransport>();
  private readonly recordings = new Map<string, HostRecording>();

  constructor(
    recordings: Iterable<HostRecording>,
    private readonly options: ReplayOptions,
  ) {
    for (const r of recordings) this.recordings.set(r.host, r);
  }

  readonly connect: ConnectHost = (host) => {
    const r = this.recordings.get(host.name);
    if (!r) throw new UnreachableError(host.name, `no recording of ${host.name}; re-record with ${this.options.hint}`);
    const t = new ReplayTransport(r, this.options);
    this.transports.set(host.name, t);
    return t;
  };

  /** The runner gathers through its own wrapper of the transport: find ours by name. */
  readonly gatherFacts: GatherFacts = async (t) => {
    const rt = this.transports.get(t.name);
    if (!rt) throw new Error(`${t.name}: not connected through this replay`);
    return rt.facts();
  };

  runOptions(): { connect: ConnectHost; gatherFacts: GatherFacts } {
    return { connect: this.connect, gatherFacts: this.gatherFacts };
  }

  /** Round trips asked of a host by the model (facts included), 0 for a host not connected. */
  trips(host: string): number {
    return this.transports.get(host)?.stats.trips ?? 0;
  }
}
