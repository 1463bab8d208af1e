// Role base: what every host of the cluster gets before anything else (seed 004):
// hostname, /etc/hosts for the inventory, timezone, packages, admin users with keys and
// sudo, a hardened sshd drop-in, chrony following the infra host (which serves the LAN),
// and an optional nftables allow-list (the K3s API only from LAN/VPN).
import { isIP } from 'node:net';
import type { Facts } from '../../lib/facts/types.ts';
import { defineOp } from '../../lib/ops/exec.ts';
import { ops } from '../../lib/ops/index.ts';
import { changed, failed, ok, type OpResult } from '../../lib/ops/types.ts';
import type { InventoryLookup } from '../../lib/run/lookup.ts';
import { defineRole, type HostCtx, type Task } from '../../lib/run/types.ts';
import { planNtp } from './ntp.ts';
import {
  chronyConf,
  chronyContainerDropIn,
  hostsBlock,
  nftablesConf,
  nftablesServiceDropIn,
  NFT_INCLUDE_DIR,
  NFT_TABLE,
  sshdDropIn,
  sudoersFile,
  type HostEntry,
} from './templates.ts';
import { baseVars, type BaseVars } from './vars.ts';

export { baseVars, type BaseVars, type AdminUser } from './vars.ts';
// Role base's nftables allow-list, for roles that add rules to it (k3s-prereqs): the table,
// the include directory it loads, and its port syntax.
export { NFT_INCLUDE_DIR, NFT_TABLE, parsePorts, portText } from './templates.ts';

type Ctx = HostCtx<BaseVars>;

export const SSHD_DROP_IN = '/etc/ssh/sshd_config.d/50-drover.conf';
export const SUDOERS_FILE = '/etc/sudoers.d/drover-admins';
export const CHRONY_CONTAINER_DROP_IN = '50-drover-container.conf';
export const NFTABLES_CONF = '/etc/nftables.conf';
export const NFTABLES_DROP_IN = 'nftables.service.d/50-drover.conf';

/** Names that differ between the Debian and RHEL families. */
export function platform(facts: Facts): { sshService: string; chronyService: string; chronyConf: string; driftfile: string } {
  const debian = facts.os.family === 'debian';
  return {
    sshService: debian ? 'ssh' : 'sshd',
    chronyService: debian ? 'chrony' : 'chronyd',
    chronyConf: debian ? '/etc/chrony/chrony.conf' : '/etc/chrony.conf',
    driftfile: debian ? '/var/lib/chrony/chrony.drift' : '/var/lib/chrony/drift',
  };
}

/** base_packages plus what the enabled features need, without duplicates. */
export function packageList(v: BaseVars): string[] {
  const extra = [
    v.base_ntp_enabled ? 'chrony' : undefined,
    v.base_nftables_enabled ? 'nftables' : undefined,
    v.base_admin_users.some((u) => u.sudo) ? 'sudo' : undefined,
  ];
  return [...new Set([...v.base_packages, ...extra.filter((p): p is string => !!p)])];
}

/** Every inventory host whose peer address (drover_peer_address, else ansible_host) is an IP, for /etc/hosts. */
export function hostEntries(lookup: Pick<InventoryLookup, 'hostsOf' | 'addressOf'>): HostEntry[] {
  return lookup
    .hostsOf('all')
    .map((name) => ({ name, address: lookup.addressOf(name) }))
    .filter((e) => isIP(e.address) !== 0);
}

/** Append a note to a result's message (reasons the user should see even when ok). */
function withNote(r: OpResult, note: string | undefined): OpResult {
  if (!note) return r;
  return { ...r, msg: r.msg ? `${r.msg}; ${note}` : note };
}

const noPackages = (ctx: Ctx) => ctx.facts.pkgManager === 'none' && `no package manager on ${ctx.facts.os.id}: chrony cannot be installed`;
const ntpWhen = (ctx: Ctx) => (!ctx.vars.base_ntp_enabled ? 'NTP not managed (base_ntp_enabled is false)' : noPackages(ctx) || true);
const nftWhen = (ctx: Ctx) => ctx.vars.base_nftables_enabled || 'nftables allow-list disabled (base_nftables_enabled is false)';

export function chronyContainerNote(container: string): string {
  return `chronyd runs with -x in this container (${container}): it polls its servers and serves time but cannot set the clock (no CAP_SYS_TIME)`;
}

/** Our table is in the kernel, or /etc/nftables.conf is loaded (a read-only probe first). */
const rulesetLoaded = defineOp(async (ctx) => {
  const table = await ctx.$.read`nft list table inet ${NFT_TABLE}`.quiet().nothrow();
  if (table.ok) return ok(`table inet ${NFT_TABLE} is loaded`);
  if (ctx.check) return changed(`would run: nft -f ${NFTABLES_CONF} (table inet ${NFT_TABLE} is not loaded)`);
  await ctx.$`nft -f ${NFTABLES_CONF}`;
  return changed(`loaded ${NFTABLES_CONF} (table inet ${NFT_TABLE} was not loaded)`, { commands: [`nft -f ${NFTABLES_CONF}`] });
});

const tasks: Task<BaseVars>[] = [
  {
    name: 'hostname',
    run: (ctx) => ctx.run(ops.hostname(ctx.vars.base_hostname ?? ctx.host)),
  },
  {
    name: '/etc/hosts lists the inventory',
    when: (ctx) => ctx.vars.base_etc_hosts || 'base_etc_hosts is false',
    run: (ctx) => ctx.run(ops.blockInFile('/etc/hosts', 'inventory', hostsBlock(hostEntries(ctx)))),
  },
  {
    name: 'packages',
    run: (ctx) => ctx.run(ops.packages(packageList(ctx.vars), { updateCache: true })),
  },
  {
    name: 'timezone',
    run: (ctx) => ctx.run(ops.timezone(ctx.vars.base_timezone)),
  },
  {
    name: 'admin users and their keys',
    when: (ctx) => ctx.vars.base_admin_users.length > 0 || 'no admin users (base_admin_users is empty)',
    run: (ctx) =>
      ctx.run(
        ops.seq(
          ...ctx.vars.base_admin_users.flatMap((u) => [
            ops.user(u.name, { shell: u.shell, createHome: true, ...(u.password_hash ? { password: u.password_hash } : {}) }),
            u.keys.length > 0 && ops.authorizedKey(u.name, u.keys, { exclusive: ctx.vars.base_admin_keys_exclusive }),
          ]),
        ),
      ),
  },
  {
    name: 'sudo rights of admin users',
    run: (ctx) => {
      const content = sudoersFile(ctx.vars.base_admin_users);
      // visudo checks the file before it replaces the old one: a typo never locks sudo.
      return ctx.run(content === undefined ? ops.absent(SUDOERS_FILE) : ops.file(SUDOERS_FILE, content, { mode: '0440', owner: 'root', group: 'root', validate: 'visudo -cf %s' }));
    },
  },
  {
    name: 'sshd hardening drop-in',
    notify: 'reload sshd',
    run: (ctx) =>
      ctx.run(
        ops.file(
          SSHD_DROP_IN,
          sshdDropIn({
            passwordAuthentication: ctx.vars.base_sshd_password_authentication,
            permitRootLogin: ctx.vars.base_sshd_permit_root_login,
            options: ctx.vars.base_sshd_options,
          }),
          // sshd -t parses the candidate as a whole config: a bad keyword fails here, not at reload.
          { mode: '0644', owner: 'root', group: 'root', validate: '/usr/sbin/sshd -t -f %s' },
        ),
      ),
  },
  {
    name: 'chrony can run here',
    when: ntpWhen,
    notify: 'restart chrony',
    run: async (ctx) => {
      const p = platform(ctx.facts);
      const dropIn = `${p.chronyService}.service.d/${CHRONY_CONTAINER_DROP_IN}`;
      const container = ctx.facts.container;
      if (container) {
        const r = await ctx.run(ops.systemdUnit(dropIn, chronyContainerDropIn(container, '/usr/sbin/chronyd')));
        return withNote(r, chronyContainerNote(container));
      }
      // Not (or no longer) a container: chronyd sets the clock as usual.
      const r = await ctx.run(ops.absent(`/etc/systemd/system/${dropIn}`));
      if (r.status !== 'changed' || ctx.check) return r;
      const reload = await ctx.$`systemctl daemon-reload`.nothrow();
      return reload.ok ? r : failed(`systemctl daemon-reload failed (rc ${reload.exitCode}): ${reload.stderr.trim()}`, { rc: reload.exitCode, stderr: reload.stderr });
    },
  },
  {
    name: 'chrony configuration',
    when: ntpWhen,
    notify: 'restart chrony',
    run: async (ctx) => {
      const p = platform(ctx.facts);
      const plan = planNtp({ host: ctx.host, lookup: ctx, vars: ctx.vars, interfaces: ctx.facts.interfaces, defaultIpv4: ctx.facts.defaultIpv4 });
      const content = chronyConf({ servers: plan.servers, pools: plan.pools, allow: plan.allow, localStratum: plan.server ? plan.localStratum : undefined, driftfile: p.driftfile });
      const r = await ctx.run(ops.file(p.chronyConf, content, { mode: '0644' }));
      const sources = [...plan.servers, ...plan.pools.map((x) => `pool ${x}`)];
      const role = plan.server ? `NTP server for ${plan.allow.join(', ') || 'nobody'}` : 'NTP client';
      return withNote(r, [`${role}, sources: ${sources.join(', ') || 'none (local clock)'}`, ...plan.notes].join('; '));
    },
  },
  {
    name: 'chrony running',
    when: ntpWhen,
    run: (ctx) => ctx.run(ops.service(platform(ctx.facts).chronyService, { state: 'started', enabled: true })),
  },
  {
    name: 'nftables include directory',
    when: nftWhen,
    run: (ctx) => ctx.run(ops.directory(NFT_INCLUDE_DIR, { mode: '0755' })),
  },
  {
    name: 'nftables stops only its own table',
    when: nftWhen,
    run: (ctx) => ctx.run(ops.systemdUnit(NFTABLES_DROP_IN, nftablesServiceDropIn('/usr/sbin/nft'))),
  },
  {
    name: 'nftables allow-list',
    when: nftWhen,
    notify: 'reload nftables',
    run: (ctx) =>
      ctx.run(
        ops.file(
          NFTABLES_CONF,
          nftablesConf({ allowedCidrs: ctx.vars.base_nftables_allowed_cidrs, protectedPorts: ctx.vars.base_nftables_protected_ports }),
          // nft -c runs the whole transaction against the kernel without committing it.
          { mode: '0755', owner: 'root', group: 'root', validate: 'nft -c -f %s' },
        ),
      ),
  },
  {
    name: 'nftables enabled',
    when: nftWhen,
    run: (ctx) => ctx.run(ops.service('nftables', { state: 'started', enabled: true })),
  },
  {
    name: 'nftables ruleset loaded',
    when: nftWhen,
    // The service stays "active" after someone flushes the ruleset: look at the kernel.
    run: (ctx) => ctx.run(rulesetLoaded),
  },
];

export const baseRole = defineRole({
  name: 'base',
  // Its tasks do their I/O through ops: the next tasks' probes may be read ahead in one round trip.
  readAhead: true,
  vars: baseVars,
  tasks,
  handlers: [
    { name: 'reload sshd', run: (ctx) => ctx.run(ops.service(platform(ctx.facts).sshService, { state: 'reloaded' })) },
    { name: 'restart chrony', when: ntpWhen, run: (ctx) => ctx.run(ops.service(platform(ctx.facts).chronyService, { state: 'restarted' })) },
    { name: 'reload nftables', when: nftWhen, run: (ctx) => ctx.run(ops.service('nftables', { state: 'reloaded' })) },
  ],
});

export default baseRole;
