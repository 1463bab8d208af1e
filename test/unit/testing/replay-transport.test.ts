// drover/testing's record/replay: a converged run over real files recorded through
// RecordingTransport (read-ahead batches split into their probes), then replayed with no
// host, with probe-ahead on and off: the same results, the round trips of the stated model,
// and a loud failure naming the command when something was not recorded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ops } from '../../../lib/ops/index.ts';
import { defineRole, type Play } from '../../../lib/run/types.ts';
import { NotRecordedError, RecordingTransport, REPLAY_ROUND_TRIPS, Replay, ReplayTransport, hostRecordingSchema, type HostRecording } from '../../../lib/testing/index.ts';
import { batchNonce, probeBatchScript, splitProbeBatch } from '../../../lib/transport/probe-batch.ts';
import { LocalShell } from '../ops/local-shell.ts';
import { fakeFacts, harness, makeInventory } from '../run/helpers.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-replay-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const play = (d: string): Play => ({
  name: 'p',
  hosts: 'all',
  roles: [
    defineRole({
      name: 'files',
      vars: z.object({}),
      readAhead: true,
      tasks: [
        { name: 'dir', run: (c) => c.run(ops.directory(join(d, 'etc'))) },
        { name: 'a', run: (c) => c.run(ops.file(join(d, 'etc/a'), 'a\n')) },
        { name: 'b', run: (c) => c.run(ops.file(join(d, 'etc/b'), 'b\n')) },
        { name: 'line', run: (c) => c.run(ops.lineInFile(join(d, 'etc/c'), { regexp: '^c=', line: 'c=1', create: true })) },
        { name: 'link', run: (c) => c.run(ops.link(join(d, 'etc/a'), join(d, 'a.link'))) },
      ],
    }),
  ],
});

async function record(ahead: boolean): Promise<{ recording: HostRecording; statuses: string[] }> {
  const shell = new LocalShell();
  const rec = new RecordingTransport(shell);
  const h = harness(makeInventory({ h: { vars: { drover_probe_ahead: ahead } } }));
  await h.run([play(dir)], { connect: () => rec });
  const recording = hostRecordingSchema.parse(JSON.parse(JSON.stringify(rec.recording({ ...fakeFacts('h') }))));
  return { recording: { ...recording, host: 'h' }, statuses: h.sink.ends().map((e) => `${e.task}:${e.status}`) };
}

async function replay(recording: HostRecording, ahead: boolean): Promise<{ statuses: string[]; t: ReplayTransport }> {
  const r = new Replay([recording], { hint: 'the test' });
  const h = harness(makeInventory({ h: { vars: { drover_probe_ahead: ahead } } }));
  await h.run([play(dir)], r.runOptions());
  return { statuses: h.sink.ends().map((e) => `${e.task}:${e.status}`), t: r.transports.get('h')! };
}

describe('record and replay', () => {
  it('a converged run replays with the same results, probe-ahead on and off, counting round trips', async () => {
    const first = await record(true);
    expect(first.statuses.filter((s) => s.endsWith(':changed'))).toHaveLength(5);
    const { recording, statuses } = await record(true);
    expect(statuses.every((s) => s.endsWith(':ok'))).toBe(true);
    // 5 probes in one read-ahead batch: recorded one by one.
    expect(recording.seen).toMatchObject({ execs: 1, batches: 1, batchedProbes: 5, nonProbeExecs: 0, puts: 0 });
    expect(recording.execs).toHaveLength(5);
    expect(recording.execs.every((e) => e.probe)).toBe(true);

    const on = await replay(recording, true);
    expect(on.statuses).toEqual(statuses);
    expect(on.t.missing).toEqual([]);
    expect(on.t.stats).toMatchObject({ execs: 1, batches: 1, batchedProbes: 5, trips: 1 + REPLAY_ROUND_TRIPS.facts, factTrips: 1 });
    const off = await replay(recording, false);
    expect(off.statuses).toEqual(statuses);
    expect(off.t.stats).toMatchObject({ execs: 5, batches: 0, trips: 5 + REPLAY_ROUND_TRIPS.facts });
  });

  it('answers a batch composed otherwise than recorded, with its own markers', async () => {
    const shell = new LocalShell();
    const rec = new RecordingTransport(shell);
    const nonce = batchNonce();
    await rec.exec(probeBatchScript(['echo one', 'echo two >&2; exit 3', 'printf x'], nonce), { sudo: false });
    const t = new ReplayTransport({ ...rec.recording({}), host: 'h' }, { hint: 'x' });
    const other = batchNonce();
    const r = await t.exec(probeBatchScript(['printf x', 'echo one'], other), { sudo: false });
    expect(splitProbeBatch(r.stdout, r.stderr, other, 2)).toEqual([
      { stdout: 'x', stderr: '', code: 0 },
      { stdout: 'one\n', stderr: '', code: 0 },
    ]);
    const alone = await t.exec('echo two >&2; exit 3', { sudo: false, probe: true });
    expect(alone).toMatchObject({ stdout: '', stderr: 'two\n', code: 3 });
    // Another sudo is another command.
    await expect(t.exec('printf x', { sudo: true, probe: true })).rejects.toThrow(NotRecordedError);
  });

  it('fails loudly on what was not recorded, and counts puts, gets and stdin by the model', async () => {
    const rec: HostRecording = { host: 'h', facts: {}, execs: [], gets: [{ key: '', path: '/x', content: '' }], seen: { execs: 0, batches: 0, batchedProbes: 0, nonProbeExecs: 0, stdinExecs: 0, puts: 0, gets: 0 } };
    const t = new ReplayTransport(rec, { hint: 'npm run record', substitute: { '{{pw}}': 'hunter22' } });
    await expect(t.exec('rm -rf /srv/x')).rejects.toThrow('h: not recorded: rm -rf /srv/x; re-record with npm run record');
    await expect(t.exec('cat', { stdin: 'x' })).rejects.toThrow('not recorded: cat (with stdin)');
    await expect(t.get('/etc/shadow', { sudo: true })).rejects.toThrow('not recorded: get /etc/shadow (sudo true)');
    await t.put('/etc/motd', 'hi');
    expect(t.missing).toHaveLength(3);
    expect(t.puts).toEqual(['/etc/motd']);
    expect(t.stats).toMatchObject({ execs: 2, nonProbeExecs: 2, stdinExecs: 1, gets: 1, puts: 1 });
    expect(t.stats.trips).toBe(REPLAY_ROUND_TRIPS.exec + REPLAY_ROUND_TRIPS.execWithStdin + REPLAY_ROUND_TRIPS.get + REPLAY_ROUND_TRIPS.put);
  });

  it('puts placeholders back into answers', async () => {
    const shell = new LocalShell();
    const rec = new RecordingTransport(shell);
    await rec.exec("printf 'pw={{pw}}'", { probe: true });
    const t = new ReplayTransport({ ...rec.recording({}), host: 'h' }, { hint: 'x', substitute: { '{{pw}}': 'hunter22' } });
    expect((await t.exec("printf 'pw={{pw}}'", { probe: true })).stdout).toBe('pw=hunter22');
  });
});
