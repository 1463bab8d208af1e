// service and systemdUnit.
import { describe, expect, it } from 'vitest';
import { decideService, parseServiceState, service, serviceProbeScript } from '../../../lib/ops/service.ts';
import { systemdUnit, unitPath } from '../../../lib/ops/systemdUnit.ts';
import { containerFacts, expectOnlyProbes, fileOut, makeCtx } from './helpers.ts';

const state = (load: string, active: string, enabled: string) => `load=${load}\nactive=${active}\nenabled=${enabled}\n`;

describe('service', () => {
  it('probe is one exec: systemctl show, and is-enabled only where its answer can differ (alias, generated, unknown)', () => {
    const s = serviceProbeScript('haproxy');
    expect(s).toContain('systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState haproxy');
    expect(s).toContain('case $__id in haproxy|haproxy.service)');
    expect(s).toContain('[ -n "$__ufs" ] || __ufs=$(systemctl is-enabled haproxy 2>/dev/null)');
    expect(parseServiceState(state('loaded', 'active', 'enabled'))).toEqual({ load: 'loaded', active: 'active', enabled: 'enabled' });
  });

  it('already started and enabled: ok in one exec', async () => {
    const { ctx, t } = makeCtx();
    t.on('systemctl show', { stdout: state('loaded', 'active', 'enabled') });
    const r = await service('haproxy', { state: 'started', enabled: true })(ctx);
    expect(r).toMatchObject({ status: 'ok', msg: 'haproxy is active, enabled' });
    expect(t.execs).toHaveLength(1);
  });

  it('stopped and disabled: enable and start in one exec', async () => {
    const { ctx, t } = makeCtx();
    t.on('systemctl show', { stdout: state('loaded', 'inactive', 'disabled') });
    const r = await service('haproxy', { state: 'started', enabled: true })(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'enable and start haproxy', commands: ['systemctl enable haproxy', 'systemctl start haproxy'] });
    expect(t.commands[1]).toBe('systemctl enable haproxy && systemctl start haproxy');
  });

  it('decisions: stop, restart always, reload vs start, static units, disable', () => {
    const s = (active: string, enabled = 'enabled') => ({ load: 'loaded', active, enabled });
    expect(decideService(s('active'), 'x', { state: 'stopped' }).commands).toEqual(['systemctl stop x']);
    expect(decideService(s('inactive'), 'x', { state: 'stopped' }).change).toBe(false);
    expect(decideService(s('active'), 'x', { state: 'restarted' }).commands).toEqual(['systemctl restart x']);
    expect(decideService(s('active'), 'x', { state: 'reloaded' }).commands).toEqual(['systemctl reload x']);
    expect(decideService(s('failed'), 'x', { state: 'reloaded' }).commands).toEqual(['systemctl start x']);
    expect(decideService(s('active', 'static'), 'x', { enabled: true }).change).toBe(false);
    expect(decideService(s('active', 'static'), 'x', { enabled: false }).change).toBe(false);
    expect(decideService(s('active', 'enabled'), 'x', { enabled: false }).commands).toEqual(['systemctl disable x']);
    expect(decideService({ load: 'masked', active: 'inactive', enabled: 'masked' }, 'x', { state: 'started' }).fail).toBe('unit x is masked');
  });

  it('unit not found: failed normally, would-change in check mode (an earlier unit file task)', async () => {
    const nf = { load: 'not-found', active: 'inactive', enabled: '' };
    expect(decideService(nf, 'k3s', { state: 'started' }).fail).toBe('unit k3s not found');
    expect(decideService(nf, 'k3s', { state: 'started', enabled: true }, true)).toMatchObject({
      change: true,
      commands: ['systemctl enable k3s', 'systemctl start k3s'],
      msg: 'enable and start k3s (unit not found yet)',
    });
  });

  it('check mode: would restart, only the probe ran', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('systemctl show', { stdout: state('loaded', 'active', 'enabled') });
    expect(await service('k3s', { state: 'restarted' })(ctx)).toMatchObject({ status: 'changed', msg: 'would restart k3s' });
    expectOnlyProbes(t);
  });

  it('works the same in a container; fails clearly without systemd or when systemctl fails', async () => {
    const { ctx, t } = makeCtx({ facts: containerFacts });
    t.on('systemctl show', { stdout: state('loaded', 'inactive', 'enabled') });
    expect((await service('keepalived', { state: 'started' })(ctx)).commands).toEqual(['systemctl start keepalived']);
    const other = makeCtx({ facts: { init: 'openrc' } });
    expect((await service('x', { state: 'started' })(other.ctx)).msg).toBe('service: needs systemd (init is openrc)');
    const broken = makeCtx();
    broken.t.on('systemctl start', { code: 1, stderr: 'Job for x.service failed.' });
    broken.t.on('systemctl show', { stdout: state('loaded', 'inactive', 'enabled') });
    const r = await service('x', { state: 'started' })(broken.ctx);
    expect(r).toMatchObject({ status: 'failed', rc: 1, stderr: 'Job for x.service failed.' });
  });
});

describe('systemdUnit', () => {
  it('unit paths', () => {
    expect(unitPath('k3s')).toBe('/etc/systemd/system/k3s.service');
    expect(unitPath('k3s.timer')).toBe('/etc/systemd/system/k3s.timer');
    expect(unitPath('k3s.service.d/override.conf')).toBe('/etc/systemd/system/k3s.service.d/override.conf');
  });

  it('unchanged: ok in one exec, no daemon-reload', async () => {
    const { ctx, t } = makeCtx();
    t.on('p=/etc/systemd/system/app.service', { stdout: fileOut({ content: '[Unit]\n' }) });
    expect((await systemdUnit('app', '[Unit]\n')(ctx)).status).toBe('ok');
    expect(t.execs).toHaveLength(1);
  });

  it('changed: put the unit then daemon-reload', async () => {
    const { ctx, t } = makeCtx();
    t.on('p=', { stdout: fileOut({ content: '[Unit]\nold\n' }) });
    const r = await systemdUnit('app', '[Unit]\nnew\n')(ctx);
    expect(r).toMatchObject({ status: 'changed', commands: ['systemctl daemon-reload'] });
    expect(t.files.get('/etc/systemd/system/app.service')!.options).toMatchObject({ mode: '0644', mkdirs: true });
    expect(t.commands).toHaveLength(2);
    expect(t.commands[1]).toBe('systemctl daemon-reload');
  });

  it('check mode: nothing written, nothing reloaded', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('p=', { stdout: fileOut({ type: 'absent' }) });
    expect(await systemdUnit('app', 'x')(ctx)).toMatchObject({ status: 'changed', commands: ['systemctl daemon-reload'] });
    expectOnlyProbes(t);
  });
});
