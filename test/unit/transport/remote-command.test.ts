// buildCommand is checked by running its output with the local /bin/sh (dash on Debian),
// and the sudo password path against a fake sudo that behaves like the real one
// (-n fails without cached credentials, -S reads one line, wrong password -> exit 1).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCommand, innerScript, killScript, resolveBecome, sudoFailureHint, type CommandSpec } from '../../../lib/transport/remote-command.ts';

let dir: string;
const PASSWORD = 'right pass $(touch /tmp/pwned) \'"`';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drv-rc-'));
  const fake = `#!/bin/sh
printf '%s\\n' "sudo $*" >> "$FAKE_DIR/argv"
n=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=1 ;; -S|-H|-k) ;; -p|-u) shift ;; --) shift; break ;; *) break ;;
  esac
  shift
done
[ -n "$FAKE_NOPASSWD" ] && exec "$@"
[ -f "$FAKE_DIR/cached-$PPID" ] && exec "$@"
if [ $n = 1 ]; then echo "sudo: a password is required" >&2; exit 1; fi
IFS= read -r pw || pw=
if [ "$pw" = "$FAKE_PASSWORD" ]; then
  [ -n "$FAKE_CACHE" ] && : > "$FAKE_DIR/cached-$PPID"
  exec "$@"
fi
echo "Sorry, try again." >&2
echo "sudo: 1 incorrect password attempt" >&2
exit 1
`;
  writeFileSync(join(dir, 'sudo'), fake);
  chmodSync(join(dir, 'sudo'), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(spec: CommandSpec, stdin = '', env: Record<string, string> = {}) {
  const built = buildCommand(spec);
  const r = spawnSync('/bin/sh', ['-c', built.line], {
    input: (built.stdinPrefix ?? '') + stdin,
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FAKE_DIR: dir, FAKE_PASSWORD: PASSWORD, ...env },
    encoding: 'utf8',
  });
  return { built, code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const noBecome = { become: null, loginIsRoot: false } as const;

describe('buildCommand without become', () => {
  it('passes env values through sh untouched: $HOME, quotes, backslashes, newlines', () => {
    const tricky = `$HOME 'single' "double" \\back \`tick\` $(nope)\nline2`;
    const r = run({ ...noBecome, command: 'printf "%s|%s" "$A" "$B"', env: { A: tricky, B: '' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${tricky}|`);
  });
  it('runs in cwd and fails cleanly when cwd is missing', () => {
    expect(run({ ...noBecome, command: 'pwd', cwd: dir }).stdout.trim()).toBe(dir);
    const r = run({ ...noBecome, command: 'echo should-not-run', cwd: join(dir, 'nope') });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
  });
  it('keeps multi-line commands and exit codes, and gives stdin to the command', () => {
    const r = run({ ...noBecome, command: 'read x\necho "got $x"\nexit 7' }, 'hello\n');
    expect(r).toMatchObject({ code: 7, stdout: 'got hello\n' });
  });
  it('puts the marker into the environment of the shell itself', () => {
    const r = run({ ...noBecome, command: `tr '\\000' '\\n' < /proc/$$/environ | grep '^DROVER_EXEC='`, marker: 'abc123' });
    expect(r.stdout.trim()).toBe('DROVER_EXEC=abc123');
  });
  it('rejects invalid env names', () => {
    expect(() => buildCommand({ ...noBecome, command: 'true', env: { 'A-B': 'x' } })).toThrow(/invalid environment variable/);
  });
  it('innerScript puts env before cd before the command', () => {
    expect(innerScript({ command: 'ls', env: { A: 'b c' }, cwd: '/tmp' })).toBe("export A='b c'; cd /tmp || exit 1\nls");
  });
});

describe('become', () => {
  it('needs no sudo to become root when the login user is root, and uses su for others', () => {
    expect(buildCommand({ command: 'id', become: { user: 'root' }, loginIsRoot: true }).line).not.toMatch(/sudo|su /);
    const su = buildCommand({ command: 'id', become: { user: 'postgres' }, loginIsRoot: true });
    expect(su.line).toMatch(/^su -s \/bin\/sh -c .* postgres$/);
    expect(su.viaSudo).toBe(false);
  });

  it('uses sudo -n without a password', () => {
    const b = buildCommand({ command: 'id', become: { user: 'root' }, loginIsRoot: false });
    expect(b.line).toMatch(/^sudo -n -H -u root -- sh -c /);
    expect(b.stdinPrefix).toBeUndefined();
    const r = run({ command: 'id', become: { user: 'root' }, loginIsRoot: false });
    expect(r.code).toBe(1);
    expect(sudoFailureHint(r.stderr, r.code, 'h1')).toMatch(/needs a password/);
  });

  it('never puts the password on a command line; feeds it as the first stdin line', () => {
    const r = run({ command: 'cat', become: { user: 'root', password: PASSWORD }, loginIsRoot: false }, 'payload\nmore\n');
    expect(r.built.line).not.toContain(PASSWORD);
    expect(r.built.stdinPrefix).toBe(`${PASSWORD}\n`);
    expect(r).toMatchObject({ code: 0, stdout: 'payload\nmore\n' });
    expect(readFileSync(join(dir, 'argv'), 'utf8')).not.toContain('right pass');
    expect(existsSync('/tmp/pwned')).toBe(false);
  });

  it('gives the command its stdin intact when sudo needs no password (NOPASSWD)', () => {
    const r = run({ command: 'cat', become: { user: 'root', password: PASSWORD }, loginIsRoot: false }, 'data\n', { FAKE_NOPASSWD: '1' });
    expect(r).toMatchObject({ code: 0, stdout: 'data\n' });
  });

  it('uses cached credentials after the password check when sudo keeps them', () => {
    const r = run({ command: 'cat', become: { user: 'root', password: PASSWORD }, loginIsRoot: false }, 'cached\n', { FAKE_CACHE: '1' });
    expect(r).toMatchObject({ code: 0, stdout: 'cached\n' });
  });

  it('fails clearly on a wrong password, without running the command or echoing the password', () => {
    const wrong = 'wrong-secret-pw';
    const r = run({ command: 'echo RAN', become: { user: 'root', password: wrong }, loginIsRoot: false }, 'x\n');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/drover: sudo -u root as \S+ failed: wrong become password/);
    expect(r.stderr).not.toContain(wrong);
    expect(sudoFailureHint(r.stderr, r.code, 'h')).toBeNull(); // already clear: no second line
  });

  it('refuses a password with a newline (it would end the password line early)', () => {
    expect(() => buildCommand({ command: 'id', become: { user: 'root', password: 'a\nb' }, loginIsRoot: false })).toThrow(/newline/);
  });
});

describe('resolveBecome', () => {
  const d = { become: false, becomeUser: 'root', becomePassword: 'hostpw' };
  it('follows the host default when sudo is not given', () => {
    expect(resolveBecome(undefined, d)).toBeNull();
    expect(resolveBecome(undefined, { ...d, become: true })).toEqual({ user: 'root', password: 'hostpw' });
  });
  it('true uses the host settings, an object overrides them, false disables', () => {
    expect(resolveBecome(true, d)).toEqual({ user: 'root', password: 'hostpw' });
    expect(resolveBecome({ user: 'pg', password: 'p2' }, d)).toEqual({ user: 'pg', password: 'p2' });
    expect(resolveBecome(false, { ...d, become: true })).toBeNull();
    expect(resolveBecome(true, { become: false, becomeUser: 'root' })).toEqual({ user: 'root' });
  });
});

describe('killScript', () => {
  it('kills every process carrying the marker and nothing else', async () => {
    const { spawn } = await import('node:child_process');
    const victim = spawn('/bin/sh', ['-c', 'sleep 30 & sleep 30; wait'], { env: { ...process.env, DROVER_EXEC: 'victim01' }, stdio: 'ignore' });
    const bystander = spawn('/bin/sh', ['-c', 'sleep 30'], { env: { ...process.env, DROVER_EXEC: 'victim02' }, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    const pidsWith = (m: string) =>
      spawnSync('/bin/sh', ['-c', `grep -l -x -z -F 'DROVER_EXEC=${m}' /proc/[0-9]*/environ 2>/dev/null | wc -l`], { encoding: 'utf8' }).stdout.trim();
    expect(Number(pidsWith('victim01'))).toBeGreaterThanOrEqual(3);
    spawnSync('/bin/sh', ['-c', killScript('victim01')]);
    await new Promise((r) => setTimeout(r, 200));
    expect(pidsWith('victim01')).toBe('0');
    expect(victim.exitCode !== null || victim.signalCode !== null).toBe(true);
    // Another exec's marker (same length: real markers are 16 random hex digits, so one is
    // never a substring of another) is left alone.
    expect(Number(pidsWith('victim02'))).toBeGreaterThanOrEqual(1);
    expect(bystander.exitCode).toBeNull();
    bystander.kill('SIGKILL');
  });
});
