// lineInFile and blockInFile: the probe reads the file in the same exec; the edit is pure.
import { mkdtemp, readFile, rm, stat, writeFile, chmod, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockInFile, decideBlockInFile } from '../../../lib/ops/blockInFile.ts';
import { decideLineInFile, lineInFile } from '../../../lib/ops/lineInFile.ts';
import { expectOnlyProbes, fileOut, makeCtx } from './helpers.ts';
import { LocalShell } from './local-shell.ts';

const sshd = 'Port 22\nPermitRootLogin yes\n';

describe('lineInFile', () => {
  it('line already right: ok in one exec', async () => {
    const { ctx, t } = makeCtx();
    t.on('p=/etc/ssh/sshd_config', { stdout: fileOut({ content: 'PermitRootLogin no\n', withContent: true }) });
    const r = await lineInFile('/etc/ssh/sshd_config', { line: 'PermitRootLogin no', regexp: /^#?PermitRootLogin/ })(ctx);
    expect(r.status).toBe('ok');
    expect(t.execs).toHaveLength(1);
  });

  it('replacing a line writes the edited file with the old mode and owner, and a diff', async () => {
    const { ctx, t } = makeCtx({ diff: true });
    t.on('p=/etc/ssh/sshd_config', { stdout: fileOut({ content: sshd, mode: '600', withContent: true }) });
    const r = await lineInFile('/etc/ssh/sshd_config', { line: 'PermitRootLogin prohibit-password', regexp: '^PermitRootLogin' })(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'replace line in /etc/ssh/sshd_config' });
    expect(r.diff?.[0]?.after).toBe('Port 22\nPermitRootLogin prohibit-password\n');
    const put = t.files.get('/etc/ssh/sshd_config')!;
    expect(put.content.toString()).toBe('Port 22\nPermitRootLogin prohibit-password\n');
    expect(put.options).toMatchObject({ mode: '0600', owner: '0', group: '0' });
  });

  it('edits through a symlink write the link target', () => {
    const d = decideLineInFile(
      { type: 'file', realPath: '/run/resolv.conf', sha256: 'x', content: 'a\n', mode: 0o644 },
      { path: '/etc/resolv.conf', line: 'b', diff: false, preserveOwner: true },
    );
    expect(d.put?.path).toBe('/run/resolv.conf');
  });

  it('missing file: fails unless create; absent state is fine', async () => {
    const st = { type: 'absent' as const };
    expect(decideLineInFile(st, { path: '/x', line: 'a', diff: false, preserveOwner: true }).fail).toBe(
      '/x does not exist (set create: true to create it)',
    );
    expect(decideLineInFile(st, { path: '/x', line: 'a', create: true, diff: false, preserveOwner: true }).put?.content).toBe('a\n');
    expect(decideLineInFile(st, { path: '/x', line: 'a', state: 'absent', diff: false, preserveOwner: true }).change).toBe(false);
  });

  it('refuses a file it could not read whole, and non-UTF-8 content', () => {
    expect(decideLineInFile({ type: 'file', sha256: 'x' }, { path: '/x', line: 'a', diff: false, preserveOwner: true }).fail).toContain('too large');
    expect(
      decideLineInFile({ type: 'file', sha256: 'x', content: 'a\uFFFD' }, { path: '/x', line: 'a', diff: false, preserveOwner: true }).fail,
    ).toContain('not UTF-8');
  });

  it('argument errors are failed results', async () => {
    const { ctx, t } = makeCtx();
    expect((await lineInFile('/x', {})(ctx)).status).toBe('failed');
    expect((await lineInFile('/x', { state: 'absent' })(ctx)).status).toBe('failed');
    expect(t.execs).toHaveLength(0);
  });

  it('check mode: would add, nothing written', async () => {
    const { ctx, t } = makeCtx({ check: true, diff: true });
    t.on('p=', { stdout: fileOut({ content: 'a\n', withContent: true }) });
    const r = await lineInFile('/etc/x', { line: 'b' })(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'would add line to /etc/x' });
    expect(r.diff?.[0]).toMatchObject({ before: 'a\n', after: 'a\nb\n' });
    expectOnlyProbes(t);
  });
});

describe('blockInFile', () => {
  const marked = 'a\n# BEGIN DROVER MANAGED BLOCK hosts\n10.0.0.1 m1\n# END DROVER MANAGED BLOCK hosts\n';

  it('block already there: ok in one exec', async () => {
    const { ctx, t } = makeCtx();
    t.on('p=/etc/hosts', { stdout: fileOut({ content: marked, withContent: true }) });
    expect((await blockInFile('/etc/hosts', 'hosts', '10.0.0.1 m1\n')(ctx)).status).toBe('ok');
    expect(t.execs).toHaveLength(1);
  });

  it('changed block: replaced between the markers', () => {
    const d = decideBlockInFile(
      { type: 'file', sha256: 'x', content: marked + 'z\n' },
      { path: '/etc/hosts', name: 'hosts', block: '10.0.0.1 m1\n10.0.0.2 m2', diff: false, preserveOwner: true },
    );
    expect(d.msg).toBe('update block hosts in /etc/hosts');
    expect(d.put?.content).toBe('a\n# BEGIN DROVER MANAGED BLOCK hosts\n10.0.0.1 m1\n10.0.0.2 m2\n# END DROVER MANAGED BLOCK hosts\nz\n');
  });

  it('custom marker and removal', () => {
    const d = decideBlockInFile(
      { type: 'file', sha256: 'x', content: 'a\n// BEGIN x\nq\n// END x\n' },
      { path: '/p', name: 'x', block: '', marker: '// {mark} x', state: 'absent', diff: false, preserveOwner: true },
    );
    expect(d.put?.content).toBe('a\n');
  });

  it('check mode: would add, nothing written', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('p=', { stdout: fileOut({ content: 'a\n', withContent: true }) });
    expect((await blockInFile('/etc/x', 'n', 'b')(ctx)).msg).toBe('would add block n in /etc/x');
    expectOnlyProbes(t);
  });
});

describe('edits end to end in a real shell', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drover-edit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lineInFile and blockInFile keep mode, follow links, and are idempotent', async () => {
    const sh = new LocalShell();
    const { ctx } = makeCtx({ transport: sh });
    const real = join(dir, 'real.conf');
    const ln = join(dir, 'link.conf');
    await writeFile(real, sshd);
    await chmod(real, 0o600);
    await symlink(real, ln);
    expect((await lineInFile(ln, { line: 'PermitRootLogin no', regexp: /^PermitRootLogin/ })(ctx)).status).toBe('changed');
    expect(await readFile(real, 'utf8')).toBe('Port 22\nPermitRootLogin no\n');
    expect((await stat(real)).mode & 0o777).toBe(0o600);
    const n = sh.commands.length;
    expect((await lineInFile(ln, { line: 'PermitRootLogin no', regexp: /^PermitRootLogin/ })(ctx)).status).toBe('ok');
    expect(sh.commands.length - n).toBe(1);
    expect((await blockInFile(real, 'extra', 'UseDNS no')(ctx)).status).toBe('changed');
    expect((await blockInFile(real, 'extra', 'UseDNS no')(ctx)).status).toBe('ok');
    expect(await readFile(real, 'utf8')).toBe(
      'Port 22\nPermitRootLogin no\n# BEGIN DROVER MANAGED BLOCK extra\nUseDNS no\n# END DROVER MANAGED BLOCK extra\n',
    );
  });
});
