// download: sha256 first; fetch to a temp file, verify, rename.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quote } from '../../../lib/shell/quote.ts';
import { decideDownload, download, downloadScript } from '../../../lib/ops/download.ts';
import { expectOnlyProbes, fileOut, makeCtx, sha } from './helpers.ts';
import { LocalShell } from './local-shell.ts';

const URL = 'https://github.com/k3s-io/k3s/releases/download/v1.30.0%2Bk3s1/k3s';
const BIN = 'binary-bytes';
const SUM = sha(BIN);

describe('download', () => {
  it('sha256 matches: ok in one exec, nothing downloaded', async () => {
    const { ctx, t } = makeCtx();
    t.on('p=/usr/local/bin/k3s', { stdout: fileOut({ content: BIN, mode: '755' }) + 'tool=curl\n' });
    expect((await download(URL, '/usr/local/bin/k3s', { sha256: SUM, mode: '0755' })(ctx)).status).toBe('ok');
    expect(t.execs).toHaveLength(1);
  });

  it('missing or different: one exec of the fetch-verify-rename script', async () => {
    const { ctx, t } = makeCtx();
    t.on('p=/usr/local/bin/k3s', { stdout: fileOut({ content: 'old' }) + 'tool=curl\n' });
    const r = await download(URL, '/usr/local/bin/k3s', { sha256: SUM.toUpperCase(), mode: 0o755 })(ctx);
    expect(r.status).toBe('changed');
    const script = downloadScript(URL, '/usr/local/bin/k3s', { sha256: SUM, tool: 'curl', mode: 0o755 });
    expect(r.commands).toEqual([script]);
    expect(t.commands[1]).toBe(script);
    expect(script).toContain(`curl -fsSL --retry 3 --connect-timeout 20 --max-time 300 -o "$t" ${quote(URL)}`);
    expect(script).toContain(`if [ "$s" != ${SUM} ]`);
    expect(script).toContain('mv -f "$t" /usr/local/bin/k3s');
    expect(script).toContain('t=$(mktemp /usr/local/bin/.k3s.drover.XXXXXX)');
  });

  it('same content, wrong mode: chmod only', () => {
    const d = decideDownload({ file: { type: 'file', sha256: SUM, mode: 0o644 }, tool: 'curl' }, { url: URL, dest: '/x', sha256: SUM, mode: 0o755, check: false });
    expect(d.commands).toEqual(['chmod 0755 /x']);
  });

  it('requires a valid sha256; no curl/wget fails (but not in check mode)', () => {
    const base = { url: URL, dest: '/x', check: false };
    expect(decideDownload({ file: { type: 'absent' }, tool: 'curl' }, { ...base, sha256: '' }).fail).toContain('64 hex digits');
    expect(decideDownload({ file: { type: 'absent' }, tool: null }, { ...base, sha256: SUM }).fail).toContain('neither curl nor wget');
    expect(decideDownload({ file: { type: 'absent' }, tool: null }, { ...base, sha256: SUM, check: true }).change).toBe(true);
    expect(downloadScript(URL, '/x', { sha256: SUM, tool: 'wget' })).toContain(`wget -q --tries=3 --timeout=300 -O "$t" ${quote(URL)}`);
  });

  it('check mode: would download, only the probe ran', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('p=', { stdout: fileOut({ type: 'absent' }) + 'tool=wget\n' });
    expect((await download(URL, '/opt/k3s', { sha256: SUM })(ctx)).msg).toBe(`would download ${URL} to /opt/k3s`);
    expectOnlyProbes(t);
  });

  describe('in a real shell with curl and a file:// URL', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'drover-dl-'));
      await writeFile(join(dir, 'src.bin'), BIN);
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('installs a verified file, then is ok; a bad sha256 fails and leaves dest and no temp', async () => {
      const sh = new LocalShell();
      const { ctx } = makeCtx({ transport: sh });
      const dest = join(dir, 'out.bin');
      const url = `file://${join(dir, 'src.bin')}`;
      expect((await download(url, dest, { sha256: SUM, mode: '0750' })(ctx)).status).toBe('changed');
      expect(await readFile(dest, 'utf8')).toBe(BIN);
      expect((await stat(dest)).mode & 0o777).toBe(0o750);
      expect((await download(url, dest, { sha256: SUM, mode: '0750' })(ctx)).status).toBe('ok');
      const bad = await download(url, join(dir, 'bad.bin'), { sha256: sha('other') })(ctx);
      expect(bad.status).toBe('failed');
      expect(bad.stderr).toContain('sha256 mismatch');
      expect((await readdir(dir)).sort()).toEqual(['out.bin', 'src.bin']);
    });
  });
});
