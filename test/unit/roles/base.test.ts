// Role base without a host: variable defaults and errors, every template rendered (golden),
// the NTP plan, and the task decisions that differ between a container and a VM, run over
// FakeTransport (what is written, with which validate, what is run, what is reported).
import { describe, expect, it } from 'vitest';
import type { Facts } from '../../../lib/facts/types.ts';
import type { Inventory } from '../../../lib/inventory/types.ts';
import type { OpResult } from '../../../lib/ops/types.ts';
import { makeHostCtx } from '../../../lib/run/context.ts';
import { inventoryLookup } from '../../../lib/run/lookup.ts';
import type { HostCtx, Role } from '../../../lib/run/types.ts';
import { redact } from '../../../lib/secrets/redact.ts';
import { baseRole, baseVars, hostEntries, packageList, platform } from '../../../roles/base/index.ts';
import { networkOf, planNtp, subnetOf } from '../../../roles/base/ntp.ts';
import {
  chronyConf,
  chronyContainerDropIn,
  hostsBlock,
  nftablesConf,
  nftablesServiceDropIn,
  sshdDropIn,
  sudoersFile,
} from '../../../roles/base/templates.ts';
import { isCidr, parsePortSpec } from '../../../lib/vars/index.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { containerFacts, debianFacts, fileOut } from '../ops/helpers.ts';
import { makeInventory } from '../run/helpers.ts';

const lab: Inventory = makeInventory({
  infra: { vars: { ansible_host: '10.17.4.11' }, groups: ['infra'] },
  master1: { vars: { ansible_host: '10.17.4.21' }, groups: ['k3s_cluster', 'masters'] },
  worker1: { vars: { ansible_host: '10.17.4.24' }, groups: ['k3s_cluster', 'workers'] },
  byname: { vars: { ansible_host: 'node.example.org' } },
});

const infraFacts: Facts = {
  ...containerFacts,
  hostname: 'infra',
  interfaces: [
    { name: 'lo', up: true, addresses: ['127.0.0.1/8'] },
    { name: 'eth0', up: true, addresses: ['10.17.4.11/24', 'fe80::1/64'] },
  ],
  defaultIpv4: '10.17.4.11',
};

interface Run {
  result: OpResult;
  t: FakeTransport;
  skippedWhy?: string;
}

/** Run one task of a role on a fake host the way the runner does (when, then run). */
async function runTask(
  role: Role,
  task: string,
  o: { host?: string; facts?: Facts; vars?: Record<string, unknown>; check?: boolean; t?: FakeTransport; inventory?: Inventory } = {},
): Promise<Run> {
  const t = o.t ?? new FakeTransport(o.host ?? 'master1');
  const inventory = o.inventory ?? lab;
  const host = o.host ?? 'master1';
  const vars = role.vars.parse({ ...inventory.hosts.get(host)?.vars, ...o.vars });
  const ctx = makeHostCtx({
    host,
    transport: t,
    facts: o.facts ?? containerFacts,
    check: o.check ?? false,
    diff: false,
    become: false,
    vars,
    hostVars: inventory.hosts.get(host)?.vars ?? {},
    inventory,
    groups: inventory.hosts.get(host)?.groups ?? ['all'],
    registered: {},
    factsOf: () => undefined,
    log: () => {},
  }) as HostCtx<unknown>;
  const def = role.tasks.find((x) => x.name === task) ?? role.handlers?.find((x) => x.name === task);
  if (!def) throw new Error(`no task ${task}`);
  const when = def.when?.(ctx);
  if (when === false || typeof when === 'string') return { result: { status: 'skipped', msg: String(when) }, t, skippedWhy: String(when) };
  return { result: await def.run(ctx), t };
}

const base = baseRole as unknown as Role;

describe('base vars', () => {
  it('INI and -e spellings: "yes"/"no" flags, "6443" ports and numbers', () => {
    const v = baseVars.parse({
      base_etc_hosts: 'no',
      base_admin_users: [{ name: 'ops', sudo: 'yes', sudo_nopasswd: 'on' }],
      base_admin_keys_exclusive: 'false',
      base_sshd_password_authentication: 'no',
      base_ntp_enabled: 'yes',
      base_ntp_local_stratum: '8',
      base_nftables_enabled: 'yes',
      base_nftables_protected_ports: ['6443', 6443, '8472/udp'],
    });
    expect(v).toMatchObject({
      base_etc_hosts: false,
      base_admin_keys_exclusive: false,
      base_sshd_password_authentication: false,
      base_ntp_enabled: true,
      base_ntp_local_stratum: 8,
      base_nftables_enabled: true,
      base_nftables_protected_ports: ['6443', '6443', '8472/udp'],
    });
    expect(v.base_admin_users[0]).toMatchObject({ sudo: true, sudo_nopasswd: true });
    expect(baseVars.safeParse({ base_nftables_enabled: 'perhaps' }).success).toBe(false);
  });


  it('defaults: seed-004 timezone, hardened sshd, chrony on, nftables off with the LAN/VPN ranges', () => {
    const v = baseVars.parse({});
    expect(v).toMatchObject({
      base_timezone: 'Europe/Madrid',
      base_etc_hosts: true,
      base_packages: ['ca-certificates', 'curl', 'tzdata'],
      base_admin_users: [],
      base_sshd_password_authentication: false,
      base_sshd_permit_root_login: 'prohibit-password',
      base_ntp_enabled: true,
      base_ntp_server_group: 'infra',
      base_ntp_local_stratum: 10,
      base_nftables_enabled: false,
      base_nftables_allowed_cidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
      base_nftables_protected_ports: ['6443/tcp'],
    });
    expect(v.base_ntp_servers).toBeUndefined();
    expect(v.base_ntp_allow).toBeUndefined();
  });

  it('admin user defaults and port numbers as given in YAML', () => {
    const v = baseVars.parse({ base_admin_users: [{ name: 'ops' }], base_nftables_protected_ports: [6443, '8472/udp'] });
    expect(v.base_admin_users[0]).toEqual({ name: 'ops', keys: [], sudo: false, sudo_nopasswd: false, shell: '/bin/bash' });
    expect(v.base_nftables_protected_ports).toEqual(['6443', '8472/udp']);
  });

  it.each([
    [{ base_nftables_allowed_cidrs: ['10.0.0.0/33'] }, 'base_nftables_allowed_cidrs.0', 'CIDR'],
    [{ base_nftables_allowed_cidrs: ['lan'] }, 'base_nftables_allowed_cidrs.0', 'CIDR'],
    [{ base_nftables_protected_ports: ['6443/sctp'] }, 'base_nftables_protected_ports.0', 'port'],
    [{ base_admin_users: [{ name: 'Bad User' }] }, 'base_admin_users.0.name', 'POSIX user name'],
    [{ base_sshd_permit_root_login: 'maybe' }, 'base_sshd_permit_root_login', ''],
    [{ base_ntp_local_stratum: 16 }, 'base_ntp_local_stratum', ''],
    [{ base_timezone: 5 }, 'base_timezone', ''],
  ])('rejects %j at %s', (input, path, words) => {
    const r = baseVars.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path.join('.')).toBe(path);
    expect(r.error!.issues[0]!.message).toContain(words);
  });

  it('password hashes are secrets: registered for redaction when parsed', () => {
    const hash = '$6$saltsalt$0123456789abcdefhashvalue';
    baseVars.parse({ base_admin_users: [{ name: 'ops', sudo: true, password_hash: hash }] });
    expect(redact(`hash is ${hash}`)).not.toContain(hash);
  });

  it('CIDR and port spec parsing', () => {
    expect(['10.17.4.0/24', '10.17.4.1', 'fd00::/8', '::1'].map(isCidr)).toEqual([true, true, true, true]);
    expect(['10.17.4.0/', '10.17.4.0/24/1', '300.1.1.1', 'fd00::/129'].map(isCidr)).toEqual([false, false, false, false]);
    expect(parsePortSpec('2379-2380/tcp')).toEqual({ from: 2379, to: 2380, proto: 'tcp' });
    expect(parsePortSpec('8472/udp')).toEqual({ from: 8472, to: 8472, proto: 'udp' });
    expect(parsePortSpec('6443')).toEqual({ from: 6443, to: 6443, proto: 'tcp' });
    expect(parsePortSpec('2380-2379')).toBeUndefined();
    expect(parsePortSpec('70000')).toBeUndefined();
  });

  it('packages: the enabled features add what they need, once', () => {
    const v = baseVars.parse({ base_nftables_enabled: true, base_packages: ['curl', 'chrony'], base_admin_users: [{ name: 'ops', sudo: true }] });
    expect(packageList(v)).toEqual(['curl', 'chrony', 'nftables', 'sudo']);
    expect(packageList(baseVars.parse({ base_ntp_enabled: false }))).toEqual(['ca-certificates', 'curl', 'tzdata']);
  });
});

describe('base templates', () => {
  it('/etc/hosts block: IP addresses only, in inventory order', () => {
    const entries = hostEntries(inventoryLookup(lab));
    expect(hostsBlock(entries)).toBe('10.17.4.11\tinfra\n10.17.4.21\tmaster1\n10.17.4.24\tworker1');
  });

  it('sshd drop-in', () => {
    expect(sshdDropIn({ passwordAuthentication: false, permitRootLogin: 'prohibit-password', options: { MaxAuthTries: 3, X11Forwarding: false } })).toBe(
      [
        '# Managed by drover (role base): local changes are overwritten.',
        '# sshd keeps the first value it reads for a keyword and sshd_config includes',
        '# sshd_config.d/*.conf at its top, so these win over the main file.',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'MaxAuthTries 3',
        'X11Forwarding no',
        '',
      ].join('\n'),
    );
  });

  it('sudoers: NOPASSWD only when asked; no file when nobody may sudo', () => {
    const users = baseVars.parse({
      base_admin_users: [
        { name: 'ops', sudo: true, sudo_nopasswd: true },
        { name: 'dev', sudo: true },
        { name: 'guest' },
      ],
    }).base_admin_users;
    expect(sudoersFile(users)).toBe(
      '# Managed by drover (role base): local changes are overwritten.\nops ALL=(ALL:ALL) NOPASSWD: ALL\ndev ALL=(ALL:ALL) ALL\n',
    );
    expect(sudoersFile(users.filter((u) => !u.sudo))).toBeUndefined();
  });

  it('chrony.conf of a client and of the server', () => {
    expect(chronyConf({ servers: ['10.17.4.11'], pools: [], allow: [], driftfile: '/var/lib/chrony/chrony.drift' })).toBe(
      [
        '# Managed by drover (role base): local changes are overwritten.',
        'server 10.17.4.11 iburst',
        'driftfile /var/lib/chrony/chrony.drift',
        '# Step the clock when it is off by more than 1 s, in the first 3 updates only.',
        'makestep 1 3',
        'rtcsync',
        '',
      ].join('\n'),
    );
    expect(chronyConf({ servers: [], pools: ['2.debian.pool.ntp.org'], allow: ['10.17.4.0/24'], localStratum: 10, driftfile: '/var/lib/chrony/drift' })).toBe(
      [
        '# Managed by drover (role base): local changes are overwritten.',
        'pool 2.debian.pool.ntp.org iburst',
        'driftfile /var/lib/chrony/drift',
        '# Step the clock when it is off by more than 1 s, in the first 3 updates only.',
        'makestep 1 3',
        'rtcsync',
        '# NTP server for these subnets.',
        'allow 10.17.4.0/24',
        'local stratum 10',
        '',
      ].join('\n'),
    );
  });

  it('chrony container drop-in lifts the CAP_SYS_TIME condition and adds -x', () => {
    const d = chronyContainerDropIn('systemd-nspawn', '/usr/sbin/chronyd');
    expect(d).toContain('(systemd-nspawn)');
    expect(d.split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      '[Unit]',
      'ConditionCapability=',
      '',
      '[Service]',
      'ExecStart=',
      'ExecStart=!/usr/sbin/chronyd $DAEMON_OPTS -x',
      '',
    ]);
  });

  it('nftables.conf: our table only, recreated atomically; protected ports through the allow-list', () => {
    expect(nftablesConf({ allowedCidrs: ['10.17.4.0/24', 'fd00::/8'], protectedPorts: ['6443/tcp', '2379-2380', '51820/udp'] })).toBe(
      [
        '#!/usr/sbin/nft -f',
        '# Managed by drover (role base): local changes are overwritten.',
        '# Only table inet drover is ours: it is deleted and recreated in one transaction, and',
        '# the rest of the ruleset (K3s, kube-proxy, CNI tables) is left alone.',
        'table inet drover',
        'delete table inet drover',
        '',
        'table inet drover {',
        '\tset allowed_v4 {',
        '\t\ttype ipv4_addr',
        '\t\tflags interval',
        '\t\telements = { 10.17.4.0/24 }',
        '\t}',
        '\tset allowed_v6 {',
        '\t\ttype ipv6_addr',
        '\t\tflags interval',
        '\t\telements = { fd00::/8 }',
        '\t}',
        '',
        '\t# Accept rules added by other roles (files in /etc/nftables.d).',
        '\tchain allow {',
        '\t}',
        '',
        '\tchain protected {',
        '\t\tip saddr @allowed_v4 accept',
        '\t\tip6 saddr @allowed_v6 accept',
        '\t\tjump allow',
        '\t\tcounter drop',
        '\t}',
        '',
        '\tchain input {',
        '\t\ttype filter hook input priority filter; policy accept;',
        '\t\tiif "lo" accept',
        '\t\tct state established,related accept',
        '\t\ttcp dport { 6443, 2379-2380 } jump protected',
        '\t\tudp dport { 51820 } jump protected',
        '\t}',
        '}',
        '',
        'include "/etc/nftables.d/*.nft"',
        '',
      ].join('\n'),
    );
  });

  it('nftables.conf: an empty family set has no elements line (nft rejects `elements = { }`)', () => {
    const conf = nftablesConf({ allowedCidrs: ['10.17.4.1/32'], protectedPorts: ['6443'] });
    expect(conf).toContain('\tset allowed_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}');
    expect(conf).not.toContain('elements = {  }');
    expect(conf).not.toContain('udp dport');
    expect(conf).not.toContain('flush ruleset');
  });

  it('nftables.service drop-in: stopping removes only our table, never `flush ruleset`', () => {
    expect(nftablesServiceDropIn('/usr/sbin/nft')).toBe(
      '# Managed by drover (role base): local changes are overwritten.\n[Service]\nExecStop=\nExecStop=-/usr/sbin/nft delete table inet drover\n',
    );
  });
});

describe('NTP plan', () => {
  const vars = baseVars.parse({});

  it('the infra host serves the subnet of its own address, from the upstream pools', () => {
    const p = planNtp({ host: 'infra', lookup: inventoryLookup(lab), vars, interfaces: infraFacts.interfaces, defaultIpv4: null });
    expect(p).toMatchObject({ server: true, servers: [], pools: ['2.debian.pool.ntp.org'], allow: ['10.17.4.0/24'], localStratum: 10 });
    expect(p.notes.join()).toContain('serves 10.17.4.0/24 (the subnet of 10.17.4.11)');
  });

  it('other hosts follow the first host of group infra', () => {
    const p = planNtp({ host: 'worker1', lookup: inventoryLookup(lab), vars, interfaces: [], defaultIpv4: null });
    expect(p).toMatchObject({ server: false, servers: ['10.17.4.11'], pools: [], allow: [] });
  });

  it('explicit servers and allow win; no server group means upstream pools', () => {
    const set = baseVars.parse({ base_ntp_servers: ['ntp1.lan'], base_ntp_allow: ['10.0.0.0/8'] });
    expect(planNtp({ host: 'worker1', lookup: inventoryLookup(lab), vars: set, interfaces: [], defaultIpv4: null }).servers).toEqual(['ntp1.lan']);
    expect(planNtp({ host: 'infra', lookup: inventoryLookup(lab), vars: set, interfaces: [], defaultIpv4: null })).toMatchObject({ servers: ['ntp1.lan'], pools: [], allow: ['10.0.0.0/8'] });
    const none = baseVars.parse({ base_ntp_server_group: 'timeservers' });
    const p = planNtp({ host: 'worker1', lookup: inventoryLookup(lab), vars: none, interfaces: [], defaultIpv4: null });
    expect(p).toMatchObject({ servers: [], pools: ['2.debian.pool.ntp.org'] });
    expect(p.notes.join()).toContain('no host in group timeservers');
  });

  it('a server whose address is on no interface serves nobody, and says so', () => {
    const p = planNtp({ host: 'infra', lookup: inventoryLookup(lab), vars, interfaces: [], defaultIpv4: null });
    expect(p.allow).toEqual([]);
    expect(p.notes.join()).toContain('serves nobody');
  });

  it('drover_peer_address overrides the SSH address: chrony server, own subnet and /etc/hosts', () => {
    const nat = makeInventory({
      infra: { vars: { ansible_host: '203.0.113.11', drover_peer_address: '10.17.4.11' }, groups: ['infra'] },
      worker1: { vars: { ansible_host: '203.0.113.24', drover_peer_address: '10.17.4.24' }, groups: ['k3s_cluster', 'workers'] },
    });
    const lookup = inventoryLookup(nat);
    expect(planNtp({ host: 'worker1', lookup, vars, interfaces: [], defaultIpv4: null }).servers).toEqual(['10.17.4.11']);
    expect(planNtp({ host: 'infra', lookup, vars, interfaces: infraFacts.interfaces, defaultIpv4: null }).allow).toEqual(['10.17.4.0/24']);
    expect(hostEntries(lookup)).toEqual([
      { name: 'infra', address: '10.17.4.11' },
      { name: 'worker1', address: '10.17.4.24' },
    ]);
  });

  it('subnet arithmetic and group membership', () => {
    expect(networkOf('10.17.4.11/24')).toBe('10.17.4.0/24');
    expect(networkOf('192.168.1.77/26')).toBe('192.168.1.64/26');
    expect(networkOf('10.1.2.3/0')).toBe('0.0.0.0/0');
    expect(networkOf('fe80::1/64')).toBeUndefined();
    expect(subnetOf(infraFacts.interfaces, '10.17.4.11')).toBe('10.17.4.0/24');
    expect(inventoryLookup(lab).hostsOf('k3s_cluster')).toEqual(['master1', 'worker1']);
  });
});

describe('base task decisions (FakeTransport)', () => {
  it('platform names: Debian ssh/chrony, RHEL sshd/chronyd', () => {
    expect(platform(debianFacts)).toEqual({ sshService: 'ssh', chronyService: 'chrony', chronyConf: '/etc/chrony/chrony.conf', driftfile: '/var/lib/chrony/chrony.drift' });
    expect(platform({ ...debianFacts, os: { ...debianFacts.os, id: 'almalinux', family: 'redhat' } })).toMatchObject({ sshService: 'sshd', chronyService: 'chronyd', chronyConf: '/etc/chrony.conf' });
  });

  it('container: chrony gets the -x drop-in (daemon-reload), and the message says why', async () => {
    const { result, t } = await runTask(base, 'chrony can run here', { facts: containerFacts });
    expect(result.status).toBe('changed');
    expect(result.msg).toContain('chronyd runs with -x in this container (systemd-nspawn)');
    expect(result.msg).toContain('no CAP_SYS_TIME');
    const put = t.files.get('/etc/systemd/system/chrony.service.d/50-drover-container.conf');
    expect(put?.content.toString()).toContain('ExecStart=!/usr/sbin/chronyd $DAEMON_OPTS -x');
    expect(t.commands.at(-1)).toBe('systemctl daemon-reload');
  });

  it('VM: no drop-in; a leftover one is removed and systemd reloaded', async () => {
    const clean = await runTask(base, 'chrony can run here', { facts: debianFacts });
    expect(clean.result.status).toBe('ok');
    expect(clean.t.files.size).toBe(0);
    expect(clean.result.msg).not.toContain('-x');

    const t = new FakeTransport('master1').on('50-drover-container.conf', { stdout: fileOut({ content: 'x' }) });
    const left = await runTask(base, 'chrony can run here', { facts: debianFacts, t });
    expect(left.result.status).toBe('changed');
    expect(t.commands.some((c) => c.includes('rm -f') && c.includes('50-drover-container.conf'))).toBe(true);
    expect(t.commands.at(-1)).toBe('systemctl daemon-reload');
  });

  it('/etc/hosts and chrony.conf use the peer address given by play vars or -e', async () => {
    const t = new FakeTransport('worker1').on('/etc/hosts', { stdout: fileOut({ content: '127.0.0.1\tlocalhost\n', withContent: true }) });
    const inventory = lab;
    const ctx = makeHostCtx({
      host: 'worker1',
      transport: t,
      facts: containerFacts,
      check: false,
      diff: false,
      become: false,
      vars: baseVars.parse(inventory.hosts.get('worker1')!.vars),
      hostVars: inventory.hosts.get('worker1')!.vars,
      inventory,
      groups: inventory.hosts.get('worker1')!.groups,
      registered: {},
      factsOf: () => undefined,
      log: () => {},
      varsOf: (h) => (h === 'infra' ? { ...inventory.hosts.get(h)!.vars, drover_peer_address: '192.168.7.11' } : undefined),
    }) as HostCtx<unknown>;
    const chrony = base.tasks.find((x) => x.name === 'chrony configuration')!;
    await chrony.run(ctx);
    expect(t.files.get('/etc/chrony/chrony.conf')?.content.toString()).toContain('server 192.168.7.11 iburst\n');
    const hosts = base.tasks.find((x) => x.name === '/etc/hosts lists the inventory')!;
    expect((await hosts.run(ctx)).status).toBe('changed');
    const etcHosts = t.files.get('/etc/hosts')?.content.toString() ?? '';
    expect(etcHosts).toContain('192.168.7.11\tinfra\n');
    expect(etcHosts).not.toContain('10.17.4.11');
  });

  it('chrony.conf: the infra host serves its subnet; a client points at infra', async () => {
    const server = await runTask(base, 'chrony configuration', { host: 'infra', facts: infraFacts });
    const conf = server.t.files.get('/etc/chrony/chrony.conf')?.content.toString() ?? '';
    expect(conf).toContain('allow 10.17.4.0/24\nlocal stratum 10\n');
    expect(server.result.msg).toContain('NTP server for 10.17.4.0/24');

    const client = await runTask(base, 'chrony configuration', { host: 'worker1', facts: containerFacts });
    expect(client.t.files.get('/etc/chrony/chrony.conf')?.content.toString()).toContain('server 10.17.4.11 iburst\n');
    expect(client.result.msg).toContain('NTP client, sources: 10.17.4.11');
  });

  it('sshd drop-in is validated by sshd -t before it replaces the old one', async () => {
    const { result, t } = await runTask(base, 'sshd hardening drop-in');
    expect(result.status).toBe('changed');
    const put = t.files.get('/etc/ssh/sshd_config.d/50-drover.conf');
    expect(put?.options).toMatchObject({ validate: '/usr/sbin/sshd -t -f %s', mode: '0644' });
    expect(put?.content.toString()).toContain('PasswordAuthentication no\n');
    expect(baseRole.tasks.find((x) => x.name === 'sshd hardening drop-in')?.notify).toBe('reload sshd');
  });

  it('sudoers file is checked with visudo; none wanted -> removed', async () => {
    const users = [{ name: 'ops', keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx ops@x'], sudo: true, sudo_nopasswd: true }];
    const { t } = await runTask(base, 'sudo rights of admin users', { vars: { base_admin_users: users } });
    expect(t.files.get('/etc/sudoers.d/drover-admins')?.options).toMatchObject({ validate: 'visudo -cf %s', mode: '0440', owner: 'root', group: 'root' });

    const t2 = new FakeTransport('master1').on('drover-admins', { stdout: 'type=file\n' });
    const gone = await runTask(base, 'sudo rights of admin users', { t: t2 });
    expect(gone.result.status).toBe('changed');
    expect(t2.commands.some((c) => c.includes('rm -f') && c.includes('/etc/sudoers.d/drover-admins'))).toBe(true);
  });

  it('nftables: skipped with the reason unless enabled; the ruleset is validated with nft -c', async () => {
    const off = await runTask(base, 'nftables allow-list');
    expect(off.skippedWhy).toBe('nftables allow-list disabled (base_nftables_enabled is false)');
    const on = await runTask(base, 'nftables allow-list', { vars: { base_nftables_enabled: true } });
    expect(on.t.files.get('/etc/nftables.conf')?.options).toMatchObject({ validate: 'nft -c -f %s' });
  });

  it('nftables ruleset loaded: reloads only when our table is missing from the kernel', async () => {
    const present = new FakeTransport('master1').on('nft list table inet drover', { code: 0 });
    const ok = await runTask(base, 'nftables ruleset loaded', { vars: { base_nftables_enabled: true }, t: present });
    expect(ok.result.status).toBe('ok');
    expect(present.commands.some((c) => c === 'nft -f /etc/nftables.conf')).toBe(false);

    const missing = new FakeTransport('master1').on('nft list table inet drover', { code: 1, stderr: 'Error: No such file or directory' });
    const load = await runTask(base, 'nftables ruleset loaded', { vars: { base_nftables_enabled: true }, t: missing });
    expect(load.result.status).toBe('changed');
    expect(missing.commands).toContain('nft -f /etc/nftables.conf');
  });

  it('check mode: would-changes reported, nothing written or run', async () => {
    for (const task of ['sshd hardening drop-in', 'chrony can run here', 'chrony configuration']) {
      const { result, t } = await runTask(base, task, { check: true });
      expect(result.status).toBe('changed');
      expect(result.msg).toMatch(/^would /);
      expect(t.files.size).toBe(0);
      expect(t.commands.every((c) => !c.includes('daemon-reload'))).toBe(true);
    }
  });

  it('admin users: user then exclusive authorized keys; empty list skipped with the reason', async () => {
    const none = await runTask(base, 'admin users and their keys');
    expect(none.skippedWhy).toBe('no admin users (base_admin_users is empty)');
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx ops@x';
    // The user exists already (primary group ops) but has no ~/.ssh yet.
    const t = new FakeTransport('master1')
      .on('authorized_keys', { stdout: 'home=/home/ops\nugroup=ops\ntype=absent\n' })
      .on('getent passwd', { stdout: 'passwd=ops:x:1001:1001::/home/ops:/bin/bash\npgroup=ops\ngroups=ops\n' });
    const { result } = await runTask(base, 'admin users and their keys', { vars: { base_admin_users: [{ name: 'ops', keys: [key] }] }, t });
    expect(result.status).toBe('changed');
    expect(t.commands.some((c) => c.includes('useradd'))).toBe(false);
    expect(t.files.get('/home/ops/.ssh/authorized_keys')?.content.toString()).toBe(`${key}\n`);
    expect(t.files.get('/home/ops/.ssh/authorized_keys')?.options).toMatchObject({ mode: '0600', owner: 'ops', group: 'ops' });
    expect(t.commands.some((c) => c.includes('mkdir -p -m 0700 /home/ops/.ssh'))).toBe(true);
  });

  it('handlers reload ssh (Debian) and restart chrony', async () => {
    const t = new FakeTransport('master1').on('systemctl show', { stdout: 'load=loaded\nactive=active\n' });
    const r = await runTask(base, 'reload sshd', { facts: debianFacts, t });
    expect(r.result.status).toBe('changed');
    expect(t.commands.at(-1)).toBe('systemctl reload ssh');
  });
});
