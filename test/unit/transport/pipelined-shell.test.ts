// The pipelined shell against a real local `sh` (the same POSIX sh the hosts run), through a
// stand-in for an ssh2 channel: markers, exit codes, output split anywhere, a command that
// ends the shell, and the pipelining switch (inventory variable, environment, default).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ClientChannel } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { buildCommand, killScript } from '../../../lib/transport/remote-command.ts';
import { pipeliningFor } from '../../../lib/transport/connection.ts';
import { PipelinedShell } from '../../../lib/transport/pipelined-shell.ts';

/** What PipelinedShell uses of a channel: data/close events, stderr, write, end. */
class FakeChannel extends EventEmitter {
  readonly stderr = new EventEmitter();
  readonly written: string[] = [];
  constructor(private readonly onWrite: (s: string) => void = () => {}) {
    super();
  }
  write(s: string): boolean {
    this.written.push(s);
    this.onWrite(s);
    return true;
  }
  end(): void {
    this.emit('close');
  }
}

/** A channel backed by a local `sh` process, as `exec sh` on a host would be. */
function localShell(): { shell: PipelinedShell; proc: ChildProcessWithoutNullStreams } {
  const proc = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'] });
  const ch = new FakeChannel((s) => proc.stdin.write(s));
  proc.stdout.on('data', (d: Buffer) => ch.emit('data', d));
  proc.stderr.on('data', (d: Buffer) => ch.stderr.emit('data', d));
  proc.on('close', () => ch.emit('close'));
  ch.end = () => proc.stdin.end();
  return { shell: new PipelinedShell(ch as unknown as ClientChannel), proc };
}

const line = (command: string, env?: Record<string, string>) =>
  buildCommand({ command, become: null, loginIsRoot: true, marker: 'abc123', ...(env ? { env } : {}) }).line;

const procs: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
});
function open(): PipelinedShell {
  const { shell, proc } = localShell();
  procs.push(proc);
  return shell;
}

describe('PipelinedShell on a real sh', () => {
  it('returns stdout, stderr and the exit status of each command, one after the other', async () => {
    const sh = open();
    const a = await sh.run(line('echo out; echo err >&2; exit 3'));
    expect({ out: a.stdout.toString(), err: a.stderr.toString(), code: a.code }).toEqual({ out: 'out\n', err: 'err\n', code: 3 });
    const b = await sh.run(line('printf "no newline"'));
    expect({ out: b.stdout.toString(), code: b.code }).toEqual({ out: 'no newline', code: 0 });
    expect(sh.busy).toBe(false);
  });

  it('isolates commands: cd, variables and exit stay in their subshell; stdin is /dev/null, not the command stream', async () => {
    const sh = open();
    await sh.run(line('cd /tmp; X=1; export Y=2'));
    const r = await sh.run(line('printf "%s|%s|%s" "$(pwd)" "${X-}" "${Y-}"; cat; exit 0'));
    expect(r.stdout.toString()).toBe(`${process.cwd()}||`);
    const after = await sh.run(line('echo still'));
    expect(after.stdout.toString()).toBe('still\n');
  });

  it('keeps env values with tricky quoting, and a trailing comment cannot swallow the end marker', async () => {
    const sh = open();
    const tricky = `'$HOME' "dq" \\ \`x\` $(id) ;|& \n second line\n`;
    const r = await sh.run(line('printf "[%s]" "$T" # a comment', { T: tricky }));
    expect(r.stdout.toString()).toBe(`[${tricky}]`);
    expect(r.code).toBe(0);
  });

  it('fails a command with a syntax error at once with sh\'s own message (a typo never leaves the shell waiting for the rest of a quote)', async () => {
    const sh = open();
    for (const typo of [`echo 'unterminated`, 'echo "open', 'if true; then echo x', 'echo $(date', 'echo `x', 'f() {', 'a && ']) {
      const r = await sh.run(line(typo));
      expect(r.code, typo).toBe(2);
      expect(r.stderr.toString(), typo).toMatch(/Syntax error|unexpected|Unterminated|expecting/i);
    }
    // The inline form (no sh -c) too, and the shell is still there for the next command.
    const inline = buildCommand({ command: `echo 'unterminated`, become: null, loginIsRoot: true }).inline!;
    expect((await sh.run(inline)).code).toBe(2);
    expect((await sh.run(line('echo fine'))).stdout.toString()).toBe('fine\n');
    expect(sh.busy).toBe(false);
  });

  it('learns its pid from the end marker, and killScript(marker, pid) ends a subshell that loops on builtins only', async () => {
    const sh = open();
    await sh.run(line('true'));
    expect(sh.pid).toBeGreaterThan(1);
    // Timed-out commands run inline with the marker exported: the loop has no child carrying it.
    const looping = sh.run(buildCommand({ command: 'while :; do :; done', become: null, loginIsRoot: true, marker: 'feedc0de' }).inline!);
    await new Promise((r) => setTimeout(r, 100));
    expect(sh.busy).toBe(true);
    execFileSync('sh', ['-c', killScript('feedc0de', sh.pid)]);
    expect((await looping).code).toBe(137);
    expect((await sh.run(line('echo next'))).stdout.toString()).toBe('next\n');
  });

  it('reports a command killed by a signal as 128+n, as $? does', async () => {
    const sh = open();
    const r = await sh.run(line('kill -TERM $$'));
    expect(r.code).toBe(143);
  });

  it('passes large and binary output through intact', async () => {
    const sh = open();
    const r = await sh.run(line('head -c 300000 /dev/zero | tr "\\0" "a"; printf "\\001\\377"'));
    expect(r.stdout.length).toBe(300_002);
    expect(r.stdout.subarray(-2)).toEqual(Buffer.from([1, 255]));
  });

  it('refuses a second command while one runs (the transport then opens a session)', async () => {
    const sh = open();
    const first = sh.run(line('sleep 0.2; echo first'));
    expect(sh.busy).toBe(true);
    await expect(sh.run(line('echo second'))).rejects.toThrow(/busy/);
    expect((await first).stdout.toString()).toBe('first\n');
  });

  it('resolves a command under which the shell ended with code null and says so; later runs are refused', async () => {
    const sh = open();
    const r = await sh.run(line('echo partial; kill -KILL $PPID'));
    expect(r.code).toBeNull();
    expect(r.stdout.toString()).toBe('partial\n');
    expect(r.stderr.toString()).toMatch(/the pipelined shell ended while this command ran/);
    expect(sh.alive).toBe(false);
    await expect(sh.run(line('true'))).rejects.toThrow(/closed/);
  });
});

describe('PipelinedShell output framing', () => {
  it('finds the end markers wherever chunk boundaries fall', async () => {
    for (const size of [1, 2, 3, 7, 16]) {
      let sh!: PipelinedShell;
      const ch = new FakeChannel((s) => {
        const id = /'(__DROVER_END_[0-9a-f]+__)'/.exec(s)![1]!;
        const out = Buffer.from(`hello __DROVER_END_ world\n${id} 5\n`);
        const err = Buffer.from(`warn\n${id}\n`);
        queueMicrotask(() => {
          for (let i = 0; i < out.length; i += size) ch.emit('data', out.subarray(i, i + size));
          for (let i = 0; i < err.length; i += size) ch.stderr.emit('data', err.subarray(i, i + size));
        });
      });
      sh = new PipelinedShell(ch as unknown as ClientChannel);
      const r = await sh.run('true');
      expect({ size, out: r.stdout.toString(), err: r.stderr.toString(), code: r.code }).toEqual({ size, out: 'hello __DROVER_END_ world\n', err: 'warn\n', code: 5 });
    }
  });
});

describe('pipeliningFor', () => {
  it('is on by default; DROVER_PIPELINING=0/false/no/off turns it off; the connection setting wins', () => {
    expect(pipeliningFor({}, {})).toBe(true);
    expect(pipeliningFor({}, { DROVER_PIPELINING: '1' })).toBe(true);
    for (const v of ['0', 'false', 'no', 'off', ' OFF ']) expect(pipeliningFor({}, { DROVER_PIPELINING: v })).toBe(false);
    expect(pipeliningFor({ pipelining: true }, { DROVER_PIPELINING: '0' })).toBe(true);
    expect(pipeliningFor({ pipelining: false }, {})).toBe(false);
  });
});
