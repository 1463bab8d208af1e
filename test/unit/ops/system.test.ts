// hostname and timezone.
import { describe, expect, it } from 'vitest';
import { decideHostname, hostname, parseHostnameState } from '../../../lib/ops/hostname.ts';
import { decideTimezone, parseTimezoneState, timezone } from '../../../lib/ops/timezone.ts';
import { containerFacts, expectOnlyProbes, fileOut, makeCtx } from './helpers.ts';

const hostOut = (live: string, file: string | null, tools = 'has_hostnamectl=1\nhas_hostname=1\n') =>
  `live=${live}\n${tools}` + fileOut(file === null ? { type: 'absent' } : { content: file, withContent: true });

describe('hostname', () => {
  it('already set: ok in one exec', async () => {
    const { ctx, t } = makeCtx();
    t.on('/proc/sys/kernel/hostname', { stdout: hostOut('master1', 'master1\n') });
    expect(await hostname('master1')(ctx)).toMatchObject({ status: 'ok', msg: 'hostname is master1' });
    expect(t.execs).toHaveLength(1);
  });

  it('systemd host: hostnamectl set-hostname', async () => {
    const { ctx, t } = makeCtx();
    t.on('/proc/sys/kernel/hostname', { stdout: hostOut('debian', 'debian\n') });
    const r = await hostname('master1')(ctx);
    expect(r).toMatchObject({ status: 'changed', commands: ['hostnamectl set-hostname master1'], msg: 'set hostname master1 (was debian)' });
    expect(t.files.size).toBe(0);
  });

  it('container: writes /etc/hostname and runs hostname', async () => {
    const { ctx, t } = makeCtx({ facts: containerFacts });
    t.on('/proc/sys/kernel/hostname', { stdout: hostOut('old', 'old\n') });
    const r = await hostname('master1')(ctx);
    expect(r).toMatchObject({ status: 'changed', commands: ['hostname master1'] });
    expect(t.files.get('/etc/hostname')!.content.toString()).toBe('master1\n');
  });

  it('container that forbids setting the live name: file written, live part skipped with the reason', async () => {
    const { ctx, t } = makeCtx({ facts: containerFacts });
    t.on('/proc/sys/kernel/hostname', { stdout: hostOut('old', 'old\n') });
    t.on('hostname master1', { code: 1, stderr: 'hostname: you must be root to change the host name' });
    const r = await hostname('master1')(ctx);
    expect(r.status).toBe('changed');
    expect(r.msg).toContain('live hostname not set in container (systemd-nspawn)');
    const s = makeCtx({ facts: containerFacts });
    s.t.on('/proc/sys/kernel/hostname', { stdout: hostOut('old', 'master1\n') });
    s.t.on('hostname master1', { code: 1, stderr: 'hostname: you must be root to change the host name' });
    expect((await hostname('master1')(s.ctx)).status).toBe('skipped');
  });

  it('no hostname binary: writes /proc/sys/kernel/hostname; invalid names fail', () => {
    const s = parseHostnameState(hostOut('old', 'new\n', ''));
    expect(decideHostname(s, { name: 'new', systemd: false, container: null, diff: false, preserveOwner: true }).commands).toEqual([
      "printf '%s' new > /proc/sys/kernel/hostname",
    ]);
    expect(decideHostname(s, { name: 'bad name', systemd: true, container: null, diff: false, preserveOwner: true }).fail).toContain('invalid hostname');
  });

  it('check mode: nothing run or written', async () => {
    const { ctx, t } = makeCtx({ check: true, facts: containerFacts });
    t.on('/proc/sys/kernel/hostname', { stdout: hostOut('old', 'old\n') });
    expect((await hostname('new')(ctx)).status).toBe('changed');
    expectOnlyProbes(t);
  });
});

describe('timezone', () => {
  const tzOut = (link: string, file: string | null, zone = true, tdc = true) =>
    `link=${link}\n${zone ? 'zone=1\n' : ''}${tdc ? 'has_timedatectl=1\n' : ''}` +
    fileOut(file === null ? { type: 'absent' } : { content: file, withContent: true });

  it('already set: ok in one exec', async () => {
    const { ctx, t } = makeCtx();
    t.on('readlink /etc/localtime', { stdout: tzOut('/usr/share/zoneinfo/Europe/Paris', 'Europe/Paris\n') });
    expect((await timezone('Europe/Paris')(ctx)).status).toBe('ok');
    expect(t.execs).toHaveLength(1);
  });

  it('systemd host: timedatectl + /etc/timezone on Debian', async () => {
    const { ctx, t } = makeCtx();
    t.on('readlink /etc/localtime', { stdout: tzOut('../usr/share/zoneinfo/Etc/UTC', 'Etc/UTC\n') });
    const r = await timezone('Europe/Paris')(ctx);
    expect(r).toMatchObject({ status: 'changed', commands: ['timedatectl set-timezone Europe/Paris'] });
    expect(t.files.get('/etc/timezone')!.content.toString()).toBe('Europe/Paris\n');
  });

  it('container: link /etc/localtime directly; unknown zone fails', () => {
    const s = parseTimezoneState(tzOut('/usr/share/zoneinfo/Etc/UTC', 'Etc/UTC\n'));
    expect(s.current).toBe('Etc/UTC');
    const a = { tz: 'Europe/Paris', debian: true, systemd: true, container: 'systemd-nspawn', diff: false, preserveOwner: true };
    expect(decideTimezone(s, a).commands).toEqual(['ln -sfn /usr/share/zoneinfo/Europe/Paris /etc/localtime']);
    expect(decideTimezone(parseTimezoneState(tzOut('x', null, false)), a).fail).toContain('is tzdata installed?');
    expect(decideTimezone(s, { ...a, tz: '../etc/passwd' }).fail).toContain('invalid timezone');
  });

  it('check mode: nothing run or written', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('readlink /etc/localtime', { stdout: tzOut('/usr/share/zoneinfo/Etc/UTC', 'Etc/UTC\n') });
    expect((await timezone('Asia/Tokyo')(ctx)).msg).toBe('would write /etc/timezone (Asia/Tokyo); set timezone Asia/Tokyo (was Etc/UTC)');
    expectOnlyProbes(t);
  });
});
