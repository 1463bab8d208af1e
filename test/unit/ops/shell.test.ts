// ctx.$ against the real /bin/sh (dash): what the command sees is exactly what was
// interpolated, zx's output type, failure and nothrow, sudo/probe/timeout options reaching
// the transport.
import { describe, expect, it } from 'vitest';
import { LocalTransport } from '../../../lib/transport/local.ts';
import { buildCommand, describeFailure, hostShell, sh } from '../../../lib/ops/shell.ts';
import type { ExecOptions, ExecResult, Transport } from '../../../lib/transport/types.ts';
import { ProcessOutput } from 'zx/core';

const local = new LocalTransport({ name: 'local', become: false, becomeUser: 'root' });
const $ = hostShell({ transport: local, become: false, log: () => {} });

/** Records the options each exec gets and answers with a fixed result. */
class Recorder implements Transport {
  readonly name = 'rec';
  calls: Array<{ command: string; options: ExecOptions }> = [];
  constructor(private readonly answer: Partial<ExecResult> = {}) {}
  async connect() {}
  async close() {}
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ command, options });
    return { stdout: '', stderr: '', code: 0, durationMs: 1, ...this.answer };
  }
  async put() {}
  async get() {
    return Buffer.from('');
  }
}

describe('ctx.$ quoting against the real /bin/sh', () => {
  const values = [
    "it's",
    'two words',
    '$(touch /tmp/drover-pwned)',
    '`id`',
    'a\nb\n',
    '*',
    '',
    '-n',
    'naïve ☃',
    '\\back\\slash',
    '"double"',
    '; rm -rf /nonexistent;',
  ];
  for (const v of values) {
    it(`passes ${JSON.stringify(v)} through unchanged`, async () => {
      const out = await $`printf %s ${v}`;
      expect(out.stdout).toBe(v);
    });
  }

  it('expands an array to one word per element, as zx does', async () => {
    const out = await $`printf '<%s>' ${['a b', "c'd", '']}`;
    expect(out.stdout).toBe("<a b><c'd><>");
  });

  it('sh builds the same quoted string for ops that take a command', async () => {
    const v = "it's $(x)";
    const cmd = sh`printf %s ${v} ${['a b']}`;
    expect(cmd).toBe(`printf %s 'it'\\''s $(x)' 'a b'`);
    expect((await local.exec(cmd)).stdout).toBe(`it's $(x)a b`);
  });

  it('interpolates a previous output as its trimmed stdout', async () => {
    const first = await $`echo 'x y'`;
    const out = await $`printf %s ${first}`;
    expect(out.stdout).toBe('x y');
  });

  it('refuses a template piece JavaScript could not cook instead of dropping it', () => {
    const bad = (s: TemplateStringsArray, ...v: unknown[]) => buildCommand(s, v);
    expect(() => bad`printf '%s\001' ${'x'}`).toThrow(/after value #0 has an escape JavaScript does not accept/);
    expect(bad`printf '%s\\001' ${'x'}`).toBe("printf '%s\\001' x");
  });

  it('refuses undefined instead of running a command with a missing word', () => {
    expect(() => buildCommand(['rm -rf /srv/', ''], [undefined])).toThrow(/value #1 is undefined/);
  });
});

describe('ctx.$ results', () => {
  it("is zx's ProcessOutput", async () => {
    const out = await $`echo '{"a":1}'`;
    expect(out).toBeInstanceOf(ProcessOutput);
    expect(out.ok).toBe(true);
    expect(out.exitCode).toBe(0);
    expect(out.json()).toEqual({ a: 1 });
    expect((await $`printf 'a\nb\n'`).lines()).toEqual(['a', 'b']);
  });

  it('rejects with the output on a non-zero exit, and describes it for the task message', async () => {
    const err = await $`echo oops >&2; exit 3`.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProcessOutput);
    expect((err as ProcessOutput).exitCode).toBe(3);
    expect(describeFailure(err)).toBe('command failed (rc 3): oops');
  });

  it('nothrow() resolves with the failure', async () => {
    const out = await $`exit 4`.nothrow();
    expect(out.exitCode).toBe(4);
    expect(out.ok).toBe(false);
  });

  it('timeout() kills the command and reports it as a failure', async () => {
    const out = await $`sleep 5`.timeout(200).nothrow();
    expect(out.ok).toBe(false);
    expect(out.stderr).toMatch(/timed out/);
  });

  it('runs once however often it is awaited', async () => {
    const t = new Recorder();
    const s = hostShell({ transport: t, become: false, log: () => {} });
    const cmd = s`true`;
    await cmd;
    await cmd;
    expect(t.calls).toHaveLength(1);
  });
});

describe('ctx.$ options reach the transport', () => {
  it('uses the context become unless .sudo() says otherwise', async () => {
    const t = new Recorder();
    const s = hostShell({ transport: t, become: true, log: () => {} });
    await s`a`;
    await s`b`.sudo(false);
    const s2 = hostShell({ transport: t, become: false, log: () => {} });
    await s2`c`;
    await s2`d`.sudo({ user: 'postgres' });
    expect(t.calls.map((c) => c.options.sudo)).toEqual([true, false, false, { user: 'postgres' }]);
  });

  it('marks $.read as a probe (read ahead, allowed in --check), plain $ not', async () => {
    const t = new Recorder();
    const s = hostShell({ transport: t, become: false, log: () => {} });
    await s.read`cat ${'/etc/hostname'}`;
    await s`touch ${'/tmp/x'}`;
    await s.read`systemctl is-active k3s`.fresh();
    expect(t.calls.map((c) => [c.command, c.options.probe ?? false, c.options.fresh ?? false])).toEqual([
      ['cat /etc/hostname', true, false],
      ['touch /tmp/x', false, false],
      ['systemctl is-active k3s', true, true],
    ]);
  });

  it('passes stdin, env and timeout; quiet() keeps the command out of the log', async () => {
    const t = new Recorder();
    const logs: string[] = [];
    const s = hostShell({ transport: t, become: false, log: (m) => logs.push(m) });
    await s`cat`.stdin('data').env({ A: '1' }).timeout(5000);
    await s`secret-thing`.quiet();
    expect(t.calls[0]!.options).toMatchObject({ stdin: 'data', env: { A: '1' }, timeoutMs: 5000 });
    expect(logs).toEqual(['$ cat']);
  });
});
