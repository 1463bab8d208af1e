// Shell quoting, property-tested against the real /bin/sh (dash on Debian): for every path a
// variable takes into a host command, the command sees exactly the value. Values are drawn
// (fast-check, seeded) from quotes, $(...), backticks, newlines, globs, operators, non-ASCII
// and NUL-free binary (every code point but NUL and lone surrogates, which a command string
// cannot carry). Paths: quote() and quoteArgs() (lib/shell/quote.ts), env inlining
// (envPrefix), cwd, the command line the transports build (remote-command.ts) both as the
// login shell's `sh -c` line and inline in the pipelined shell's `eval` wrapper, with and
// without the kill marker, through su and through sudo (with a password on stdin too), and
// ctx.$ (lib/ops/shell.ts) over the local transport, with arrays and .env(). The counts are
// printed for the record (issue 13).
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { ClientChannel } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostShell } from '../../../lib/ops/shell.ts';
import { envPrefix, quote, quoteArgs } from '../../../lib/shell/quote.ts';
import { LocalTransport } from '../../../lib/transport/local.ts';
import { PipelinedShell } from '../../../lib/transport/pipelined-shell.ts';
import { buildCommand, type Become } from '../../../lib/transport/remote-command.ts';

const SEED = Number(process.env.DROVER_FUZZ_SEED ?? 13);
const RUNS = Number(process.env.DROVER_QUOTE_RUNS ?? 100);
const counts = new Map<string, number>();
const count = (path: string) => counts.set(path, (counts.get(path) ?? 0) + 1);

const SPECIAL = ["'", '"', '$', '$(id)', '${HOME}', '`id`', '\\', '\n', '\r', '\t', ' ', '*', '?', '[a]', '~', '#', ';', '&&', '|', '<', '>', '!', '{', '}', '%s', '%', '-n', '--', '=', "'\\''", 'é', 'ß', '日本', '💥', '\u00a0', '\u2028', '\x01', '\x7f', '\x1b[31m'];
/** Code points 1..0x10FFFF without lone surrogates: what a command string can hold. */
const anyChar = fc.oneof(
  fc.integer({ min: 1, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0x10ffff }),
).map((c) => String.fromCodePoint(c));
const value = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...SPECIAL), { maxLength: 12 }).map((a) => a.join('')) },
  { weight: 2, arbitrary: fc.array(anyChar, { maxLength: 40 }).map((a) => a.join('')) },
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.constantFrom(...SPECIAL), anyChar, fc.constantFrom('a', 'b', '0', '_')), { maxLength: 30 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')) },
);

/** A PipelinedShell over a local `sh`, as `exec sh` on a host would be. */
function localPipelinedShell(): { shell: PipelinedShell; proc: ChildProcessWithoutNullStreams } {
  const proc = spawn('/bin/sh', [], { stdio: ['pipe', 'pipe', 'pipe'] });
  const ch = Object.assign(new EventEmitter(), {
    stderr: new EventEmitter(),
    write: (s: string) => proc.stdin.write(s),
    end: () => proc.stdin.end(),
  });
  proc.stdout.on('data', (d: Buffer) => ch.emit('data', d));
  proc.stderr.on('data', (d: Buffer) => ch.stderr.emit('data', d));
  proc.on('close', () => ch.emit('close'));
  return { shell: new PipelinedShell(ch as unknown as ClientChannel), proc };
}

/** Run a login-shell line the way sshd does (`sh -c <line>`), with stdin. */
function viaLoginShell(line: string, stdin?: string): string {
  const r = spawnSync('/bin/sh', ['-c', line], { input: stdin ?? '', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr.toString()}`);
  return r.stdout.toString('utf8');
}

let piped: { shell: PipelinedShell; proc: ChildProcessWithoutNullStreams };
let dir: string;
const local = new LocalTransport({ name: 'local', become: false, becomeUser: 'root' });
const isRoot = process.getuid?.() === 0;
const hasSudo = spawnSync('sh', ['-c', 'command -v sudo']).status === 0;

beforeAll(() => {
  piped = localPipelinedShell();
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'drover-quote-')));
});
afterAll(async () => {
  piped.proc.kill('SIGKILL');
  await local.close();
  rmSync(dir, { recursive: true, force: true });
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`shell quoting against ${realpathSync('/bin/sh')} (seed ${SEED}): ${total} cases, every value seen exactly\n${[...counts].map(([p, n]) => `  ${String(n).padStart(5)}  ${p}`).join('\n')}`);
});

async function pipelined(text: string): Promise<string> {
  const r = await piped.shell.run(text);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.toString()}`);
  return r.stdout.toString('utf8');
}

const opts = (n: number) => ({ seed: SEED, numRuns: n, endOnFailure: true });

describe('a value reaches the command exactly', () => {
  it('quote() and quoteArgs(), in the login shell line and inline in the pipelined shell (eval wrapper), with and without the kill marker', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(value, fc.array(value, { maxLength: 4 }), fc.boolean(), async (v, list, marked) => {
        const spec = { command: `printf '%s' ${quote(v)}`, become: null, loginIsRoot: true, ...(marked ? { marker: 'c0ffee' } : {}) };
        const built = buildCommand(spec);
        expect(viaLoginShell(built.line)).toBe(v);
        count('quote(): login shell line (sh -c, ssh session)');
        expect(await pipelined(built.inline!)).toBe(v);
        count('quote(): pipelined shell, inline in eval');
        expect(await pipelined(built.line)).toBe(v);
        count('quote(): pipelined shell, sh -c line in eval');
        // NUL after each word: values never hold one. No words: printf runs its format once.
        const args = buildCommand({ command: `printf '%s\\0' ${quoteArgs(list)}`, become: null, loginIsRoot: true }).inline!;
        const out = await pipelined(args);
        expect(list.length ? out.split('\0').slice(0, -1) : out).toEqual(list.length ? list : '\0');
        count('quoteArgs(): several words, pipelined');
      }),
      opts(RUNS),
    );
  });

  it('env values (inlined as export K=...) and cwd names', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(value, value, async (v, name) => {
        const built = buildCommand({ command: `printf '%s' "$V"`, env: { V: v, W: name }, become: null, loginIsRoot: true });
        expect(viaLoginShell(built.line)).toBe(v);
        expect(await pipelined(built.inline!)).toBe(v);
        expect(viaLoginShell(`${envPrefix({ V: v })}printf '%s' "$V"`)).toBe(v);
        count('env inlining (envPrefix), login line + pipelined');
        // A directory named by the value (a file name holds any byte but NUL and '/').
        const base = name.replace(/\//g, '_').slice(0, 60);
        if (base === '' || base === '.' || base === '..' || Buffer.byteLength(base) > 255) return;
        const cwd = join(dir, base);
        mkdirSync(cwd, { recursive: true });
        const inDir = buildCommand({ command: 'pwd -P', cwd, become: null, loginIsRoot: true });
        expect(await pipelined(inDir.inline!)).toBe(`${cwd}\n`);
        count('cwd (cd <quoted>), pipelined');
      }),
      opts(RUNS),
    );
  });

  it.runIf(isRoot)('through su (root becoming another user) and sudo (with and without a password on stdin)', { timeout: 120_000 }, async () => {
    const nobody: Become = { user: 'nobody' };
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const su = buildCommand({ command: `printf '%s' ${quote(v)}`, env: { V: v }, become: nobody, loginIsRoot: true, marker: 'beef' });
        expect(viaLoginShell(su.line)).toBe(v);
        count('su -s /bin/sh -c (root login, become another user)');
        if (!hasSudo) return;
        const sudo = buildCommand({ command: `printf '%s|%s' ${quote(v)} "$V"`, env: { V: v }, become: nobody, loginIsRoot: false });
        expect(viaLoginShell(sudo.line)).toBe(`${v}|${v}`);
        count('sudo -n -u (non-root login)');
        const pw = buildCommand({ command: `printf '%s' ${quote(v)}; cat`, become: { user: 'nobody', password: 'pw' }, loginIsRoot: false });
        expect(viaLoginShell(pw.line, `${pw.stdinPrefix}and stdin`)).toBe(`${v}and stdin`);
        count('sudo with the password on stdin (wrapper script)');
      }),
      opts(Math.ceil(RUNS / 4)),
    );
  });

  it('ctx.$ over the local transport: values, arrays (one word each) and .env()', { timeout: 120_000 }, async () => {
    const $ = hostShell({ transport: local, become: false, log: () => {} });
    await fc.assert(
      fc.asyncProperty(value, fc.array(value, { minLength: 1, maxLength: 4 }), async (v, list) => {
        expect((await $`printf '%s' ${v}`).stdout).toBe(v);
        expect((await $.read`printf '%s\\0' ${list}`).stdout.split('\0').slice(0, -1)).toEqual(list);
        expect((await $`printf '%s' "$V"`.env({ V: v })).stdout).toBe(v);
        count('ctx.$ (value, array, .env) over the local transport');
      }),
      opts(Math.ceil(RUNS / 4)),
    );
  });
});

describe('the quoting never leaves a shell waiting', () => {
  it('no value can open a quote that the pipelined shell would wait on (an unquoted typo fails at once instead)', async () => {
    const r = await piped.shell.run(`echo 'unterminated`);
    expect(r.code).toBe(2);
    expect(execFileSync('/bin/sh', ['-c', `printf '%s' ${quote("it's")}`]).toString()).toBe("it's");
  });
});
