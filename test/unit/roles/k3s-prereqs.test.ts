// Role k3s-prereqs without a host: vars, templates (golden), and the decisions of BOTH
// paths, container (lab: systemd-nspawn) and VM/bare metal, driven by FakeTransport facts:
// what runs, what is written, what is skipped and why.
import { describe, expect, it } from 'vitest';
import type { Facts } from '../../../lib/facts/types.ts';
import type { Inventory } from '../../../lib/inventory/types.ts';
import type { OpResult } from '../../../lib/ops/types.ts';
import { makeHostCtx } from '../../../lib/run/context.ts';
import { inventoryLookup } from '../../../lib/run/lookup.ts';
import type { HostCtx, Role } from '../../../lib/run/types.ts';
import { planBridgeSysctls } from '../../../roles/k3s-prereqs/bridge.ts';
import { decideFirewalld, firewalldPorts, parseFirewalldState } from '../../../roles/k3s-prereqs/firewall.ts';
import { baseRole } from '../../../roles/base/index.ts';
import { k3sPrereqsRole, k3sPrereqsVars, nftSources } from '../../../roles/k3s-prereqs/index.ts';
import { decideModules, parseModulesState } from '../../../roles/k3s-prereqs/modules.ts';
import { decideSelinuxLive } from '../../../roles/k3s-prereqs/selinux.ts';
import { decideSwap, parseSwapState } from '../../../roles/k3s-prereqs/swap.ts';
import { commentSwapLines, isSwapLine, k3sNftables, modulesLoadConf } from '../../../roles/k3s-prereqs/templates.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { almaFacts, containerFacts, debianFacts, fileOut } from '../ops/helpers.ts';
import { makeInventory } from '../run/helpers.ts';

const inv: Inventory = makeInventory({
  loadbalancer1: { vars: { ansible_host: '10.17.4.30' }, groups: ['loadbalancers'] },
  master1: { vars: { ansible_host: '10.17.4.21' }, groups: ['k3s_cluster', 'masters'] },
  worker1: { vars: { ansible_host: '10.17.4.24' }, groups: ['k3s_cluster', 'workers'] },
  infra: { vars: { ansible_host: '10.17.4.11' }, groups: ['infra'] },
});

const role = k3sPrereqsRole as unknown as Role;

async function runTask(
  task: string,
  o: { facts?: Facts; vars?: Record<string, unknown>; check?: boolean; t?: FakeTransport } = {},
): Promise<{ result: OpResult; t: FakeTransport; skippedWhy?: string }> {
  const t = o.t ?? new FakeTransport('master1');
  const ctx = makeHostCtx({
    host: 'master1',
    transport: t,
    facts: o.facts ?? containerFacts,
    check: o.check ?? false,
    diff: false,
    become: false,
    vars: role.vars.parse({ ...inv.hosts.get('master1')!.vars, ...o.vars }),
    hostVars: inv.hosts.get('master1')!.vars,
    inventory: inv,
    groups: inv.hosts.get('master1')!.groups,
    registered: {},
    factsOf: () => undefined,
    log: () => {},
  }) as HostCtx<unknown>;
  const def = role.tasks.find((x) => x.name === task);
  if (!def) throw new Error(`no task ${task}`);
  const when = def.when?.(ctx);
  if (when === false || typeof when === 'string') return { result: { status: 'skipped', msg: String(when) }, t, skippedWhy: String(when) };
  return { result: await def.run(ctx), t };
}

describe('k3s-prereqs vars and templates', () => {
  it('defaults', () => {
    expect(k3sPrereqsVars.parse({})).toEqual({
      k3s_prereqs_modules: ['overlay', 'br_netfilter'],
      k3s_prereqs_disable_swap: true,
      k3s_prereqs_sysctls_extra: {},
      k3s_prereqs_selinux_permissive: true,
      k3s_prereqs_firewall_ports: ['6443/tcp', '2379-2380/tcp', '10250/tcp', '8472/udp', '51820-51821/udp'],
      k3s_prereqs_nodes_group: 'k3s_cluster',
      k3s_prereqs_cluster_cidrs: ['10.42.0.0/16', '10.43.0.0/16'],
      k3s_prereqs_api_client_groups: ['loadbalancers'],
      k3s_prereqs_api_port: 6443,
      base_nftables_enabled: false,
    });
  });

  it.each([
    [{ k3s_prereqs_modules: ['br netfilter'] }, 'k3s_prereqs_modules.0'],
    [{ k3s_prereqs_firewall_ports: ['8472/icmp'] }, 'k3s_prereqs_firewall_ports.0'],
    [{ k3s_prereqs_cluster_cidrs: ['10.42.0.0/99'] }, 'k3s_prereqs_cluster_cidrs.0'],
    [{ k3s_prereqs_sysctls_extra: { 'vm swappiness': 0 } }, 'k3s_prereqs_sysctls_extra.vm swappiness'],
    [{ base_nftables_enabled: 'sometimes' }, 'base_nftables_enabled'],
  ])('rejects %j at %s', (input, path) => {
    const r = k3sPrereqsVars.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path.join('.')).toBe(path);
  });

  it('modules-load.d file', () => {
    expect(modulesLoadConf(['overlay', 'br_netfilter'])).toBe('# Managed by drover (role k3s-prereqs): local changes are overwritten.\noverlay\nbr_netfilter\n');
  });

  it('fstab: only active swap entries are commented out', () => {
    const fstab = ['# /etc/fstab', 'UUID=1 / ext4 errors=remount-ro 0 1', 'UUID=2 none swap sw 0 0', '/swapfile\tnone\tswap\tsw\t0\t0', '#/old none swap sw 0 0', ''].join('\n');
    expect(commentSwapLines(fstab)).toBe(
      ['# /etc/fstab', 'UUID=1 / ext4 errors=remount-ro 0 1', '# UUID=2 none swap sw 0 0', '# /swapfile\tnone\tswap\tsw\t0\t0', '#/old none swap sw 0 0', ''].join('\n'),
    );
    expect(commentSwapLines(commentSwapLines(fstab))).toBe(commentSwapLines(fstab));
    expect(isSwapLine('tmpfs /tmp tmpfs defaults 0 0')).toBe(false);
  });

  it('nftables include: K3s ports through base `protected`, admitted from nodes, API from the LBs', () => {
    expect(
      k3sNftables({
        ports: ['6443/tcp', '2379-2380/tcp', '10250/tcp', '8472/udp', '51820-51821/udp'],
        trusted: ['10.17.4.21', '10.17.4.24', '10.42.0.0/16', 'fd42::/48'],
        apiClients: ['10.17.4.30'],
        apiPort: 6443,
      }),
    ).toBe(
      [
        '#!/usr/sbin/nft -f',
        '# Managed by drover (role k3s-prereqs): local changes are overwritten.',
        '# Included by /etc/nftables.conf (role base) inside its reload of table inet drover:',
        '# K3s, etcd, kubelet, VXLAN and WireGuard ports reachable from the cluster (and from',
        "# base's allowed sources), dropped for everyone else.",
        'table inet drover {',
        '\tchain allow {',
        '\t\tip saddr { 10.17.4.21, 10.17.4.24, 10.42.0.0/16 } tcp dport { 6443, 2379-2380, 10250 } accept',
        '\t\tip saddr { 10.17.4.21, 10.17.4.24, 10.42.0.0/16 } udp dport { 8472, 51820-51821 } accept',
        '\t\tip saddr { 10.17.4.30 } tcp dport 6443 accept',
        '\t\tip6 saddr { fd42::/48 } tcp dport { 6443, 2379-2380, 10250 } accept',
        '\t\tip6 saddr { fd42::/48 } udp dport { 8472, 51820-51821 } accept',
        '\t}',
        '',
        '\tchain protected {',
        '\t}',
        '',
        '\tchain input {',
        '\t\ttcp dport { 6443, 2379-2380, 10250 } jump protected',
        '\t\tudp dport { 8472, 51820-51821 } jump protected',
        '\t}',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('nft sources come from the inventory groups', () => {
    const vars = k3sPrereqsVars.parse({});
    expect(nftSources(inventoryLookup(inv), vars)).toEqual({ trusted: ['10.17.4.21', '10.17.4.24', '10.42.0.0/16', '10.43.0.0/16'], apiClients: ['10.17.4.30'] });
  });
});

describe('k3s-prereqs peers, INI spellings and its dependency', () => {
  it('nft sources use drover_peer_address over the SSH address', () => {
    const nat = makeInventory({
      loadbalancer1: { vars: { ansible_host: '203.0.113.30', drover_peer_address: '10.17.4.30' }, groups: ['loadbalancers'] },
      master1: { vars: { ansible_host: '203.0.113.21', drover_peer_address: '10.17.4.21' }, groups: ['k3s_cluster', 'masters'] },
      worker1: { vars: { ansible_host: '10.17.4.24' }, groups: ['k3s_cluster', 'workers'] },
    });
    expect(nftSources(inventoryLookup(nat), k3sPrereqsVars.parse({}))).toEqual({
      trusted: ['10.17.4.21', '10.17.4.24', '10.42.0.0/16', '10.43.0.0/16'],
      apiClients: ['10.17.4.30'],
    });
  });

  it('the nftables task admits the peer addresses the context gives (play vars, -e)', async () => {
    const t = new FakeTransport('master1');
    const ctx = makeHostCtx({
      host: 'master1',
      transport: t,
      facts: containerFacts,
      check: false,
      diff: false,
      become: false,
      vars: k3sPrereqsVars.parse({ base_nftables_enabled: 'yes' }),
      hostVars: inv.hosts.get('master1')!.vars,
      inventory: inv,
      groups: inv.hosts.get('master1')!.groups,
      registered: {},
      factsOf: () => undefined,
      log: () => {},
      varsOf: (h) => (h === 'loadbalancer1' ? { ...inv.hosts.get(h)!.vars, drover_peer_address: '192.168.9.30' } : undefined),
    }) as HostCtx<unknown>;
    const task = role.tasks.find((x) => x.name === 'nftables allow-list admits the K3s ports')!;
    const r = await task.run(ctx);
    expect(r.status).toBe('changed');
    expect(t.files.get('/etc/nftables.d/k3s-prereqs.nft')?.content.toString()).toContain('ip saddr { 192.168.9.30 } tcp dport 6443 accept');
  });

  it('INI and -e spellings: "yes"/"no" flags and "6443" ports', () => {
    const v = k3sPrereqsVars.parse({ k3s_prereqs_disable_swap: 'no', k3s_prereqs_selinux_permissive: 'off', base_nftables_enabled: 'yes', k3s_prereqs_api_port: '7443', k3s_prereqs_firewall_ports: [6443, '8472/udp'] });
    expect(v).toMatchObject({ k3s_prereqs_disable_swap: false, k3s_prereqs_selinux_permissive: false, base_nftables_enabled: true, k3s_prereqs_api_port: 7443, k3s_prereqs_firewall_ports: ['6443', '8472/udp'] });
    expect(k3sPrereqsVars.safeParse({ k3s_prereqs_api_port: '0' }).success).toBe(false);
  });

  it('declares role base as its dependency', () => {
    expect(k3sPrereqsRole.dependencies).toEqual([baseRole]);
  });
});

describe('swap', () => {
  const fstab = (content: string) => fileOut({ content, withContent: true });

  it('VM: swapoff -a when active, fstab commented', () => {
    const s = parseSwapState(`swap=/dev/vda2\n${fstab('/dev/vda2 none swap sw 0 0\n')}`);
    expect(s.active).toEqual(['/dev/vda2']);
    const d = decideSwap(s, { container: null, diff: false, preserveOwner: true });
    expect(d.change).toBe(true);
    expect(d.commands).toEqual(['swapoff -a']);
    expect(d.put?.content).toBe('# /dev/vda2 none swap sw 0 0\n');
    expect(d.skip).toBeUndefined();
  });

  it('container: the host kernel swap is not touched (skip reason), fstab still commented', () => {
    const s = parseSwapState(`swap=/swapfile\n${fstab('/swapfile none swap sw 0 0\n')}`);
    const d = decideSwap(s, { container: 'systemd-nspawn', diff: false, preserveOwner: true });
    expect(d.commands).toEqual([]);
    expect(d.put?.path).toBe('/etc/fstab');
    expect(d.skip).toBe('swap not turned off: /swapfile belongs to the host kernel and a container (systemd-nspawn) cannot swapoff');
  });

  it('nothing to do', () => {
    const d = decideSwap(parseSwapState(fstab('# UNCONFIGURED FSTAB FOR BASE SYSTEM\n')), { container: null, diff: false, preserveOwner: true });
    expect(d).toMatchObject({ change: false, msg: 'swap is off and not in /etc/fstab' });
  });
});

describe('kernel modules: container vs VM', () => {
  const mods = ['overlay', 'br_netfilter'];

  it('container: skipped with the reason, saying what the host kernel provides or lacks', () => {
    const s = parseModulesState('mod_overlay=1\nmod_br_netfilter=0\n', mods);
    const d = decideModules(s, { modules: mods, container: 'systemd-nspawn', check: false });
    expect(d.commands).toEqual([]);
    expect(d.skip).toBe('cannot load kernel modules in a container (systemd-nspawn): the host kernel provides overlay; the host kernel lacks br_netfilter (load it on the host)');
  });

  it('VM: modprobe what is missing, nothing when present, fail without modprobe', () => {
    const missing = parseModulesState('mod_overlay=1\nmod_br_netfilter=0\nhas_modprobe=1\n', mods);
    expect(decideModules(missing, { modules: mods, container: null, check: false })).toMatchObject({ change: true, commands: ['modprobe br_netfilter'], msg: 'load br_netfilter' });
    const present = parseModulesState('mod_overlay=1\nmod_br_netfilter=1\nhas_modprobe=1\n', mods);
    expect(decideModules(present, { modules: mods, container: null, check: false })).toMatchObject({ change: false, msg: 'overlay, br_netfilter loaded' });
    const noKmod = parseModulesState('mod_overlay=0\nmod_br_netfilter=0\n', mods);
    expect(decideModules(noKmod, { modules: mods, container: null, check: false }).fail).toContain('modprobe not found (install kmod)');
  });

  it('role task: VM runs modprobe; container runs none and is skipped', async () => {
    const vm = new FakeTransport('master1').on('/sys/module/', { stdout: 'mod_overlay=0\nmod_br_netfilter=0\nhas_modprobe=1\n' });
    const r1 = await runTask('kernel modules loaded', { facts: debianFacts, t: vm });
    expect(r1.result.status).toBe('changed');
    expect(vm.commands.at(-1)).toBe('modprobe overlay && modprobe br_netfilter');

    const ct = new FakeTransport('master1').on('/sys/module/', { stdout: 'mod_overlay=1\nmod_br_netfilter=1\n' });
    const r2 = await runTask('kernel modules loaded', { facts: containerFacts, t: ct });
    expect(r2.result).toMatchObject({ status: 'skipped', msg: 'cannot load kernel modules in a container (systemd-nspawn): the host kernel provides overlay, br_netfilter' });
    expect(ct.commands.some((c) => c.startsWith('modprobe'))).toBe(false);
  });

  it('kmod is installed on a VM only', async () => {
    expect((await runTask('modprobe available', { facts: containerFacts })).skippedWhy).toBe('not needed: kernel modules cannot be loaded in a container (systemd-nspawn)');
    const t = new FakeTransport('master1');
    await runTask('modprobe available', { facts: debianFacts, t });
    expect(t.commands.some((c) => c.includes('apt-get install') && c.includes('kmod'))).toBe(true);
  });

  it('the persisted list is the modules var', async () => {
    const { t } = await runTask('kernel modules persisted');
    expect(t.files.get('/etc/modules-load.d/k3s.conf')?.content.toString()).toContain('\noverlay\nbr_netfilter\n');
  });
});

describe('sysctls: container vs VM, and the missing bridge keys', () => {
  it('forwarding sysctls are network-namespaced: set for real in a container too', async () => {
    const t = new FakeTransport('master1').on('/proc/sys/net', { stdout: 'live=0\nhas_sysctl=1\n' });
    const { result } = await runTask('forwarding sysctls', { facts: containerFacts, t });
    expect(result.status).toBe('changed');
    expect(t.commands.filter((c) => c.includes('sysctl -w'))).toEqual([
      "sysctl -w net.ipv4.ip_forward=1",
      "sysctl -w net.ipv6.conf.all.forwarding=1",
    ]);
    expect(t.files.has('/etc/sysctl.d/90-k3s.conf')).toBe(true);
  });

  it('a non-namespaced extra sysctl is persisted, its live part skipped with the reason in a container', async () => {
    const t = new FakeTransport('master1').on('/proc/sys/vm/swappiness', { stdout: 'live=60\nhas_sysctl=1\n' });
    const { result } = await runTask('extra sysctls', { facts: containerFacts, t, vars: { k3s_prereqs_sysctls_extra: { 'vm.swappiness': 0 } } });
    expect(result.status).toBe('changed');
    expect(result.msg).toContain('live value not set: vm.swappiness is not namespaced and this host is a container (systemd-nspawn)');
    expect(t.commands.some((c) => c.includes('sysctl -w'))).toBe(false);
  });

  it('bridge keys plan: exist -> apply; missing -> persist only, skipped with the reason', () => {
    expect(planBridgeSysctls({ exists: true, hasModprobe: false }, { container: 'systemd-nspawn', check: false, loadsBrNetfilter: true })).toEqual({ kind: 'apply' });
    expect(planBridgeSysctls({ exists: false, hasModprobe: true }, { container: null, check: true, loadsBrNetfilter: true })).toEqual({ kind: 'apply' });
    const ct = planBridgeSysctls({ exists: false, hasModprobe: false }, { container: 'systemd-nspawn', check: false, loadsBrNetfilter: true });
    expect(ct).toEqual({
      kind: 'persist-only',
      reason: 'live value not set: net.bridge.* does not exist (no such key): br_netfilter is not loaded in the host kernel and a container (systemd-nspawn) cannot load it',
    });
    const vm = planBridgeSysctls({ exists: false, hasModprobe: true }, { container: null, check: false, loadsBrNetfilter: true });
    expect(vm.kind === 'persist-only' && vm.reason).toContain('modprobe did not make it appear');
  });

  it('bridge task, container without br_netfilter: lines persisted, status changed then skipped, never failed', async () => {
    // The fake serves back what was put, so the second line edits the file the first wrote.
    const t: FakeTransport = new FakeTransport('master1').on('90-k3s.conf', () => {
      const f = t.files.get('/etc/sysctl.d/90-k3s.conf');
      return { stdout: f ? fileOut({ content: f.content.toString(), withContent: true }) : '' };
    });
    const first = await runTask('bridge netfilter sysctls', { facts: containerFacts, t });
    expect(first.result.status).toBe('changed');
    expect(first.result.msg).toContain('no such key');
    expect(t.files.get('/etc/sysctl.d/90-k3s.conf')?.content.toString()).toBe(
      'net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n',
    );
    expect(t.commands.some((c) => c.includes('sysctl -w'))).toBe(false);

    const persisted = 'net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n';
    const again = new FakeTransport('master1').on('90-k3s.conf', { stdout: fileOut({ content: persisted, withContent: true }) });
    const second = await runTask('bridge netfilter sysctls', { facts: containerFacts, t: again });
    expect(second.result.status).toBe('skipped');
    expect(second.result.msg).toContain('br_netfilter is not loaded in the host kernel');
  });

  it('bridge task, keys present: set live through sysctl', async () => {
    const t = new FakeTransport('master1')
      .on('/proc/sys/net/bridge/', { stdout: 'live=0\nhas_sysctl=1\n' })
      .on('if [ -d /proc/sys/net/bridge ]', { stdout: 'exists=1\nhas_modprobe=1\n' });
    const { result } = await runTask('bridge netfilter sysctls', { facts: debianFacts, t });
    expect(result.status).toBe('changed');
    expect(t.commands.filter((c) => c.startsWith('sysctl -w'))).toEqual(['sysctl -w net.bridge.bridge-nf-call-iptables=1', 'sysctl -w net.bridge.bridge-nf-call-ip6tables=1']);
  });
});

describe('SELinux and firewalls', () => {
  it('SELinux: skipped with the reason off the RHEL family; enforcing -> setenforce 0 on a VM, skipped live in a container', async () => {
    expect((await runTask('SELinux permissive', { facts: debianFacts })).skippedWhy).toBe('SELinux is only managed on the RHEL family (this host: debian)');
    expect(decideSelinuxLive('Enforcing', null)).toMatchObject({ change: true, commands: ['setenforce 0'] });
    expect(decideSelinuxLive('Enforcing', 'docker').skip).toContain('container (docker)');
    expect(decideSelinuxLive('Permissive', null).change).toBe(false);

    const t = new FakeTransport('alma')
      .on('getenforce', { stdout: 'Enforcing\n' })
      .on('/etc/selinux/config', { stdout: fileOut({ content: 'SELINUX=enforcing\nSELINUXTYPE=targeted\n', withContent: true }) });
    const { result } = await runTask('SELinux permissive', { facts: { ...almaFacts, selinux: 'enforcing' }, t });
    expect(result.status).toBe('changed');
    expect(t.files.get('/etc/selinux/config')?.content.toString()).toBe('SELINUX=permissive\nSELINUXTYPE=targeted\n');
    expect(t.commands.at(-1)).toBe('setenforce 0');

    const off = await runTask('SELinux permissive', { facts: { ...almaFacts, selinux: 'disabled' } });
    expect(off.result).toMatchObject({ status: 'ok', msg: 'SELinux is disabled: nothing to do' });
    expect(off.t.files.size).toBe(0);
  });

  it('firewalld: opens what is missing, trusts the cluster networks, one reload; inactive -> skipped', async () => {
    expect(firewalldPorts(['6443', '2379-2380/tcp', '8472/udp'])).toEqual(['6443/tcp', '2379-2380/tcp', '8472/udp']);
    const s = parseFirewalldState('active=1\nports=6443/tcp 8472/udp\ntrusted=10.42.0.0/16\n');
    expect(decideFirewalld(s, { ports: ['6443/tcp', '8472/udp', '10250/tcp'], trusted: ['10.42.0.0/16', '10.43.0.0/16'] })).toMatchObject({
      change: true,
      commands: ['firewall-cmd --permanent --add-port=10250/tcp', 'firewall-cmd --permanent --zone=trusted --add-source=10.43.0.0/16', 'firewall-cmd --reload'],
    });
    expect(decideFirewalld(s, { ports: ['6443/tcp'], trusted: ['10.42.0.0/16'] }).change).toBe(false);
    const { result } = await runTask('firewalld opens the K3s ports', { facts: almaFacts });
    expect(result).toMatchObject({ status: 'skipped', msg: 'firewalld is not active on this host' });
  });

  it('nftables: skipped unless base manages it; fails clearly without base table; validated with nft -c', async () => {
    expect((await runTask('nftables allow-list admits the K3s ports')).skippedWhy).toBe('no nftables allow-list here (base_nftables_enabled is false)');
    const noBase = new FakeTransport('master1').on('nft list table inet drover', { code: 1, stderr: 'Error: No such file or directory' });
    const r = await runTask('nftables allow-list admits the K3s ports', { vars: { base_nftables_enabled: true }, t: noBase });
    expect(r.result.status).toBe('failed');
    expect(r.result.msg).toContain('run role base with base_nftables_enabled first');
    expect(noBase.files.size).toBe(0);

    const ok = await runTask('nftables allow-list admits the K3s ports', { vars: { base_nftables_enabled: true } });
    expect(ok.result.status).toBe('changed');
    expect(ok.t.files.get('/etc/nftables.d/k3s-prereqs.nft')?.options).toMatchObject({ validate: 'nft -c -f %s' });
    expect(ok.result.msg).toContain('API port from 10.17.4.30');

    const check = await runTask('nftables allow-list admits the K3s ports', { vars: { base_nftables_enabled: true }, t: new FakeTransport('m').on('nft list', { code: 127 }), check: true });
    expect(check.result).toMatchObject({ status: 'changed' });
    expect(check.t.files.size).toBe(0);
  });
});
