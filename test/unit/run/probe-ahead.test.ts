// Probe-ahead (lib/run/probe-ahead.ts): the batch script against the real /bin/sh, the
// wrapper's rules (answer only the very same probe, drop everything on a change), the
// window, and whole runs over real files: the same results with and without it, fewer execs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ops } from '../../../lib/ops/index.ts';
import { mustProbe } from '../../../lib/ops/exec.ts';
import { ok, type OpResult } from '../../../lib/ops/types.ts';
import { CaptureTransport, FIRST_WINDOW, MAX_WINDOW, ProbeAheadTransport, ProbeWindow, captureProbes } from '../../../lib/run/probe-ahead.ts';
import { makeHostCtx } from '../../../lib/run/context.ts';
import { defineRole, type Task } from '../../../lib/run/types.ts';
import { probeBatchScript, splitProbeBatch } from '../../../lib/transport/probe-batch.ts';
import type { ExecOptions, ExecResult, Transport } from '../../../lib/transport/types.ts';
import { LocalShell } from '../ops/local-shell.ts';
import { fakeFacts, harness, makeInventory } from './helpers.ts';

function sh(script: string): { stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { stdout: r.stdout, stderr: r.stderr };
}

describe('probe batch script', () => {
  it('gives each probe its own exact stdout, stderr and status, as if it ran alone', () => {
    const probes = [
      'echo a=1; echo b=2',
      "printf 'no newline at the end'",
      'echo to-err >&2; exit 3',
      'x=set; echo x=$x',
      'echo "x is [${x:-unset}]"; read line; echo "read rc=$?"',
      '',
      "echo '__DROVER_PROBE_0000000000000000__ 0'",
    ];
    const nonce = '__DROVER_PROBE_abcdef0123456789__';
    const { stdout, stderr } = sh(probeBatchScript(probes, nonce));
    const parts = splitProbeBatch(stdout, stderr, nonce, probes.length);
    expect(parts).toHaveLength(probes.length);
    parts.forEach((p, i) => {
      const alone = probes[i] === '' ? { stdout: '', stderr: '' } : sh(`(\n${probes[i]}\n) </dev/null`);
      expect(p.stdout, probes[i]).toBe(alone.stdout);
      expect(p.stderr, probes[i]).toBe(alone.stderr);
    });
    expect(parts.map((p) => p.code)).toEqual([0, 0, 3, 0, 0, 0, 0]);
    // Variables and stdin stay each probe's own.
    expect(parts[4]!.stdout).toBe('x is [unset]\nread rc=1\n');
  });

  it('stops at the first probe whose markers are missing (the batch died there)', () => {
    const nonce = '__DROVER_PROBE_1111111111111111__';
    const script = probeBatchScript(['echo one', 'echo two'], nonce);
    const { stdout, stderr } = sh(script);
    const cut = stdout.slice(0, stdout.indexOf('two'));
    expect(splitProbeBatch(cut, stderr, nonce, 2).map((p) => p.stdout)).toEqual(['one\n']);
    expect(splitProbeBatch(stdout, '', nonce, 2)).toEqual([]);
  });
});

/** Records what reaches the real transport; a batch runs in /bin/sh, once `gate` (if any) opens. */
class Recording implements Transport {
  readonly name = 'h';
  readonly calls: string[] = [];
  constructor(private readonly gate?: Promise<void>) {}
  async connect(): Promise<void> {}
  async close(): Promise<void> {}
  async exec(command: string, o: ExecOptions = {}): Promise<ExecResult> {
    const batch = command.includes('__DROVER_PROBE_');
    if (batch) await this.gate;
    this.calls.push(`${o.probe ? 'probe' : 'exec'}${o.sudo ? '+sudo' : ''}: ${batch ? 'BATCH' : command}`);
    if (batch) return { ...sh(command), code: 0, durationMs: 4 };
    return { stdout: `ran ${command}`, stderr: '', code: 0, durationMs: 1 };
  }
  async put(path: string): Promise<void> {
    this.calls.push(`put: ${path}`);
  }
  async get(path: string): Promise<Buffer> {
    this.calls.push(`get: ${path}`);
    return Buffer.from('');
  }
}

describe('ProbeAheadTransport', () => {
  it('answers the very same probe from what it read ahead, in one exec, until a change', async () => {
    const inner = new Recording();
    const t = new ProbeAheadTransport(inner);
    await t.readAhead([
      { command: 'echo one', sudo: undefined },
      { command: 'echo two', sudo: undefined },
    ]);
    expect(inner.calls).toEqual(['exec: BATCH']);
    expect((await t.exec('echo one', { probe: true })).stdout).toBe('one\n');
    expect((await t.exec('echo two', { probe: true, sudo: undefined })).stdout).toBe('two\n');
    // Asked again (another task, same question): the same answer; a command not read ahead runs.
    expect((await t.exec('echo one', { probe: true })).stdout).toBe('one\n');
    expect((await t.exec('echo three', { probe: true })).stdout).toBe('ran echo three');
    expect(inner.calls).toEqual(['exec: BATCH', 'probe: echo three']);
    expect(t.stats).toEqual({ batches: 1, read: 2, hits: 3 });
  });

  it('never answers an exec that is not a probe, one with other options, or another sudo', async () => {
    const inner = new Recording();
    const t = new ProbeAheadTransport(inner);
    const probes = ['echo a', 'echo b', 'echo c'].map((command) => ({ command, sudo: undefined }));
    await t.readAhead(probes);
    await t.exec('echo a', { probe: true, sudo: true });
    await t.exec('echo b', { probe: true, timeoutMs: 1000 });
    expect(inner.calls.slice(1)).toEqual(['probe+sudo: echo a', 'probe: echo b']);
    await t.exec('echo c');
    expect(inner.calls.at(-1)).toBe('exec: echo c');
  });

  it('drops everything read ahead on any change: an exec that is not a probe, or a put', async () => {
    const inner = new Recording();
    const t = new ProbeAheadTransport(inner);
    const probes = ['echo a', 'echo b'].map((command) => ({ command, sudo: undefined }));
    await t.readAhead(probes);
    const e0 = t.epoch;
    await t.exec('touch /x');
    expect(t.epoch).not.toBe(e0);
    await t.exec('echo a', { probe: true });
    expect(inner.calls.at(-1)).toBe('probe: echo a');
    await t.readAhead(probes);
    await t.put('/etc/x', 'content');
    await t.exec('echo b', { probe: true });
    expect(inner.calls.at(-1)).toBe('probe: echo b');
    // get only reads
    await t.readAhead(probes);
    await t.get('/etc/x');
    await t.exec('echo a', { probe: true });
    expect(inner.calls.at(-1)).toBe('get: /etc/x');
  });

  it('throws away a read-ahead that overlaps a change', async () => {
    let release!: () => void;
    const inner = new Recording(new Promise<void>((r) => (release = r)));
    const t = new ProbeAheadTransport(inner);
    const reading = t.readAhead(['echo a', 'echo b'].map((command) => ({ command, sudo: undefined })));
    await t.exec('echo change');
    release();
    await reading;
    await t.exec('echo a', { probe: true });
    expect(inner.calls.at(-1)).toBe('probe: echo a');
    expect(t.stats.hits).toBe(0);
  });

  it('groups probes by sudo (one exec each) and leaves a lone probe to its task', async () => {
    const inner = new Recording();
    const t = new ProbeAheadTransport(inner);
    await t.readAhead([
      { command: 'echo a', sudo: undefined },
      { command: 'echo b', sudo: undefined },
      { command: 'echo c', sudo: true },
      { command: 'echo d', sudo: true },
      { command: 'echo e', sudo: undefined },
    ]);
    expect(inner.calls).toEqual(['exec: BATCH', 'exec+sudo: BATCH']);
    expect((await t.exec('echo d', { probe: true, sudo: true })).stdout).toBe('d\n');
    await t.exec('echo e', { probe: true });
    expect(inner.calls.at(-1)).toBe('probe: echo e');
  });
});

describe('ProbeWindow', () => {
  it('doubles after tasks that changed nothing, falls to one task after a change', () => {
    const w = new ProbeWindow();
    const last = 500;
    expect(w.next(0, 0, last)).toHaveLength(FIRST_WINDOW);
    for (let i = 1; i < FIRST_WINDOW; i++) expect(w.next(i, 0, last)).toEqual([]);
    expect(w.next(FIRST_WINDOW, 0, last)).toHaveLength(FIRST_WINDOW * 2);
    // A change inside the window: the next task reads nothing ahead, the one after two tasks.
    expect(w.next(FIRST_WINDOW + 1, 2, last)).toEqual([]);
    expect(w.next(FIRST_WINDOW + 2, 2, last)).toEqual([FIRST_WINDOW + 2, FIRST_WINDOW + 3]);
    // Never past the last task, never wider than MAX_WINDOW.
    const v = new ProbeWindow();
    expect(v.next(0, 0, 3)).toEqual([0, 1, 2, 3]);
    const u = new ProbeWindow();
    let at = 0;
    let width = 0;
    for (let k = 0; k < 8; k++) {
      const got = u.next(at, 0, 10_000);
      width = got.length;
      at += width;
    }
    expect(width).toBe(MAX_WINDOW);
  });

  it('a new play restarts at task 0 with the width a converged host reached; after a change, at FIRST_WINDOW', () => {
    const w = new ProbeWindow();
    expect(w.next(0, 0, 30)).toHaveLength(FIRST_WINDOW);
    expect(w.next(FIRST_WINDOW, 0, 30)).toHaveLength(FIRST_WINDOW * 2);
    // Play 2, nothing changed on the host since: its 20 tasks in one window of 16, not 8.
    w.restart();
    expect(w.next(0, 0, 19)).toHaveLength(FIRST_WINDOW * 2);
    for (let i = 1; i < FIRST_WINDOW * 2; i++) expect(w.next(i, 0, 19)).toEqual([]);
    // A change (here in play 2's last tasks): play 3 starts as any window does.
    w.restart();
    expect(w.next(0, 3, 40)).toHaveLength(FIRST_WINDOW);
    // A change that left the width at one task: the next play still starts at FIRST_WINDOW.
    expect(w.next(FIRST_WINDOW, 5, 40)).toEqual([]);
    w.restart();
    expect(w.next(0, 5, 40)).toHaveLength(FIRST_WINDOW);
    // A window never used restarts as a new one.
    const v = new ProbeWindow();
    v.restart();
    expect(v.next(0, 0, 40)).toHaveLength(FIRST_WINDOW);
  });
});

describe('capturing a task\'s probes', () => {
  const ctxOn = (t: Transport) =>
    makeHostCtx({
      host: 'h',
      transport: t,
      facts: fakeFacts('h'),
      check: false,
      diff: false,
      become: false,
      vars: {},
      hostVars: {},
      inventory: makeInventory({ h: {} }),
      groups: [],
      registered: {},
      factsOf: () => undefined,
      log: () => {},
    });

  it('stops at the first call: a probe is learnt, anything else gives nothing', async () => {
    const ctx = ctxOn(new CaptureTransport('h'));
    const file = await captureProbes(() => ctx.run(ops.file('/etc/motd', 'hello\n')));
    expect(file).toHaveLength(1);
    expect(file[0]!.command.split('\n')[0]).toBe('p=/etc/motd');
    expect(await captureProbes(() => ctx.run(ops.command('rm -rf /tmp/x')))).toEqual([]);
    expect(await captureProbes(() => ctx.run(ops.command('date > /tmp/y', { creates: '/tmp/y' })))).toHaveLength(1);
  });

  it('ops.seq gives the first probe of each part', async () => {
    const ctx = ctxOn(new CaptureTransport('h'));
    const got = await captureProbes(() => ctx.run(ops.seq(ops.directory('/srv/a'), ops.file('/srv/a/b', 'x'), ops.link('/srv/a/b', '/srv/c'))));
    expect(got.map((p) => p.command.split('\n')[0])).toEqual(['p=/srv/a', 'p=/srv/a/b', 'p=/srv/c']);
    // Outside a capture nothing throws ProbeCaptured: the same seq just runs, part after part.
    const d = mkdtempSync(join(tmpdir(), 'drover-seq-'));
    try {
      const r = await ctxOn(new LocalShell()).run(ops.seq(ops.directory(join(d, 'a')), ops.file(join(d, 'a/b'), 'x'), ops.link(join(d, 'a/b'), join(d, 'c'))));
      expect(r.status).toBe('changed');
      expect(readFileSync(join(d, 'c'), 'utf8')).toBe('x');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('runs with probe-ahead over real files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'drover-ahead-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const tasks = (d: string): Task<{ v: string }>[] => [
    { name: 'dir', run: (c) => c.run(ops.directory(join(d, 'etc'), { mode: '0755' })) },
    { name: 'a', run: (c) => c.run(ops.file(join(d, 'etc/a'), `a=${c.vars.v}\n`, { mode: '0644' })) },
    { name: 'b', run: (c) => c.run(ops.file(join(d, 'etc/b'), 'b\n', { mode: '0644' })) },
    { name: 'line', run: (c) => c.run(ops.lineInFile(join(d, 'etc/c'), { regexp: '^c=', line: `c=${c.vars.v}`, create: true })) },
    { name: 'link', run: (c) => c.run(ops.link(join(d, 'etc/a'), join(d, 'a.link'))) },
    { name: 'pair', run: (c) => c.run(ops.seq(ops.file(join(d, 'etc/d'), 'd\n'), ops.file(join(d, 'etc/e'), 'e\n'))) },
    { name: 'once', run: (c) => c.run(ops.command(`echo x >> ${join(d, 'count')}`, { creates: join(d, 'etc/created') })) },
    { name: 'mark', run: (c) => c.run(ops.command(`touch ${join(d, 'etc/created')}`, { creates: join(d, 'etc/created') })) },
    // Read ahead before 'make x' ran, x was absent: 'x is hi' must look again, and find it right.
    { name: 'make x', run: (c) => c.run(ops.command(`echo hi > ${join(d, 'x')}`, { creates: join(d, 'x') })) },
    { name: 'x is hi', run: (c) => c.run(ops.file(join(d, 'x'), 'hi\n')) },
  ];

  async function converge(v: string, readAhead: boolean): Promise<{ statuses: string[]; execs: number; cmds: string[] }> {
    const shell = new LocalShell();
    const h = harness(makeInventory({ h: {} }));
    const role = defineRole({ name: 'r', vars: z.object({ v: z.string().default(v) }), tasks: tasks(dir), readAhead });
    await h.run([{ name: 'p', hosts: 'all', roles: [role] }], { connect: () => shell });
    return { statuses: h.sink.ends().map((e) => `${e.task}:${e.status}`), execs: shell.commands.length, cmds: shell.commands.map((c) => c.slice(0, 60)) };
  }

  it('gives the results it gives without, with fewer execs once converged; a change mid-run is seen', async () => {
    const first = await converge('1', true);
    expect(first.statuses.filter((s) => !s.endsWith(':changed'))).toEqual(['x is hi:ok']);
    const again = await converge('1', true);
    const without = await converge('1', false);
    expect(again.statuses).toEqual(without.statuses);
    expect(again.statuses.every((s) => s.endsWith(':ok'))).toBe(true);
    // 11 probes (the seq's two included) in 2 reads, against 11 execs.
    expect(without.execs).toBe(11);
    expect(again.execs).toBe(2);
    // Someone edits a file between runs: only what depends on it changes, and the file is right.
    writeFileSync(join(dir, 'etc/c'), '# edited\nc=0\n');
    const edited = await converge('2', true);
    expect(edited.statuses).toEqual(['dir:ok', 'a:changed', 'b:ok', 'line:changed', 'link:ok', 'pair:ok', 'once:ok', 'mark:ok', 'make x:ok', 'x is hi:ok']);
    expect(readFileSync(join(dir, 'etc/c'), 'utf8')).toBe('# edited\nc=2\n');
    expect(readFileSync(join(dir, 'etc/a'), 'utf8')).toBe('a=2\n');
    expect(readFileSync(join(dir, 'count'), 'utf8')).toBe('x\n');
  });

  it('a retry looks at the host again instead of taking the answer read ahead', async () => {
    const flag = join(dir, 'flag');
    mkdirSync(join(dir, 'sub'), { mode: 0o755 });
    const shell = new LocalShell();
    const h = harness(makeInventory({ h: {} }));
    const role = defineRole({
      name: 'poll',
      vars: z.object({}),
      readAhead: true,
      tasks: [
        { name: 'dir', run: (c) => c.run(ops.directory(join(dir, 'sub'))) },
        {
          name: 'wait for the flag',
          retries: 2,
          // The host changes by itself between attempts (here: this test, on the first answer).
          until: (r) => {
            if (r.msg === 'no') writeFileSync(flag, 'yes\n');
            return r.msg === 'yes';
          },
          run: async (c) => ok((await mustProbe(c, 'flag', `cat ${flag} 2>/dev/null || echo no`)).stdout.trim()),
        },
      ],
    });
    await h.run([{ name: 'p', hosts: 'all', roles: [role] }], { connect: () => shell });
    const end = h.sink.ends().find((e) => e.task === 'wait for the flag')!;
    expect(`${end.status} ${end.msg} ${end.attempts}`).toBe('ok yes 2');
    // The first attempt was answered from the read-ahead (one batch: dir + flag), the retry looked again.
    expect(shell.commands.filter((c) => c.startsWith('cat '))).toHaveLength(1);
  });

  it('runs the code of a role without readAhead exactly once per task', async () => {
    const calls: string[] = [];
    const h = harness(makeInventory({ h: {} }));
    const role = defineRole({
      name: 'plain',
      vars: z.object({}),
      tasks: [1, 2, 3].map((n) => ({ name: `t${n}`, run: (): OpResult => (calls.push(`t${n}`), ok()) })),
    });
    await h.run([{ name: 'p', hosts: 'all', roles: [role] }]);
    expect(calls).toEqual(['t1', 't2', 't3']);
  });
});
