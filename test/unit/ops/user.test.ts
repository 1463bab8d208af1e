// user and authorizedKey.
import { afterEach, describe, expect, it } from 'vitest';
import { authorizedKey, decideAuthorizedKey, editKeys, keyId, parseAuthorizedKeyState } from '../../../lib/ops/authorizedKey.ts';
import { decideUser, parseUserState, user, userProbeScript } from '../../../lib/ops/user.ts';
import { clearSecrets, redact } from '../../../lib/secrets/redact.ts';
import { expectOnlyProbes, fileOut, makeCtx } from './helpers.ts';
import { LocalShell } from './local-shell.ts';

const HASH = '$6$saltsalt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ';
const userOut = (o: { uid?: number; shell?: string; groups?: string; hash?: string } = {}) =>
  `passwd=deploy:x:${o.uid ?? 1001}:1001:Deploy:/home/deploy:${o.shell ?? '/bin/bash'}\npgroup=deploy\ngroups=deploy ${o.groups ?? 'sudo'}\n` +
  (o.hash !== undefined ? `hash=${o.hash}\n` : '');

afterEach(() => clearSecrets());

describe('user', () => {
  it('up to date: ok in one exec', async () => {
    const { ctx, t } = makeCtx();
    t.on('getent passwd', { stdout: userOut() });
    expect((await user('deploy', { uid: 1001, shell: '/bin/bash', groups: ['sudo'] })(ctx)).status).toBe('ok');
    expect(t.execs).toHaveLength(1);
  });

  it('missing: useradd with the flags', () => {
    expect(decideUser({ exists: false }, 'deploy', { uid: 1001, groups: ['sudo', 'adm'], shell: '/bin/bash', comment: 'Deploy user' }).commands).toEqual([
      "useradd -u 1001 -G sudo,adm -s /bin/bash -c 'Deploy user' -m deploy",
    ]);
    expect(decideUser({ exists: false }, 'etcd', { system: true, home: '/var/lib/etcd', shell: '/usr/sbin/nologin' }).commands).toEqual([
      'useradd -r -d /var/lib/etcd -s /usr/sbin/nologin -M etcd',
    ]);
  });

  it('differences: one usermod; append adds only missing groups, exact mode sets them', () => {
    const s = parseUserState(userOut({ shell: '/bin/sh', groups: 'sudo' }));
    expect(decideUser(s, 'deploy', { shell: '/bin/bash', groups: ['sudo', 'docker'] })).toMatchObject({
      commands: ['usermod -a -G docker -s /bin/bash deploy'],
      msg: 'update user deploy (groups +docker, shell)',
    });
    expect(decideUser(s, 'deploy', { groups: ['docker'], append: false }).commands).toEqual(['usermod -G docker deploy']);
    expect(decideUser(s, 'deploy', { groups: [], append: false }).commands).toEqual(["usermod -G '' deploy"]);
  });

  it('password hash: set through chpasswd -e on stdin, never on argv, in messages or logs', async () => {
    const { ctx, t } = makeCtx({ diff: true });
    t.on('getent passwd', { stdout: userOut({ hash: '!' }) });
    const r = await user('deploy', { password: HASH })(ctx);
    expect(r).toMatchObject({ status: 'changed', commands: ['chpasswd -e'], msg: 'update user deploy (password)' });
    expect(t.execs[0]!.command).toContain('getent shadow');
    expect(t.execs[1]!.command).toBe('chpasswd -e');
    expect(t.execs[1]!.options?.stdin).toBe(`deploy:${HASH}\n`);
    expect(JSON.stringify(r)).not.toContain(HASH);
    expect(t.commands.join('\n')).not.toContain(HASH);
    // Registered as a secret, so reporters redact it anywhere.
    expect(redact(`x ${HASH} y`)).toBe('x ******** y');
  });

  it('same hash: ok; failing chpasswd output is hidden (noLog)', async () => {
    const { ctx, t } = makeCtx();
    t.on('getent passwd', { stdout: userOut({ hash: HASH }) });
    expect((await user('deploy', { password: HASH })(ctx)).status).toBe('ok');
    const f = makeCtx();
    f.t.on('getent passwd', { stdout: userOut({ hash: '!' }) });
    f.t.on('chpasswd', { code: 1, stderr: `chpasswd: line 1: bad ${HASH}` });
    const r = await user('deploy', { password: HASH })(f.ctx);
    expect(r.status).toBe('failed');
    expect(JSON.stringify(r)).not.toContain(HASH);
  });

  it('absent: userdel; check mode runs only the probe', async () => {
    expect(decideUser(parseUserState(userOut()), 'deploy', { state: 'absent', removeHome: true }).commands).toEqual(['userdel -r deploy']);
    expect(decideUser({ exists: false }, 'deploy', { state: 'absent' }).change).toBe(false);
    const { ctx, t } = makeCtx({ check: true });
    t.on('getent passwd', { stdout: '' });
    expect((await user('deploy', { shell: '/bin/bash' })(ctx)).msg).toBe('would create user deploy');
    expectOnlyProbes(t);
  });

  it('the real probe reads root from this machine', async () => {
    const s = parseUserState((await new LocalShell().exec(userProbeScript('root', false))).stdout);
    expect(s).toMatchObject({ exists: true, uid: 0, primaryGroup: 'root' });
    expect(parseUserState((await new LocalShell().exec(userProbeScript('drover-no-such-user', false))).stdout).exists).toBe(false);
  });
});

describe('authorizedKey', () => {
  const K1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1 alice@laptop';
  const K2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey2 bob@laptop';
  const akOut = (content: string | null, dir = true) =>
    'home=/home/deploy\nugroup=deploy\n' + (dir ? 'dir=1\n' : '') + fileOut(content === null ? { type: 'absent' } : { content, mode: '600', owner: 'deploy', group: 'deploy', uid: 1001, gid: 1001, withContent: true });

  it('keys are matched by type and blob', () => {
    expect(keyId('from="10.0.0.1" ssh-ed25519 AAAA comment here')).toBe('ssh-ed25519 AAAA');
    expect(editKeys(`${K1}\n`, [K1.replace('alice@laptop', 'renamed')], {})).toBe(`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1 renamed\n`);
    expect(editKeys(`${K1}\n${K2}\n`, [K2], { exclusive: true })).toBe(`${K2}\n`);
    expect(editKeys(`${K1}\n${K2}\n`, [K1], { state: 'absent' })).toBe(`${K2}\n`);
  });

  it('key present: ok in one exec', async () => {
    const { ctx, t } = makeCtx();
    t.on('getent passwd', { stdout: akOut(`${K1}\n`) });
    expect((await authorizedKey('deploy', K1)(ctx)).status).toBe('ok');
    expect(t.execs).toHaveLength(1);
  });

  it('no ~/.ssh yet: create it (0700, owned by the user), then put the file 0600', async () => {
    const { ctx, t } = makeCtx();
    t.on('getent passwd', { stdout: akOut(null, false) });
    const r = await authorizedKey('deploy', K1)(ctx);
    expect(r.status).toBe('changed');
    expect(r.commands).toEqual(['mkdir -p -m 0700 /home/deploy/.ssh', 'chown deploy:deploy /home/deploy/.ssh']);
    expect(t.commands[1]).toBe('mkdir -p -m 0700 /home/deploy/.ssh && chown deploy:deploy /home/deploy/.ssh');
    const put = t.files.get('/home/deploy/.ssh/authorized_keys')!;
    expect(put.content.toString()).toBe(`${K1}\n`);
    expect(put.options).toMatchObject({ mode: '0600', owner: 'deploy', group: 'deploy' });
  });

  it('missing user fails; check mode writes nothing', async () => {
    expect(decideAuthorizedKey(parseAuthorizedKeyState('user=absent\n'), { user: 'x', keys: [K1], diff: false, preserveOwner: true }).fail).toBe(
      'user x does not exist',
    );
    const { ctx, t } = makeCtx({ check: true });
    t.on('getent passwd', { stdout: akOut(`${K2}\n`) });
    expect((await authorizedKey('deploy', K1)(ctx)).msg).toBe('would authorize key(s) for deploy in /home/deploy/.ssh/authorized_keys');
    expectOnlyProbes(t);
  });
});
