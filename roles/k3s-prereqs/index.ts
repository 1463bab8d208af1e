// Role k3s-prereqs: the kernel and host settings K3s expects on every node: swap off,
// overlay + br_netfilter, forwarding and bridge-netfilter sysctls, SELinux permissive on
// the RHEL family, and the K3s/etcd/VXLAN/WireGuard ports in whichever firewall is managed
// (firewalld when active; role base's nftables allow-list when base_nftables_enabled).
import { isIP } from 'node:net';
import { ops } from '../../lib/ops/index.ts';
import { failed } from '../../lib/ops/types.ts';
import type { InventoryLookup } from '../../lib/run/lookup.ts';
import { defineRole, type HostCtx, type Task } from '../../lib/run/types.ts';
import { bridgeSysctls } from './bridge.ts';
import { firewalldOpen } from './firewall.ts';
import { baseRole, NFT_INCLUDE_DIR, NFT_TABLE } from './from-base.ts';
import { loadModules } from './modules.ts';
import { selinuxPermissive } from './selinux.ts';
import { swapOff } from './swap.ts';
import { k3sNftables, modulesLoadConf } from './templates.ts';
import { BRIDGE_SYSCTLS, FORWARDING_SYSCTLS, K3S_SYSCTL_FILE, k3sPrereqsVars, type K3sPrereqsVars } from './vars.ts';

export { k3sPrereqsVars, type K3sPrereqsVars } from './vars.ts';

type Ctx = HostCtx<K3sPrereqsVars>;

export const MODULES_LOAD_FILE = '/etc/modules-load.d/k3s.conf';
export const SYSCTL_PATH = `/etc/sysctl.d/${K3S_SYSCTL_FILE}.conf`;
export const K3S_NFT_FILE = `${NFT_INCLUDE_DIR}/k3s-prereqs.nft`;

type Lookup = Pick<InventoryLookup, 'hostsOf' | 'addressOf'>;

/**
 * Peer addresses (drover_peer_address, else ansible_host) of the hosts of some groups that are
 * IPs (names that are not IPs cannot go in a rule).
 */
export function groupAddresses(lookup: Lookup, groups: readonly string[]): string[] {
  const names = [...new Set(groups.flatMap((g) => lookup.hostsOf(g)))];
  return names.map((n) => lookup.addressOf(n)).filter((a) => isIP(a) !== 0);
}

/** What the nftables file admits: nodes + cluster networks to all ports, API clients to the API. */
export function nftSources(lookup: Lookup, vars: Pick<K3sPrereqsVars, 'k3s_prereqs_nodes_group' | 'k3s_prereqs_cluster_cidrs' | 'k3s_prereqs_api_client_groups'>): { trusted: string[]; apiClients: string[] } {
  const trusted = [...new Set([...groupAddresses(lookup, [vars.k3s_prereqs_nodes_group]), ...vars.k3s_prereqs_cluster_cidrs])];
  const apiClients = groupAddresses(lookup, vars.k3s_prereqs_api_client_groups).filter((a) => !trusted.includes(a));
  return { trusted, apiClients };
}

const inContainer = (ctx: Ctx) => ctx.facts.container;

const tasks: Task<K3sPrereqsVars>[] = [
  {
    name: 'swap off',
    when: (ctx) => ctx.vars.k3s_prereqs_disable_swap || 'k3s_prereqs_disable_swap is false',
    run: (ctx) => ctx.run(swapOff()),
  },
  {
    name: 'kernel modules persisted',
    run: (ctx) => ctx.run(ops.file(MODULES_LOAD_FILE, modulesLoadConf(ctx.vars.k3s_prereqs_modules), { mode: '0644' })),
  },
  {
    name: 'modprobe available',
    when: (ctx) =>
      inContainer(ctx)
        ? `not needed: kernel modules cannot be loaded in a container (${inContainer(ctx)})`
        : ctx.facts.pkgManager === 'none'
          ? `no package manager on ${ctx.facts.os.id}`
          : true,
    run: (ctx) => ctx.run(ops.packages(['kmod'], { updateCache: true })),
  },
  {
    name: 'kernel modules loaded',
    run: (ctx) => ctx.run(loadModules(ctx.vars.k3s_prereqs_modules)),
  },
  {
    name: 'forwarding sysctls',
    run: (ctx) => ctx.run(ops.seq(...Object.entries(FORWARDING_SYSCTLS).map(([k, v]) => ops.sysctl(k, v, { file: K3S_SYSCTL_FILE })))),
  },
  {
    name: 'bridge netfilter sysctls',
    run: (ctx) =>
      ctx.run(bridgeSysctls(BRIDGE_SYSCTLS, { file: K3S_SYSCTL_FILE, path: SYSCTL_PATH, loadsBrNetfilter: ctx.vars.k3s_prereqs_modules.includes('br_netfilter') })),
  },
  {
    name: 'extra sysctls',
    when: (ctx) => Object.keys(ctx.vars.k3s_prereqs_sysctls_extra).length > 0 || 'none (k3s_prereqs_sysctls_extra is empty)',
    run: (ctx) => ctx.run(ops.seq(...Object.entries(ctx.vars.k3s_prereqs_sysctls_extra).map(([k, v]) => ops.sysctl(k, v, { file: K3S_SYSCTL_FILE })))),
  },
  {
    name: 'SELinux permissive',
    when: (ctx) =>
      ctx.facts.os.family !== 'redhat'
        ? `SELinux is only managed on the RHEL family (this host: ${ctx.facts.os.id})`
        : ctx.vars.k3s_prereqs_selinux_permissive || 'k3s_prereqs_selinux_permissive is false',
    run: (ctx) => ctx.run(selinuxPermissive()),
  },
  {
    name: 'firewalld opens the K3s ports',
    run: (ctx) => ctx.run(firewalldOpen(ctx.vars.k3s_prereqs_firewall_ports, ctx.vars.k3s_prereqs_cluster_cidrs)),
  },
  {
    name: 'nftables allow-list admits the K3s ports',
    when: (ctx) => ctx.vars.base_nftables_enabled || 'no nftables allow-list here (base_nftables_enabled is false)',
    notify: 'reload nftables',
    run: async (ctx) => {
      // The file is included by base's /etc/nftables.conf: without base it would never load.
      const base = await ctx.$.read`nft list table inet ${NFT_TABLE} >/dev/null`.nothrow();
      if (!base.ok && !ctx.check) {
        return failed(`role base's nftables allow-list (table inet ${NFT_TABLE}) is not loaded: run role base with base_nftables_enabled first`, { stderr: base.stderr, rc: base.exitCode });
      }
      const { trusted, apiClients } = nftSources(ctx, ctx.vars);
      const content = k3sNftables({ ports: ctx.vars.k3s_prereqs_firewall_ports, trusted, apiClients, apiPort: ctx.vars.k3s_prereqs_api_port });
      const r = await ctx.run(ops.file(K3S_NFT_FILE, content, { mode: '0644', owner: 'root', group: 'root', validate: 'nft -c -f %s' }));
      const note = `K3s ports admitted from ${trusted.length} node addresses/networks${apiClients.length ? ` and API port from ${apiClients.join(', ')}` : ''}`;
      return { ...r, msg: r.msg ? `${r.msg}; ${note}` : note };
    },
  },
];

export const k3sPrereqsRole = defineRole({
  name: 'k3s-prereqs',
  // Base first: the /etc/hosts block, chrony, and the nftables allow-list this role adds to.
  dependencies: [baseRole],
  // Its tasks do their I/O through ops: the next tasks' probes may be read ahead in one round trip.
  readAhead: true,
  vars: k3sPrereqsVars,
  tasks,
  handlers: [{ name: 'reload nftables', when: (ctx) => ctx.vars.base_nftables_enabled, run: (ctx) => ctx.run(ops.service('nftables', { state: 'reloaded' })) }],
});

export default k3sPrereqsRole;
