// The probe protocol, parsed from scripted output and run for real in the local dash.
import { mkdtemp, mkdir, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileState, parseProbe, singleFileProbe } from '../../../lib/ops/probe.ts';
import { LocalShell } from './local-shell.ts';
import { sha } from './helpers.ts';

let dir: string;
const sh = new LocalShell();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drover-probe-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseProbe', () => {
  it('splits key=value lines from content after the marker, keeping content bytes', () => {
    const out = parseProbe('type=file\nsha256=ab\n__DROVER_CONTENT__\nline=1\n\n');
    expect(out.kv.get('type')).toBe('file');
    expect(out.kv.has('line')).toBe(false);
    expect(out.content).toBe('line=1\n\n');
    expect(parseProbe('__DROVER_CONTENT__\nx').content).toBe('x');
  });

  it('parses stat fields', () => {
    const s = parseFileState(parseProbe('type=file\nstat=4755 1000 50 12 alice staff\nsha256=ff\n'));
    expect(s).toEqual({ type: 'file', mode: 0o4755, uid: 1000, gid: 50, size: 12, owner: 'alice', group: 'staff', sha256: 'ff' });
  });
});

describe('fileProbeScript in a real POSIX shell (dash)', () => {
  it('reports a regular file with mode, sha256 and content (trailing newlines intact)', async () => {
    const p = join(dir, "we'ird name.txt");
    await writeFile(p, 'hello\n\n');
    await chmod(p, 0o640);
    const r = await sh.exec(singleFileProbe(p, { contentMax: 1000 }));
    expect(r.code).toBe(0);
    const s = parseFileState(parseProbe(r.stdout));
    expect(s).toMatchObject({ type: 'file', mode: 0o640, size: 7, sha256: sha('hello\n\n'), content: 'hello\n\n', uid: process.getuid!() });
  });

  it('omits the content over the size limit', async () => {
    const p = join(dir, 'big');
    await writeFile(p, 'x'.repeat(50));
    const s = parseFileState(parseProbe((await sh.exec(singleFileProbe(p, { contentMax: 10 }))).stdout));
    expect(s.content).toBeUndefined();
    expect(s.sha256).toBe(sha('x'.repeat(50)));
  });

  it('reports absent, directory and link (with and without follow)', async () => {
    const d = join(dir, 'd');
    await mkdir(d);
    await symlink(d, join(dir, 'ln'));
    const st = async (p: string, follow = false) => parseFileState(parseProbe((await sh.exec(singleFileProbe(p, { follow }))).stdout));
    expect(await st(join(dir, 'nope'))).toEqual({ type: 'absent' });
    expect((await st(d)).type).toBe('directory');
    expect(await st(join(dir, 'ln'))).toMatchObject({ type: 'link', target: d });
    expect(await st(join(dir, 'ln'), true)).toMatchObject({ type: 'directory', realPath: d });
  });
});
