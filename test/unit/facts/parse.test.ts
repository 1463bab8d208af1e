// parseFactsOutput on probe outputs: debian12-vm and nspawn-debian12 were captured by
// running the probe (this machine: Debian 12 in a KVM guest inside a docker-like sandbox;
// and a systemd-nspawn container of the lab's Debian rootfs). alma9-like and
// flatcar-like-no-ip are built from those distributions' real os-release files and tool
// output formats; the Flatcar one takes its network part from a capture of the no-`ip`
// fallback (sysfs + /proc), made with busybox sh.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIpv6, osFamily, parseFactsOutput, parseOsRelease } from '../../../lib/facts/parse.ts';
import { PROBE_SCRIPT } from '../../../lib/facts/probe.ts';
import { FactsSchema } from '../../../lib/facts/types.ts';

const capture = (name: string) => readFileSync(join(import.meta.dirname, 'captures', name), 'utf8');

describe('parseFactsOutput', () => {
  it('Debian 12 (KVM guest, docker-like sandbox, iproute2)', () => {
    const f = parseFactsOutput(capture('debian12-vm.txt'));
    expect(f.os).toEqual({
      id: 'debian',
      family: 'debian',
      version: '12',
      versionMajor: 12,
      codename: 'bookworm',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
    });
    expect(f).toMatchObject({
      hostname: 'vm',
      arch: 'x86_64',
      kernel: '6.18.44-fc-v669',
      init: 'unknown', // PID 1 here is not an init system
      pkgManager: 'apt',
      container: 'docker',
      vm: 'kvm',
      defaultIpv4: '192.0.2.2',
      memTotalMb: 24106,
      cpus: 2,
      uid: 0,
      selinux: 'absent',
    });
    expect(f.python).toMatch(/python3$/);
    const eth0 = f.interfaces.find((i) => i.name === 'eth0');
    expect(eth0).toEqual({ name: 'eth0', mac: '02:fc:00:00:00:01', up: true, addresses: ['192.0.2.2/24', 'fd00::2/64', 'fe80::fc:ff:fe00:1/64'] });
    expect(f.interfaces.find((i) => i.name === 'ifb0')).toMatchObject({ up: false, addresses: [] });
    expect(f.interfaces.find((i) => i.name === 'lo')).toEqual({ name: 'lo', up: true, addresses: ['127.0.0.1/8', '::1/128'] });
  });

  it('takes the default route from a full route listing (an ip that ignores the "default" selector)', () => {
    const full = capture('debian12-vm.txt').replace(
      '::drover-facts:ip-route\ndefault via 192.0.2.1 dev eth0 \n',
      '::drover-facts:ip-route\n192.0.2.0/24 dev lo scope link src 127.0.0.1 \ndefault via 192.0.2.1 dev eth0 \n',
    );
    expect(full).toContain('dev lo scope link src 127.0.0.1');
    expect(parseFactsOutput(full).defaultIpv4).toBe('192.0.2.2');
  });

  it('systemd-nspawn container of Debian 12 (not booted, private network)', () => {
    const f = parseFactsOutput(capture('nspawn-debian12.txt'));
    expect(f).toMatchObject({
      hostname: 'drvprobe',
      container: 'systemd-nspawn',
      vm: 'kvm', // detect-virt --vm sees the host's hypervisor through the container
      python: null,
      defaultIpv4: null,
      pkgManager: 'apt',
      selinux: 'absent', // an empty /sys/fs/selinux mount point is not SELinux
    });
    expect(f.interfaces).toEqual([{ name: 'lo', up: true, addresses: ['127.0.0.1/8', '::1/128'] }]);
  });

  it('AlmaLinux 9-like: redhat family, dnf over yum, SELinux enforcing, src-less default route', () => {
    const f = parseFactsOutput(capture('alma9-like.txt'));
    expect(f.os).toMatchObject({ id: 'almalinux', family: 'redhat', version: '9.4', versionMajor: 9 });
    expect(f).toMatchObject({
      init: 'systemd',
      pkgManager: 'dnf',
      container: null,
      vm: 'kvm',
      python: '/usr/bin/python3',
      selinux: 'enforcing',
      uid: 1000,
      cpus: 4,
      memTotalMb: 3648,
      defaultIpv4: '10.17.4.31',
    });
    expect(f.interfaces.map((i) => [i.name, i.up])).toEqual([
      ['lo', true],
      ['enp1s0', true],
      ['enp2s0', false],
    ]);
    expect(f.interfaces[1]!.addresses).toContain('10.17.4.100/32');
  });

  it('Flatcar-like without python, package manager or ip: sysfs and /proc fallback', () => {
    const f = parseFactsOutput(capture('flatcar-like-no-ip.txt'));
    expect(f.os).toMatchObject({ id: 'flatcar', family: 'flatcar', version: '3815.2.0', versionMajor: 3815 });
    expect(f).toMatchObject({ init: 'systemd', pkgManager: 'none', python: null, vm: 'qemu', container: null, selinux: 'permissive', uid: 500 });
    const byName = Object.fromEntries(f.interfaces.map((i) => [i.name, i]));
    expect(byName.eth0).toEqual({ name: 'eth0', mac: '02:fc:00:00:00:01', up: true, addresses: ['192.0.2.2/24', 'fd00::2/64', 'fe80::fc:ff:fe00:1/64'] });
    expect(byName.lo).toEqual({ name: 'lo', up: true, addresses: ['127.0.0.1/8', '::1/128'] });
    expect(byName.ifb0?.up).toBe(false);
    expect(f.defaultIpv4).toBe('192.0.2.2');
  });

  it('gives the same network facts with and without ip on the same machine', () => {
    const a = parseFactsOutput(capture('debian12-vm.txt'));
    const b = parseFactsOutput(capture('flatcar-like-no-ip.txt'));
    const norm = (f: typeof a) => [...f.interfaces].sort((x, y) => x.name.localeCompare(y.name));
    expect(norm(b)).toEqual(norm(a));
  });

  it('refuses truncated output', () => {
    const text = capture('debian12-vm.txt');
    expect(() => parseFactsOutput(text.slice(0, text.indexOf('::drover-facts:end')))).toThrow(/incomplete/);
  });
});

describe('pieces', () => {
  it('parseOsRelease unquotes and unescapes', () => {
    expect(parseOsRelease('A="x \\"y\\""\nB=\'z\'\nC=plain\n# no\nbad line')).toEqual({ A: 'x "y"', B: 'z', C: 'plain' });
  });
  it('osFamily falls back on ID_LIKE', () => {
    expect(osFamily('pop', 'ubuntu debian')).toBe('debian');
    expect(osFamily('rocky', undefined)).toBe('redhat');
    expect(osFamily('weird', 'other')).toBe('unknown');
  });
  it('formatIpv6 compresses the longest zero run', () => {
    expect(formatIpv6('00000000000000000000000000000001')).toBe('::1');
    expect(formatIpv6('fe8000000000000000fc00fffe000001')).toBe('fe80::fc:ff:fe00:1');
    expect(formatIpv6('20010db8000000010000000000000001')).toBe('2001:db8:0:1::1');
    expect(formatIpv6('20010db8000100020003000400050006')).toBe('2001:db8:1:2:3:4:5:6');
  });
});

describe('the probe script itself', () => {
  const shells: Array<[string, string[]]> = [['dash', ['/bin/sh', '-s']]];
  if (existsSync('/usr/bin/busybox') || existsSync('/bin/busybox')) shells.push(['busybox ash', ['busybox', 'sh', '-s']]);
  for (const [label, argv] of shells) {
    it(`runs under ${label} without errors and parses`, () => {
      const r = spawnSync(argv[0]!, argv.slice(1), { input: PROBE_SCRIPT, encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      const f = parseFactsOutput(r.stdout);
      expect(FactsSchema.safeParse(f).success).toBe(true);
      expect(f.cpus).toBeGreaterThan(0);
      expect(f.memTotalMb).toBeGreaterThan(0);
    });
  }
  it('uses no bash-only syntax', () => {
    expect(PROBE_SCRIPT).not.toMatch(/\[\[|\$'|<<<|\bfunction\b|(^|[;\s])local\s|(^|[;\s])source\s|\$\{[^}]*\/\/|declare /m);
  });
});
