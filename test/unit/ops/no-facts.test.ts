// Ops in a play with gatherFacts: false (the stand-in facts throw FactsNotGathered on any
// read): a check that finds the host converged reads no fact; file rewrites keep owners
// through the put script instead of the login's uid; a change that does need a fact fails
// saying which one.
import { describe, expect, it } from 'vitest';
import { missingFacts } from '../../../lib/facts/missing.ts';
import { canChown } from '../../../lib/ops/exec.ts';
import { file } from '../../../lib/ops/file.ts';
import { lineInFile } from '../../../lib/ops/lineInFile.ts';
import { procPath, sysctl } from '../../../lib/ops/sysctl.ts';
import { fileOut, makeCtx } from './helpers.ts';

function noFacts(o: Parameters<typeof makeCtx>[0] = {}) {
  const m = makeCtx(o);
  return { ...m, ctx: { ...m.ctx, facts: missingFacts('node1') } };
}

describe('ops without gathered facts', () => {
  it('canChown: become counts, an unknown uid does not (and is not read as a failure)', () => {
    expect(canChown(noFacts().ctx)).toBe(false);
    expect(canChown(noFacts({ become: true }).ctx)).toBe(true);
    expect(canChown(makeCtx({ facts: { uid: 0 } }).ctx)).toBe(true);
    expect(canChown(makeCtx({ facts: { uid: 1000 } }).ctx)).toBe(false);
  });

  it('sysctl at its value: ok without reading facts (read-only check)', async () => {
    const { ctx, t } = noFacts();
    t.on(`k=${procPath('net.ipv4.ip_forward')}`, { stdout: 'live=0\nhas_sysctl=1\n' });
    const r = await sysctl('net.ipv4.ip_forward', 0, { persist: false })(ctx);
    expect(r).toMatchObject({ status: 'ok', msg: 'net.ipv4.ip_forward = 0' });
    expect(t.execs).toHaveLength(1);
  });

  it('sysctl to change: fails naming the fact it needs (container), runs nothing', async () => {
    const { ctx, t } = noFacts();
    t.on('k=', { stdout: 'live=0\nhas_sysctl=1\n' });
    const r = await sysctl('net.ipv4.ip_forward', 1, { persist: false })(ctx);
    expect(r.status).toBe('failed');
    expect(r.msg).toContain('needs the fact "container"');
    expect(t.execs).toHaveLength(1);
  });

  it('file rewrite: no explicit owner (the put script keeps the existing one where allowed)', async () => {
    const { ctx, t } = noFacts();
    t.on('p=/srv/app.conf', { stdout: fileOut({ content: 'old\n', mode: '640', uid: 0, gid: 4 }) });
    const r = await file('/srv/app.conf', 'new\n')(ctx);
    expect(r.status).toBe('changed');
    const put = t.files.get('/srv/app.conf');
    expect(put?.options).toMatchObject({ mode: '0640' });
    expect(put?.options?.owner).toBeUndefined();
    expect(put?.options?.group).toBeUndefined();
  });

  it('lineInFile: present line ok, missing line added, no fact read', async () => {
    const { ctx, t } = noFacts();
    t.on('p=/srv/s.conf', { stdout: fileOut({ content: 'a = 1\n', mode: '644', withContent: true }) });
    expect((await lineInFile('/srv/s.conf', { regexp: '^a', line: 'a = 1' })(ctx)).status).toBe('ok');
    const r = await lineInFile('/srv/s.conf', { regexp: '^b', line: 'b = 2' })(ctx);
    expect(r.status).toBe('changed');
    expect(t.files.get('/srv/s.conf')?.content.toString()).toBe('a = 1\nb = 2\n');
  });
});
