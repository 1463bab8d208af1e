// fetch (remote -> controller) and seq (composition).
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchFile } from '../../../lib/ops/fetch.ts';
import { combine, each, partResults, seq } from '../../../lib/ops/seq.ts';
import { ops } from '../../../lib/ops/index.ts';
import { CaptureTransport, captureProbes } from '../../../lib/run/probe-ahead.ts';
import { changed, failed, ok, skipped, type Op } from '../../../lib/ops/types.ts';
import { makeCtx, sha } from './helpers.ts';

const KUBE = 'apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n';

describe('fetch', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drover-fetch-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('copies a differing remote file atomically (0600 by default), then is ok in one exec', async () => {
    const { ctx, t } = makeCtx();
    await t.put('/etc/rancher/k3s/k3s.yaml', KUBE);
    t.on('sha256sum', { stdout: `sha256=${sha(KUBE)}\n` });
    const local = join(dir, 'a', 'kubeconfig');
    const r = await fetchFile('/etc/rancher/k3s/k3s.yaml', local)(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: `fetch /etc/rancher/k3s/k3s.yaml to ${local}` });
    expect(await readFile(local, 'utf8')).toBe(KUBE);
    expect((await stat(local)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'a'))).toEqual(['kubeconfig']);
    const again = makeCtx();
    again.t.on('sha256sum', { stdout: `sha256=${sha(KUBE)}\n` });
    expect((await fetchFile('/etc/rancher/k3s/k3s.yaml', local)(again.ctx)).status).toBe('ok');
    expect(again.t.execs).toHaveLength(1);
  });

  it('transform rewrites before comparing (kubeconfig to the VIP)', async () => {
    const { ctx, t } = makeCtx({ diff: true });
    await t.put('/k.yaml', KUBE);
    const local = join(dir, 'vip');
    const toVip = (b: Buffer) => b.toString().replace('127.0.0.1', '10.17.4.10');
    const r = await fetchFile('/k.yaml', local, { transform: toVip })(ctx);
    expect(r.status).toBe('changed');
    expect(r.diff?.[0]?.after).toContain('https://10.17.4.10:6443');
    expect(await readFile(local, 'utf8')).toContain('10.17.4.10');
    expect((await fetchFile('/k.yaml', local, { transform: toVip })(ctx)).status).toBe('ok');
  });

  it('check mode writes nothing locally; missing remote fails or skips', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('sha256sum', { stdout: 'sha256=abc\n' });
    const local = join(dir, 'never');
    expect((await fetchFile('/r', local)(ctx)).msg).toBe(`would fetch /r to ${local}`);
    await expect(stat(local)).rejects.toThrow();
    const m = makeCtx();
    m.t.on('sha256sum', { stdout: 'missing=1\n' });
    expect((await fetchFile('/nope', join(dir, 'x'))(m.ctx)).msg).toBe('remote file /nope does not exist');
    expect((await fetchFile('/nope', join(dir, 'x'), { failOnMissing: false })(m.ctx)).status).toBe('skipped');
  });

  it('keeps the local file when it is identical', async () => {
    const local = join(dir, 'same');
    await writeFile(local, 'same');
    const { ctx, t } = makeCtx();
    t.on('sha256sum', { stdout: `sha256=${sha('same')}\n` });
    expect((await fetchFile('/same', local)(ctx)).status).toBe('ok');
  });
});

describe('seq', () => {
  const op = (r: ReturnType<typeof ok>): Op => async () => r;

  it('changed if any changed; diffs and commands concatenated', async () => {
    const { ctx } = makeCtx();
    const r = await seq(
      op(ok('a fine')),
      op(changed('b done', { commands: ['b1'], diff: [{ path: '/b', before: '', after: 'x' }] })),
      false,
      op(changed('c done', { commands: ['c1', 'c2'] })),
    )(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'b done; c done', commands: ['b1', 'c1', 'c2'] });
    expect(r.diff).toEqual([{ path: '/b', before: '', after: 'x' }]);
    expect((r.data?.results as unknown[]).length).toBe(3);
  });

  it('stops at the first failure and reports it', async () => {
    const { ctx } = makeCtx();
    let ran = false;
    const r = await seq(op(changed('a')), op(failed('b broke', { rc: 2 })), async () => {
      ran = true;
      return ok();
    })(ctx);
    expect(r).toMatchObject({ status: 'failed', msg: 'b broke', rc: 2 });
    expect(ran).toBe(false);
  });

  it('all skipped is skipped; ok with skips is ok; empty is ok', () => {
    expect(combine([skipped('x'), skipped('y')]).status).toBe('skipped');
    expect(combine([skipped('x'), ok('y')]).status).toBe('ok');
    expect(combine([]).status).toBe('ok');
  });
});

describe('each', () => {
  const op = (r: ReturnType<typeof ok>): Op => async () => r;

  it('runs every part whatever the others gave; each result in order, the failure leads', async () => {
    const { ctx } = makeCtx();
    let ran = false;
    const r = await each(op(changed('a')), op(failed('b broke', { rc: 2 })), async () => {
      ran = true;
      return ok('c fine');
    })(ctx);
    expect(ran).toBe(true);
    expect(r).toMatchObject({ status: 'failed', msg: 'b broke', rc: 2 });
    expect(partResults(r).map((x) => x.status)).toEqual(['changed', 'failed', 'ok']);
  });

  it("every part's first probe is learnt at once (three links: one read-ahead, not three round trips)", async () => {
    const { ctx } = makeCtx({ transport: new CaptureTransport('h') });
    const links = ['/usr/local/bin/kubectl', '/usr/local/bin/crictl', '/usr/local/bin/ctr'];
    const probes = await captureProbes(() => each(...links.map((l) => ops.link('/usr/local/bin/k3s', l)))(ctx));
    expect(probes).toHaveLength(3);
    links.forEach((l, i) => expect(probes[i]!.command).toContain(l));
    // Awaited one after another, only the first is learnt: the rest cost a round trip each.
    const one = await captureProbes(async () => {
      for (const l of links) await ops.link('/usr/local/bin/k3s', l)(ctx);
    });
    expect(one).toHaveLength(1);
  });
});
