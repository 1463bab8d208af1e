// Round-trip discipline and check-mode safety, across every op:
// - no change: exactly ONE exec (the probe) and no put;
// - check mode on a differing state: reported as changed, still only that one probe, no put.
import { describe, expect, it } from 'vitest';
import { ops } from '../../../lib/ops/index.ts';
import type { Op } from '../../../lib/ops/types.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { fileOut, makeCtx, sha } from './helpers.ts';

interface Case {
  name: string;
  op: Op;
  /** Script the probe for the already-correct state. */
  same: (t: FakeTransport) => void;
  /** Script the probe for a state that needs a change. */
  differ: (t: FakeTransport) => void;
}

const file = (content: string, extra: Parameters<typeof fileOut>[0] = {}) => fileOut({ content, withContent: true, ...extra });
const absentFile = fileOut({ type: 'absent' });
const apt = (lines: string) => `${lines}now=100\ncache=50\n`;
const svc = (active: string, enabled: string) => `load=loaded\nactive=${active}\nenabled=${enabled}\n`;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1 a@b';
const pw = 'passwd=deploy:x:1001:1001::/home/deploy:/bin/bash\npgroup=deploy\ngroups=deploy\n';

const cases: Case[] = [
  { name: 'file', op: ops.file('/etc/f', 'x\n'), same: (t) => t.on('p=', { stdout: file('x\n') }), differ: (t) => t.on('p=', { stdout: file('y\n') }) },
  {
    name: 'template',
    op: ops.template('/etc/t', (v: { a: number }) => `a=${v.a}\n`, { a: 1 }),
    same: (t) => t.on('p=', { stdout: file('a=1\n') }),
    differ: (t) => t.on('p=', { stdout: absentFile }),
  },
  {
    name: 'directory',
    op: ops.directory('/srv/d', { mode: '0755' }),
    same: (t) => t.on('p=', { stdout: fileOut({ type: 'directory', mode: '755' }) }),
    differ: (t) => t.on('p=', { stdout: absentFile }),
  },
  { name: 'absent', op: ops.absent('/tmp/x'), same: (t) => t.on('p=', { stdout: absentFile }), differ: (t) => t.on('p=', { stdout: file('') }) },
  {
    name: 'link',
    op: ops.link('/opt/a', '/usr/local/bin/a'),
    same: (t) => t.on('p=', { stdout: fileOut({ type: 'link', target: '/opt/a' }) }),
    differ: (t) => t.on('p=', { stdout: absentFile }),
  },
  {
    name: 'lineInFile',
    op: ops.lineInFile('/etc/l', { line: 'a=1', regexp: /^a=/ }),
    same: (t) => t.on('p=', { stdout: file('a=1\n') }),
    differ: (t) => t.on('p=', { stdout: file('a=2\n') }),
  },
  {
    name: 'blockInFile',
    op: ops.blockInFile('/etc/b', 'n', 'x'),
    same: (t) => t.on('p=', { stdout: file('# BEGIN DROVER MANAGED BLOCK n\nx\n# END DROVER MANAGED BLOCK n\n') }),
    differ: (t) => t.on('p=', { stdout: file('') }),
  },
  {
    name: 'package',
    op: ops.package(['curl'], { updateCache: true }),
    same: (t) => t.on('dpkg-query', { stdout: apt('ii |curl|1\n') }),
    differ: (t) => t.on('dpkg-query', { stdout: apt('') }),
  },
  {
    name: 'systemdUnit',
    op: ops.systemdUnit('app', '[Service]\n'),
    same: (t) => t.on('p=', { stdout: file('[Service]\n') }),
    differ: (t) => t.on('p=', { stdout: absentFile }),
  },
  {
    name: 'service',
    op: ops.service('app', { state: 'started', enabled: true }),
    same: (t) => t.on('systemctl', { stdout: svc('active', 'enabled') }),
    differ: (t) => t.on('systemctl', { stdout: svc('inactive', 'disabled') }),
  },
  {
    name: 'sysctl',
    op: ops.sysctl('net.ipv4.ip_forward', 1),
    same: (t) => t.on('k=', { stdout: 'live=1\nhas_sysctl=1\n' + file('net.ipv4.ip_forward = 1\n') }),
    differ: (t) => t.on('k=', { stdout: 'live=0\nhas_sysctl=1\n' + absentFile }),
  },
  {
    name: 'kernelModule',
    op: ops.kernelModule('br_netfilter'),
    same: (t) => t.on('/proc/modules', { stdout: 'loaded=1\nhas_modprobe=1\n' + file('br_netfilter\n') }),
    differ: (t) => t.on('/proc/modules', { stdout: 'has_modprobe=1\n' + absentFile }),
  },
  {
    name: 'user',
    op: ops.user('deploy', { shell: '/bin/bash' }),
    same: (t) => t.on('getent', { stdout: pw }),
    differ: (t) => t.on('getent', { stdout: '' }),
  },
  {
    name: 'authorizedKey',
    op: ops.authorizedKey('deploy', KEY),
    same: (t) =>
      t.on('getent', { stdout: 'home=/home/deploy\nugroup=deploy\ndir=1\n' + file(`${KEY}\n`, { mode: '600', owner: 'deploy', group: 'deploy' }) }),
    differ: (t) => t.on('getent', { stdout: 'home=/home/deploy\nugroup=deploy\n' + absentFile }),
  },
  {
    name: 'hostname',
    op: ops.hostname('node1'),
    same: (t) => t.on('kernel/hostname', { stdout: 'live=node1\nhas_hostnamectl=1\n' + file('node1\n') }),
    differ: (t) => t.on('kernel/hostname', { stdout: 'live=debian\nhas_hostnamectl=1\n' + file('debian\n') }),
  },
  {
    name: 'timezone',
    op: ops.timezone('Etc/UTC'),
    same: (t) => t.on('localtime', { stdout: 'link=/usr/share/zoneinfo/Etc/UTC\nzone=1\n' + file('Etc/UTC\n') }),
    differ: (t) => t.on('localtime', { stdout: 'link=/usr/share/zoneinfo/Europe/Paris\nzone=1\n' + file('Europe/Paris\n') }),
  },
  {
    name: 'download',
    op: ops.download('https://example.invalid/x', '/usr/local/bin/x', { sha256: sha('bin') }),
    same: (t) => t.on('p=', { stdout: fileOut({ content: 'bin' }) + 'tool=curl\n' }),
    differ: (t) => t.on('p=', { stdout: absentFile + 'tool=curl\n' }),
  },
  {
    name: 'command (guarded)',
    op: ops.command('install.sh', { creates: '/opt/done' }),
    same: (t) => t.on('[ -e', { stdout: 'creates=1\n' }),
    differ: (t) => t.on('[ -e', { stdout: '' }),
  },
  {
    name: 'waitFor.port',
    op: ops.waitFor.port('127.0.0.1', 6443),
    same: (t) => t.on('chk', { code: 0 }),
    differ: (t) => t.on('chk', { code: 124 }),
  },
  {
    name: 'fetch',
    op: ops.fetch('/etc/hostname', '/nonexistent-dir-for-drover-tests/never'),
    same: () => {},
    differ: (t) => {
      t.on('sha256sum', { stdout: 'sha256=abc\n' });
      // The remote file, read (get) in check mode for the diff: reading is not mutating.
      t.files.set('/etc/hostname', { content: Buffer.from('node1\n') });
    },
  },
];

describe('round trips: an op with nothing to change costs exactly one exec', () => {
  for (const c of cases.filter((c) => c.name !== 'fetch')) {
    it(c.name, async () => {
      const { ctx, t } = makeCtx({ diff: true });
      c.same(t);
      const r = await c.op(ctx);
      expect(r.status, r.msg).toBe('ok');
      expect(t.execs).toHaveLength(1);
      expect(t.files.size).toBe(0);
    });
  }
});

describe('check mode: a differing state is reported changed and nothing mutates', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { ctx, t } = makeCtx({ check: true, diff: true });
      c.differ(t);
      const files = [...t.files.keys()];
      const r = await c.op(ctx);
      // waitFor never changes anything: in check mode it is skipped when not ready.
      expect(r.status, r.msg).toBe(c.name === 'waitFor.port' ? 'skipped' : 'changed');
      if (c.name !== 'waitFor.port') expect(r.msg).toMatch(/^would /);
      expect(t.execs).toHaveLength(1);
      expect([...t.files.keys()]).toEqual(files);
    });
  }
});
