// file, template, directory, absent, link: scripted probes (FakeTransport) plus a few
// end-to-end runs in the local dash on temp files.
import { mkdtemp, readFile, rm, stat, writeFile, mkdir, readlink, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absent, decideAbsent } from '../../../lib/ops/absent.ts';
import { decideDirectory, directory } from '../../../lib/ops/directory.ts';
import { decideFile, file } from '../../../lib/ops/file.ts';
import { decideLink, link } from '../../../lib/ops/link.ts';
import { template } from '../../../lib/ops/template.ts';
import { PutValidateError, type PutOptions } from '../../../lib/transport/types.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { expectOnlyProbes, fileOut, makeCtx } from './helpers.ts';
import { LocalShell } from './local-shell.ts';

describe('file', () => {
  it('already correct: ok, one probe exec, no put', async () => {
    const { ctx, t } = makeCtx();
    t.on('p=/etc/motd', { stdout: fileOut({ content: 'hi\n', mode: '644' }) });
    const r = await file('/etc/motd', 'hi\n', { mode: '0644', owner: 'root' })(ctx);
    expect(r).toMatchObject({ status: 'ok', msg: '/etc/motd is up to date' });
    expect(t.execs).toHaveLength(1);
    expect(t.files.size).toBe(0);
  });

  it('different content: one put keeping the existing mode/owner, with a diff under --diff', async () => {
    const { ctx, t } = makeCtx({ diff: true });
    t.on('p=/etc/motd', { stdout: fileOut({ content: 'old\n', mode: '640', uid: 0, gid: 4, withContent: true }) });
    const r = await file('/etc/motd', 'new\n')(ctx);
    expect(r.status).toBe('changed');
    expect(r.msg).toBe('update /etc/motd (content)');
    expect(r.diff).toEqual([{ path: '/etc/motd', before: 'old\n', after: 'new\n' }]);
    expect(r.commands).toBeUndefined();
    const put = t.files.get('/etc/motd');
    expect(put?.content.toString()).toBe('new\n');
    expect(put?.options).toMatchObject({ mode: '0640', owner: '0', group: '4', mkdirs: true });
    // The probe asked for the content because --diff is on.
    expect(t.commands[0]).toContain('__DROVER_CONTENT__');
  });

  it('only the mode differs: exactly one chmod, no put', async () => {
    const { ctx, t } = makeCtx();
    t.on('p=/etc/app.conf', { stdout: fileOut({ content: 'x', mode: '644' }) });
    const r = await file('/etc/app.conf', 'x', { mode: 0o600, owner: 'app', group: 'app' })(ctx);
    expect(r.status).toBe('changed');
    expect(r.commands).toEqual(['chmod 0600 /etc/app.conf', 'chown app:app /etc/app.conf']);
    expect(t.commands[1]).toBe('chmod 0600 /etc/app.conf && chown app:app /etc/app.conf');
    expect(t.files.size).toBe(0);
  });

  it('owner given by numeric id matches the probed uid', () => {
    const d = decideFile({ type: 'file', sha256: 'x', uid: 1000, owner: 'alice', gid: 1000, group: 'alice', mode: 0o644 }, {
      path: '/p',
      content: 'c',
      owner: '1000',
      group: 'alice',
      diff: false,
      preserveOwner: true,
    });
    // sha differs (x), so it writes; the owner is kept as given.
    expect(d.put?.owner).toBe('1000');
  });

  it('check mode: reports would-change with the diff, writes nothing', async () => {
    const { ctx, t } = makeCtx({ check: true, diff: true });
    t.on('p=/etc/new', { stdout: fileOut({ type: 'absent' }) });
    const r = await file('/etc/new', 'a\n', { mode: '0600' })(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'would create /etc/new' });
    expect(r.diff).toEqual([{ path: '/etc/new', before: '', after: 'a\n' }]);
    expectOnlyProbes(t);
  });

  it('check mode with attribute changes lists the commands without running them', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('p=/x', { stdout: fileOut({ content: 'x', mode: '644' }) });
    const r = await file('/x', 'x', { mode: '0640' })(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'would update /x (mode 0640)', commands: ['chmod 0640 /x'] });
    expectOnlyProbes(t);
  });

  it('noLog: no diff even under --diff, and the probe does not read the content', async () => {
    const { ctx, t } = makeCtx({ diff: true });
    t.on('p=/etc/secret', { stdout: fileOut({ content: 'old-pass' }) });
    const r = await file('/etc/secret', 'new-pass', { noLog: true, mode: '0600' })(ctx);
    expect(r.status).toBe('changed');
    expect(r.diff).toBeUndefined();
    expect(t.commands[0]).not.toContain('__DROVER_CONTENT__');
    expect(JSON.stringify(r)).not.toContain('pass');
  });

  it('fails on a directory in the way, on a bad mode, and on a failing probe', async () => {
    const { ctx, t } = makeCtx();
    t.on('p=/etc/d', { stdout: fileOut({ type: 'directory' }) });
    t.on('p=/root/x', { code: 3, stderr: 'sha256sum: Permission denied' });
    expect(await file('/etc/d', 'x')(ctx)).toMatchObject({ status: 'failed', msg: '/etc/d is a directory' });
    expect((await file('/etc/m', 'x', { mode: 'rw-r--r--' })(ctx)).status).toBe('failed');
    const r = await file('/root/x', 'x')(ctx);
    expect(r).toMatchObject({ status: 'failed', rc: 3, stderr: 'sha256sum: Permission denied' });
    expect(r.msg).toContain('Permission denied');
  });

  it('a failing validate leaves the file alone and reports failed with the output', async () => {
    class Rejecting extends FakeTransport {
      override async put(path: string, _c: string | Buffer, o?: PutOptions): Promise<void> {
        throw new PutValidateError(path, { stdout: '', stderr: `bad config (${o?.validate})`, code: 1, durationMs: 0 });
      }
    }
    const t = new Rejecting('n');
    t.on('p=', { stdout: fileOut({ type: 'absent' }) });
    const { ctx } = makeCtx({ transport: t });
    const r = await file('/etc/haproxy/haproxy.cfg', 'x', { validate: 'haproxy -c -f %s' })(ctx);
    expect(r).toMatchObject({ status: 'failed', rc: 1 });
    expect(r.msg).toContain('validation of /etc/haproxy/haproxy.cfg failed');
    expect(r.stderr).toContain('haproxy -c -f %s');
  });

  it('passes become to the probe and the put', async () => {
    const { ctx, t } = makeCtx({ become: true, facts: { uid: 1000 } });
    t.on('p=', { stdout: fileOut({ type: 'absent' }) });
    await file('/etc/x', 'x')(ctx);
    expect(t.execs[0]!.options?.sudo).toBe(true);
    expect(t.files.get('/etc/x')!.options?.sudo).toBe(true);
  });

  it('replacing a symlink says so', () => {
    expect(decideFile({ type: 'link', target: '/a' }, { path: '/p', content: 'c', diff: false, preserveOwner: true }).msg).toBe(
      'replace symlink /p with a file',
    );
  });
});

describe('template', () => {
  it('renders typed vars into the file', async () => {
    const { ctx, t } = makeCtx();
    t.on('p=', { stdout: fileOut({ type: 'absent' }) });
    const r = await template('/etc/app.conf', (v: { port: number }) => `port=${v.port}\n`, { port: 8080 })(ctx);
    expect(r.status).toBe('changed');
    expect(t.files.get('/etc/app.conf')!.content.toString()).toBe('port=8080\n');
  });

  it('a render error is a failed result, not a throw', async () => {
    const { ctx, t } = makeCtx();
    const r = await template('/x', () => {
      throw new Error('missing var');
    }, {})(ctx);
    expect(r).toMatchObject({ status: 'failed', msg: 'template for /x failed to render: missing var' });
    expect(t.execs).toHaveLength(0);
  });
});

describe('directory', () => {
  it('exists with the right attributes: ok', async () => {
    const { ctx, t } = makeCtx();
    t.on('p=/var/lib/app', { stdout: fileOut({ type: 'directory', mode: '750', owner: 'app', uid: 999 }) });
    expect((await directory('/var/lib/app', { mode: '0750', owner: 'app' })(ctx)).status).toBe('ok');
    expect(t.execs).toHaveLength(1);
  });

  it('missing: mkdir -p then chmod/chown', () => {
    expect(decideDirectory({ type: 'absent' }, { path: '/srv/a b', mode: 0o700, owner: 'x', group: 'y' }).commands).toEqual([
      "mkdir -p '/srv/a b'",
      "chmod 0700 '/srv/a b'",
      "chown x:y '/srv/a b'",
    ]);
  });

  it('a file in the way fails; check mode runs nothing', async () => {
    expect(decideDirectory({ type: 'file' }, { path: '/a' }).fail).toBe('/a exists and is not a directory');
    const { ctx, t } = makeCtx({ check: true });
    t.on('p=', { stdout: fileOut({ type: 'absent' }) });
    const r = await directory('/srv/x')(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'would create /srv/x', commands: ['mkdir -p /srv/x'] });
    expectOnlyProbes(t);
  });
});

describe('absent', () => {
  it('already absent: ok; present: rm; directory: rm -rf', async () => {
    expect(decideAbsent({ type: 'absent' }, '/x')).toMatchObject({ change: false });
    expect(decideAbsent({ type: 'file' }, '/x').commands).toEqual(['rm -f /x']);
    expect(decideAbsent({ type: 'directory' }, '/x y').commands).toEqual(["rm -rf '/x y'"]);
  });

  it('refuses / and relative or dotted paths without running anything', async () => {
    for (const p of ['/', '//', 'etc', '/etc/..', '/a/./b']) {
      const { ctx, t } = makeCtx();
      expect((await absent(p)(ctx)).status).toBe('failed');
      expect(t.execs).toHaveLength(0);
    }
  });

  it('check mode: would remove, only the probe ran', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('p=', { stdout: fileOut({ type: 'directory' }) });
    expect(await absent('/opt/old')(ctx)).toMatchObject({ status: 'changed', msg: 'would remove directory /opt/old', commands: ['rm -rf /opt/old'] });
    expectOnlyProbes(t);
  });
});

describe('link', () => {
  it('decides per state', () => {
    expect(decideLink({ type: 'link', target: '/a' }, '/a', '/l').change).toBe(false);
    expect(decideLink({ type: 'link', target: '/b' }, '/a', '/l').commands).toEqual(['ln -sfn /a /l']);
    expect(decideLink({ type: 'absent' }, '/a', '/l').commands).toEqual(['ln -s /a /l']);
    expect(decideLink({ type: 'file' }, '/a', '/l').fail).toContain('force');
    expect(decideLink({ type: 'file' }, '/a', '/l', { force: true }).commands).toEqual(['ln -sfn /a /l']);
    expect(decideLink({ type: 'directory' }, '/a', '/l').fail).toBe('/l is a directory, not a symlink');
  });

  it('check mode runs only the probe', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('p=', { stdout: fileOut({ type: 'link', target: '/old' }) });
    expect((await link('/new', '/usr/local/bin/x')(ctx)).status).toBe('changed');
    expectOnlyProbes(t);
  });
});

describe('file ops end to end in a real shell', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drover-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('file: create, then ok in one exec, then chmod only', async () => {
    const sh = new LocalShell();
    const { ctx } = makeCtx({ transport: sh, diff: true });
    const p = join(dir, 'sub', 'a.conf');
    expect((await file(p, 'one\n', { mode: '0640' })(ctx)).status).toBe('changed');
    expect(await readFile(p, 'utf8')).toBe('one\n');
    expect((await stat(p)).mode & 0o7777).toBe(0o640);
    const before = sh.commands.length;
    expect((await file(p, 'one\n', { mode: '0640' })(ctx)).status).toBe('ok');
    expect(sh.commands.length - before).toBe(1);
    const r = await file(p, 'one\n', { mode: '0600' })(ctx);
    expect(r).toMatchObject({ status: 'changed', commands: [`chmod 0600 ${p}`] });
    expect((await stat(p)).mode & 0o7777).toBe(0o600);
    const r2 = await file(p, 'two\n')(ctx);
    expect(r2.diff).toEqual([{ path: p, before: 'one\n', after: 'two\n' }]);
    expect((await stat(p)).mode & 0o7777).toBe(0o600); // kept on rewrite
  });

  it('directory, link and absent', async () => {
    const sh = new LocalShell();
    const { ctx } = makeCtx({ transport: sh });
    const d = join(dir, 'd1', 'd2');
    expect((await directory(d, { mode: '0700' })(ctx)).status).toBe('changed');
    expect((await stat(d)).mode & 0o7777).toBe(0o700);
    expect((await directory(d, { mode: '0700' })(ctx)).status).toBe('ok');
    const l = join(dir, 'ln');
    expect((await link(d, l)(ctx)).status).toBe('changed');
    expect(await readlink(l)).toBe(d);
    expect((await link(d, l)(ctx)).status).toBe('ok');
    await rm(l);
    await symlink('/elsewhere', l);
    expect((await link(d, l)(ctx)).status).toBe('changed');
    expect(await readlink(l)).toBe(d);
    expect((await absent(join(dir, 'd1'))(ctx)).status).toBe('changed');
    expect((await absent(join(dir, 'd1'))(ctx)).status).toBe('ok');
    await mkdir(join(dir, 'keep'));
    await writeFile(join(dir, 'keep', 'f'), 'x');
    expect((await absent(join(dir, 'keep', 'f'))(ctx)).status).toBe('changed');
  });
});
