// The put script run with the local /bin/sh on a temp dir: the same script the transports
// send, so atomicity, modes and validation are checked on a real filesystem.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecResult, PutOptions } from '../../../lib/transport/types.ts';
import { buildPutScript, formatMode, interpretPutResult, splitPath, tempPathFor } from '../../../lib/transport/put-script.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drv-put-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function put(path: string, content: string | Buffer, options: PutOptions = {}): ExecResult {
  const r = spawnSync('/bin/sh', ['-c', buildPutScript(path, options)], { input: content });
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString(), code: r.status, durationMs: 0 };
}
const mode = (p: string) => statSync(p).mode & 0o7777;

describe('put script', () => {
  it('writes the content, applies the mode and leaves no temp file', () => {
    const f = join(dir, 'app.conf');
    expect(interpretPutResult(put(f, 'a=1\n', { mode: '0640' }))).toEqual({ kind: 'ok' });
    expect(readFileSync(f, 'utf8')).toBe('a=1\n');
    expect(mode(f)).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['app.conf']);
  });

  it('replaces by rename: a reader holding the old file keeps the old content', () => {
    const f = join(dir, 'x');
    writeFileSync(f, 'old');
    const inodeBefore = statSync(f).ino;
    put(f, 'new', { mode: 0o644 });
    expect(readFileSync(f, 'utf8')).toBe('new');
    expect(statSync(f).ino).not.toBe(inodeBefore);
  });

  it('keeps an existing file mode when none is given, and uses the umask default for a new file', () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'x', { mode: 0o600 });
    put(secret, 'y');
    expect(mode(secret)).toBe(0o600);
    const fresh = join(dir, 'fresh');
    put(fresh, 'z');
    expect(mode(fresh)).toBe(0o666 & ~process.umask());
  });

  it('on validation failure removes the temp file, leaves the target untouched and reports the output', () => {
    const f = join(dir, 'haproxy.cfg');
    writeFileSync(f, 'good\n', { mode: 0o644 });
    const r = put(f, 'bad\n', { validate: 'grep -q good %s || { echo "config invalid: $(cat %s)" >&2; exit 3; }' });
    const out = interpretPutResult(r);
    expect(out.kind).toBe('validate-failed');
    if (out.kind === 'validate-failed') {
      expect(out.result.code).toBe(3);
      expect(out.result.stderr).toBe('config invalid: bad\n');
    }
    expect(readFileSync(f, 'utf8')).toBe('good\n');
    expect(readdirSync(dir)).toEqual(['haproxy.cfg']);
  });

  it('validates the temp file in the target directory, then installs it', () => {
    const f = join(dir, 'ok.cfg');
    const r = put(f, 'good\n', { validate: `case %s in ${dir}/.ok.cfg.drover-*) grep -q good %s ;; *) exit 9 ;; esac` });
    expect(interpretPutResult(r)).toEqual({ kind: 'ok' });
    expect(readFileSync(f, 'utf8')).toBe('good\n');
  });

  it('appends the temp path when validate has no %s', () => {
    const f = join(dir, 'v');
    expect(interpretPutResult(put(f, 'x', { validate: 'test -s' })).kind).toBe('ok');
    expect(interpretPutResult(put(f, '', { validate: 'test -s' })).kind).toBe('validate-failed');
  });

  it('creates parent directories only with mkdirs', () => {
    const f = join(dir, 'a', 'b', 'c.txt');
    const r = interpretPutResult(put(f, 'x'));
    expect(r.kind).toBe('failed');
    expect(interpretPutResult(put(f, 'x', { mkdirs: true }))).toEqual({ kind: 'ok' });
    expect(readFileSync(f, 'utf8')).toBe('x');
  });

  it('handles paths with spaces and quotes, and binary content byte for byte', () => {
    const f = join(dir, `it's a "file".bin`);
    const bin = Buffer.from([0, 1, 2, 255, 10, 13, 0, 128]);
    expect(interpretPutResult(put(f, bin))).toEqual({ kind: 'ok' });
    expect(readFileSync(f).equals(bin)).toBe(true);
  });

  it('sets owner and group', () => {
    const f = join(dir, 'owned');
    expect(interpretPutResult(put(f, 'x', { owner: 'nobody', group: 'nogroup' }))).toEqual({ kind: 'ok' });
    const st = statSync(f);
    const id = (args: string[]) => Number(spawnSync('id', args, { encoding: 'utf8' }).stdout.trim());
    expect(st.uid).toBe(id(['-u', 'nobody']));
    const failed = interpretPutResult(put(f, 'x', { owner: 'no-such-user-drv' }));
    expect(failed.kind).toBe('failed');
    expect(readFileSync(f, 'utf8')).toBe('x');
  });
});

describe('helpers', () => {
  it('splitPath and tempPathFor keep the temp file beside the target', () => {
    expect(splitPath('/etc/app/x.conf')).toEqual({ dir: '/etc/app', base: 'x.conf' });
    expect(splitPath('/x')).toEqual({ dir: '/', base: 'x' });
    expect(splitPath('rel')).toEqual({ dir: '.', base: 'rel' });
    expect(tempPathFor('/etc/app/x.conf', 'r4nd')).toBe('/etc/app/.x.conf.drover-r4nd');
    expect(tempPathFor('/x', 'r')).toBe('/.x.drover-r');
    expect(() => splitPath('/etc/')).not.toThrow();
    expect(() => splitPath('')).toThrow();
  });
  it('formatMode accepts octal strings, numbers and symbolic modes only', () => {
    expect(formatMode(0o644)).toBe('0644');
    expect(formatMode('600')).toBe('600');
    expect(formatMode('u=rw,go=r')).toBe('u=rw,go=r');
    expect(() => formatMode('rm -rf /')).toThrow();
    expect(() => formatMode(0o17777)).toThrow();
  });
});

describe('put script: an upload cut short', () => {
  it('leaves the target untouched and no temp file when fewer bytes arrive than were sent', () => {
    const f = join(dir, 'big.conf');
    writeFileSync(f, 'old content\n');
    // The connection died after 5 of the 1000 bytes: cat saw end of input early.
    const r = spawnSync('/bin/sh', ['-c', buildPutScript(f, { mode: '0600' }, undefined, 1000)], { input: 'trunc' });
    expect(r.status).toBe(1);
    expect(r.stderr.toString()).toContain('upload cut short: 5 of 1000 bytes received; target left unchanged');
    expect(readFileSync(f, 'utf8')).toBe('old content\n');
    expect(readdirSync(dir)).toEqual(['big.conf']);
  });

  it('renames when every byte arrived', () => {
    const f = join(dir, 'big.conf');
    const content = Buffer.from('é'.repeat(500));
    const r = spawnSync('/bin/sh', ['-c', buildPutScript(f, {}, undefined, content.length)], { input: content });
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(readFileSync(f)).toEqual(content);
  });
});
