// Wraps a host's real transport and records what it was asked and what it answered, for a
// replay without the host (replay-transport.ts). A read-ahead batch is recorded probe by probe
// (parseProbeBatchScript + splitProbeBatch), so the replay can answer the same probes whether
// they come alone or batched differently. Puts are counted, not recorded (a converged host
// gets none). Pass RunOptions.connect a function that wraps each host's transport in one.
import { parseProbeBatchScript, splitProbeBatch } from '../transport/probe-batch.ts';
import type { BecomeOptions, ExecOptions, ExecResult, PutOptions, RoundTrips, Transport } from '../transport/types.ts';
import { execKey, getKey, preview, sudoShown, type HostRecording, type RecordedAnswer, type RecordingExec, type RecordedGet, type Seen } from './recording.ts';

export class RecordingTransport implements Transport {
  private readonly execs = new Map<string, RecordingExec>();
  private readonly gets = new Map<string, RecordedGet>();
  /** Paths of the gets, with the sudo they used (for whoever post-processes a recording). */
  readonly getPaths: Array<{ path: string; sudo?: boolean | BecomeOptions }> = [];
  readonly seen: Seen = { execs: 0, batches: 0, batchedProbes: 0, nonProbeExecs: 0, stdinExecs: 0, puts: 0, gets: 0 };
  /** While true (e.g. gathering facts, recorded as facts instead), nothing is recorded or counted. */
  paused = false;

  constructor(readonly inner: Transport) {}

  get name(): string {
    return this.inner.name;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  roundTrips(): RoundTrips | undefined {
    return this.inner.roundTrips?.();
  }

  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    const r = await this.inner.exec(command, options);
    if (this.paused) return r;
    this.seen.execs++;
    if (options?.stdin !== undefined) this.seen.stdinExecs++;
    const batch = parseProbeBatchScript(command);
    if (batch) {
      this.seen.batches++;
      const parts = splitProbeBatch(r.stdout, r.stderr, batch.nonce, batch.commands.length);
      this.seen.batchedProbes += parts.length;
      parts.forEach((p, i) => this.add(batch.commands[i]!, { sudo: options?.sudo }, true, p));
      return r;
    }
    if (!options?.probe) this.seen.nonProbeExecs++;
    this.add(command, options ?? {}, options?.probe === true, r);
    return r;
  }

  async put(path: string, content: string | Buffer, options?: PutOptions): Promise<void> {
    if (!this.paused) this.seen.puts++;
    return this.inner.put(path, content, options);
  }

  async get(path: string, options?: { sudo?: boolean | BecomeOptions }): Promise<Buffer> {
    const b = await this.inner.get(path, options);
    if (this.paused) return b;
    this.seen.gets++;
    const key = getKey(path, options?.sudo);
    if (!this.gets.has(key)) {
      this.gets.set(key, { key, path, content: b.toString('utf8') });
      this.getPaths.push({ path, ...(options?.sudo !== undefined ? { sudo: options.sudo } : {}) });
    }
    return b;
  }

  private add(command: string, options: ExecOptions, probe: boolean, r: RecordedAnswer): void {
    const key = execKey(command, options);
    const answer: RecordedAnswer = { stdout: r.stdout, stderr: r.stderr, code: r.code };
    const have = this.execs.get(key);
    if (!have) {
      const sudo = sudoShown(options.sudo);
      this.execs.set(key, { key, cmd: preview(command), ...(sudo !== undefined ? { sudo } : {}), ...(probe ? { probe } : {}), answers: [answer] });
      return;
    }
    if (probe) have.probe = true;
    // The same answer again adds nothing; a different one (a poll that moved on) is kept in order.
    const last = have.answers[have.answers.length - 1]!;
    if (last.stdout !== answer.stdout || last.stderr !== answer.stderr || last.code !== answer.code) have.answers.push(answer);
  }

  /** The recording so far (facts from the caller: they are gathered, not answered). */
  recording(facts: Record<string, unknown>): HostRecording {
    const r = this.roundTrips();
    return {
      host: this.name,
      facts,
      execs: [...this.execs.values()],
      gets: [...this.gets.values()],
      seen: { ...this.seen },
      ...(r ? { wire: { roundTrips: r.total, connectRoundTrips: r.connect } } : {}),
    };
  }
}
