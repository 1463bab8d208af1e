// Facts of typical hosts, for unit tests: what gatherFacts() reports on them.
import type { Facts } from '../facts/types.ts';

/** A Debian 12 VM, logged in as root (so become is moot), systemd, apt, no container. */
export const debianFacts: Facts = {
  hostname: 'node1',
  os: { id: 'debian', family: 'debian', version: '12', versionMajor: 12, codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
  kernel: '6.1.0-18-amd64',
  arch: 'x86_64',
  init: 'systemd',
  pkgManager: 'apt',
  container: null,
  vm: 'kvm',
  python: null,
  interfaces: [{ name: 'eth0', up: true, addresses: ['10.17.4.21/24'] }],
  defaultIpv4: '10.17.4.21',
  memTotalMb: 2048,
  cpus: 2,
  uid: 0,
  selinux: 'absent',
};

/** The same host as a systemd-nspawn container (as the project's lab hosts are). */
export const containerFacts: Facts = { ...debianFacts, container: 'systemd-nspawn', vm: null };

/** AlmaLinux 9: the RHEL family (dnf, SELinux enforcing). */
export const almaFacts: Facts = {
  ...debianFacts,
  os: { id: 'almalinux', family: 'redhat', version: '9.3', versionMajor: 9, prettyName: 'AlmaLinux 9.3' },
  pkgManager: 'dnf',
  selinux: 'enforcing',
};
