// command (guards, check mode, noLog) and waitFor (one exec polling on the target).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command, guardProbeScript } from '../../../lib/ops/command.ts';
import { waitFor, waitScript } from '../../../lib/ops/waitFor.ts';
import { expectOnlyProbes, makeCtx } from './helpers.ts';
import { LocalShell } from './local-shell.ts';

describe('command', () => {
  it('no guards: runs once, changed, output registered', async () => {
    const { ctx, t } = makeCtx({ become: true, facts: { uid: 1000 } });
    t.on('k3s kubectl', { stdout: 'node1 Ready\n' });
    const r = await command('k3s kubectl get nodes', { env: { KUBECONFIG: '/etc/rancher/k3s/k3s.yaml' } })(ctx);
    expect(r).toMatchObject({ status: 'changed', stdout: 'node1 Ready\n', rc: 0, commands: ['k3s kubectl get nodes'] });
    expect(r.data).toMatchObject({ stdout: 'node1 Ready\n', rc: 0 });
    expect(t.execs).toHaveLength(1);
    expect(t.execs[0]!.options).toMatchObject({ sudo: true, env: { KUBECONFIG: '/etc/rancher/k3s/k3s.yaml' } });
  });

  it('creates exists: ok with the reason, in one exec, command not run', async () => {
    const { ctx, t } = makeCtx();
    t.on("[ -e /usr/local/bin/k3s ]", { stdout: 'creates=1\n' });
    const r = await command('sh install.sh', { creates: '/usr/local/bin/k3s' })(ctx);
    expect(r).toMatchObject({ status: 'ok', msg: 'skipped: /usr/local/bin/k3s exists' });
    expect(t.execs).toHaveLength(1);
  });

  it('removes and unless guards', async () => {
    const a = makeCtx();
    a.t.on('[ -e /tmp/x ]', { stdout: '' });
    expect((await command('rm /tmp/x', { removes: '/tmp/x' })(a.ctx)).msg).toBe('skipped: /tmp/x does not exist');
    const b = makeCtx();
    b.t.on('echo unless=$?', { stdout: 'unless=0\n' });
    expect((await command('k3s token create', { unless: 'test -s /tmp/token' })(b.ctx)).msg).toBe('skipped: the unless command succeeded');
    const c = makeCtx();
    c.t.on('echo unless=$?', { stdout: 'unless=1\n' });
    expect((await command('k3s token create', { unless: 'test -s /tmp/token' })(c.ctx)).status).toBe('changed');
    expect(c.t.execs).toHaveLength(2);
    expect(guardProbeScript({ unless: 'a && b' })).toBe('( a && b ) >/dev/null 2>&1; echo unless=$?');
  });

  it('failure is a result with rc and stderr; failedWhen/changedWhen override', async () => {
    const { ctx, t } = makeCtx();
    t.on('false', { code: 2, stderr: 'boom' });
    expect(await command('false')(ctx)).toMatchObject({ status: 'failed', rc: 2, stderr: 'boom', msg: 'false failed (rc 2): boom' });
    t.on('grep -q', { code: 1 });
    expect((await command('grep -q x /f', { failedWhen: (r) => r.code! > 1, changedWhen: () => false })(ctx)).status).toBe('ok');
  });

  it('check mode: guards evaluated, command not run', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('[ -e /x ]', { stdout: '' });
    expect(await command('make install', { creates: '/x' })(ctx)).toMatchObject({ status: 'changed', msg: 'would run: make install' });
    expectOnlyProbes(t);
    const n = makeCtx({ check: true });
    expect((await command('touch /y')(n.ctx)).status).toBe('changed');
    expectOnlyProbes(n.t, 0);
  });

  it('readOnly runs in check mode and reports ok', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('cat /etc/k3s-token', { stdout: 'T' });
    expect((await command('cat /etc/k3s-token', { readOnly: true })(ctx)).status).toBe('ok');
    expect(t.execs).toHaveLength(1);
  });

  it('noLog hides the command, its output and its error text', async () => {
    const { ctx, t } = makeCtx();
    t.on('s3cr3t', { code: 1, stdout: 'leak s3cr3t', stderr: 'err s3cr3t' });
    const r = await command('login --password s3cr3t', { noLog: true })(ctx);
    expect(r.status).toBe('failed');
    expect(JSON.stringify(r)).not.toContain('s3cr3t');
  });
});

describe('waitFor', () => {
  it('builds one polling script; check mode makes one attempt and never waits', async () => {
    const s = waitScript('chk() { true; }', 10, 0.5);
    expect(s).toContain('end=$(( $(date +%s) + 10 ))');
    expect(s).toContain('sleep 0.5');
    const { ctx, t } = makeCtx({ check: true });
    t.on('chk', { code: 124 });
    const r = await waitFor.port('10.0.0.1', 6443)(ctx);
    expect(r).toMatchObject({ status: 'skipped', msg: 'would wait for port 10.0.0.1:6443 open (not yet; check mode does not wait)' });
    expect(t.commands[0]).toContain('+ 0 ))');
    expect(t.execs).toHaveLength(1);
  });

  it('a real run looks once first, as a fresh read (read-ahead kept); only a state not there yet is polled, as a change', async () => {
    const ready = makeCtx();
    ready.t.on('chk', { code: 0 });
    expect((await waitFor.port('10.0.0.1', 6443)(ready.ctx)).status).toBe('ok');
    expect(ready.t.execs).toHaveLength(1);
    expect(ready.t.execs[0]!.options).toMatchObject({ probe: true, fresh: true });
    expect(ready.t.commands[0]).toContain('+ 0 ))');
    const later = makeCtx();
    let n = 0;
    later.t.on('chk', () => ({ code: n++ === 0 ? 124 : 0 }));
    expect((await waitFor.port('10.0.0.1', 6443, { timeoutMs: 5000 })(later.ctx)).status).toBe('ok');
    expect(later.t.execs).toHaveLength(2);
    expect(later.t.execs[1]!.options?.probe).toBeUndefined();
    expect(later.t.commands[1]).toContain('+ 5 ))');
  });

  it('timeout is failed with the last output; a missing tool is failed with its message', async () => {
    const { ctx, t } = makeCtx();
    t.on('curl', { code: 124, stderr: 'HTTP 503\n' });
    const r = await waitFor.http('http://127.0.0.1:1/healthz', { timeoutMs: 2000 })(ctx);
    expect(r).toMatchObject({ status: 'failed', rc: 124 });
    expect(r.msg).toBe('timed out after 2s waiting for http://127.0.0.1:1/healthz to answer: HTTP 503');
    const m = makeCtx();
    m.t.on('nc', { code: 127, stderr: 'waitFor.port needs nc, bash or python3 on the host' });
    expect((await waitFor.port('h', 1)(m.ctx)).msg).toContain('needs nc, bash or python3');
  });

  describe('in a real shell on loopback', () => {
    let server: Server;
    let port = 0;
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'drover-wait-'));
      server = createServer((s) => s.end());
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
      port = (server.address() as { port: number }).port;
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
      await new Promise<void>((res) => server.close(() => res()));
    });

    it('port open is ok with the elapsed time; closed times out', async () => {
      const { ctx } = makeCtx({ transport: new LocalShell() });
      const r = await waitFor.port('127.0.0.1', port, { timeoutMs: 5000 })(ctx);
      expect(r.status).toBe('ok');
      expect(r.msg).toMatch(/^port 127\.0\.0\.1:\d+ open after \d+\.\ds$/);
      expect(typeof r.data?.elapsedMs).toBe('number');
      expect((await waitFor.port('127.0.0.1', port, { state: 'closed', timeoutMs: 0 })(ctx)).status).toBe('failed');
    });

    it('command: polls until it succeeds', async () => {
      const { ctx } = makeCtx({ transport: new LocalShell() });
      const flag = join(dir, 'ready');
      setTimeout(() => void writeFile(flag, ''), 300);
      const r = await waitFor.command(`test -e ${flag}`, { timeoutMs: 5000, intervalMs: 100 })(ctx);
      expect(r.status).toBe('ok');
      expect(r.data?.elapsedMs as number).toBeGreaterThanOrEqual(250);
      const f = await waitFor.command('echo not yet >&2; false', { timeoutMs: 0 })(ctx);
      expect(f).toMatchObject({ status: 'failed', rc: 124 });
      expect(f.msg).toContain('not yet');
    });
  });
});
