// postgres: PostgreSQL from the distribution, one primary and streaming replicas (seed 000's
// asynchronous replication). Run it on the primary first (its play's handlers restart it with
// the replication settings), then on the replicas: playbooks/plays/db.ts does exactly that.
import { defineOp } from '../../lib/ops/exec.ts';
import { ops } from '../../lib/ops/index.ts';
import { changed, ok, type Op, type OpResult } from '../../lib/ops/types.ts';
import { defineRole, type HostCtx, type Task } from '../../lib/run/types.ts';
import { quote } from '../../lib/shell/quote.ts';
import { asPostgres, passfilePath, pgLayout, type PgLayout } from './layout.ts';
import { pendingRestart } from './pending-restart.ts';
import { replicationRole } from './replication-role.ts';
import { replicationSlots } from './slots.ts';
import { primaryConninfo, standbyOf } from './standby.ts';
import { renderConf, renderHba, renderPassfile, type ConfInput, type HbaClientLine, type HbaInput } from './templates.ts';
import { pgTopology, type PgTopology } from './topology.ts';
import { postgresVars, type PostgresVars } from './vars.ts';

export { postgresVars, postgresPromoteVars, type PostgresVars, type PostgresPromoteVars } from './vars.ts';
export { postgresPromoteRole } from './promote.ts';

type Ctx = HostCtx<PostgresVars>;

/** Registered by the restart check; the reload handler skips when a restart already applies. */
export const RESTART_REGISTER = 'postgres_restart_needed';

export function layoutOf(ctx: Pick<Ctx, 'facts' | 'vars'>): PgLayout {
  const l = pgLayout(ctx.facts, { version: ctx.vars.postgres_version, cluster: ctx.vars.postgres_cluster });
  if (typeof l === 'string') throw new Error(l);
  return l;
}

export function topologyOf(ctx: Ctx): PgTopology {
  return pgTopology({ host: ctx.host, lookup: ctx, groups: ctx.groups, defaultAddress: ctx.facts.defaultIpv4, vars: ctx.vars });
}

/** The drop-in's input for this host. */
export function confInput(ctx: Ctx): ConfInput {
  const v = ctx.vars;
  const t = topologyOf(ctx);
  const l = layoutOf(ctx);
  const input: ConfInput = {
    listenAddresses: v.postgres_listen_addresses ?? ['localhost', t.self.address],
    port: v.postgres_port,
    maxConnections: v.postgres_max_connections,
    maxWalSenders: v.postgres_max_wal_senders,
    maxReplicationSlots: v.postgres_max_replication_slots,
    hotStandby: v.postgres_hot_standby,
    hotStandbyFeedback: v.postgres_hot_standby_feedback,
    extra: v.postgres_extra_settings,
  };
  if (t.role === 'replica') {
    const primary = requirePrimary(t);
    input.standby = {
      primaryConninfo: primaryConninfo({ primary, port: v.postgres_port, user: v.postgres_replication_user, passfile: passfilePath(l), self: ctx.host }),
      slot: slotOf(t, ctx.host),
    };
  }
  return input;
}

/** pg_hba.conf's input: replication from the other database hosts, plus the app clients. */
export function hbaInput(ctx: Ctx): HbaInput {
  const t = topologyOf(ctx);
  const clients: HbaClientLine[] = [];
  for (const c of ctx.vars.postgres_hba_clients) {
    const base = { database: c.database, user: c.user, method: c.method };
    if (c.address !== undefined) clients.push({ ...base, address: c.address });
    else if (c.host !== undefined) {
      if (!ctx.hostsOf('all').includes(c.host)) throw new Error(`postgres_hba_clients: no host ${c.host} in the inventory`);
      clients.push({ ...base, address: ctx.addressOf(c.host), from: c.host });
    } else if (c.group !== undefined) {
      const members = ctx.hostsOf(c.group);
      if (!members.length) throw new Error(`postgres_hba_clients: group ${c.group} has no hosts`);
      for (const h of members) clients.push({ ...base, address: ctx.addressOf(h), from: `${h} (group ${c.group})` });
    }
  }
  return { replicationUser: ctx.vars.postgres_replication_user, replicationFrom: t.peers, clients };
}

function requirePrimary(t: PgTopology) {
  if (!t.primary) throw new Error('no primary: put a host in the postgres_primary group or set postgres_primary_host');
  if (t.primary.name === t.self.name) throw new Error(`${t.self.name} is both the primary and a replica: fix postgres_primary_host or the groups`);
  return t.primary;
}

function slotOf(t: PgTopology, host: string): string {
  const r = t.replicas.find((x) => x.name === host);
  if (!r) throw new Error(`${host} is not in the replica group`);
  return r.slot;
}

const onlyReplica = (ctx: Ctx): boolean | string => topologyOf(ctx).role === 'replica' || 'primary: nothing to clone';
const onlyPrimary = (ctx: Ctx): boolean | string => topologyOf(ctx).role === 'primary' || 'replica: the primary owns roles and slots';

/**
 * Validate the drop-in before it replaces the real one: the postgres binary parses a config
 * that includes only the candidate (`postgres -C`, which reads the files and exits; fine next
 * to a running server). Unknown parameters and bad values fail the write. Skipped when there
 * is no cluster yet (postgres needs a data directory).
 */
export function confValidateCommand(l: PgLayout): string {
  const data = quote(l.dataDir);
  return [
    `if [ -f ${data}/PG_VERSION ]; then`,
    `  __f=%s; __d=$(mktemp -d) || exit 1`,
    `  chmod 0755 "$__d" && echo "include '$__f'" > "$__d/check.conf" && chmod 0644 "$__d/check.conf" && cd / &&`,
    `  runuser -u postgres -- ${quote(`${l.binDir}/postgres`)} -D ${data} -c config_file="$__d/check.conf" -C wal_level >/dev/null`,
    `  __rc=$?; rm -rf "$__d"; exit $__rc`,
    `fi`,
  ].join('\n');
}

function pgIsReady(l: PgLayout, port: number): string {
  return asPostgres(l, 'pg_isready', ['-q', '-p', String(port)]);
}

const INCLUDE_CONF_D = "include_dir = 'conf.d'";

/** postgresql.conf holds `include_dir = 'conf.d'` (appended once; a read-only grep decides). */
export function includeConfD(mainConf: string): Op {
  return defineOp(async (ctx) => {
    const has = await ctx.$.read`grep -Eq ${"^[[:space:]]*include_dir[[:space:]]*=[[:space:]]*'?conf\\.d'?"} ${mainConf}`.nothrow();
    if (has.ok) return ok(`${mainConf} includes conf.d`);
    if (ctx.check) return changed(`would append ${INCLUDE_CONF_D} to ${mainConf}`);
    await ctx.$`printf '%s\\n' ${INCLUDE_CONF_D} >> ${mainConf}`;
    return changed(`appended ${INCLUDE_CONF_D} to ${mainConf}`);
  });
}

const tasks: Task<PostgresVars>[] = [
  {
    name: 'install PostgreSQL',
    // Refresh the index whenever something must be installed (only then): an index directory
    // can look fresh (recent mtime) and still hold no package lists, as on a new host.
    run: (ctx) => ctx.run(ops.packages(layoutOf(ctx).packages, { state: 'present', updateCache: true, cacheValidTime: 0 })),
  },
  {
    name: 'cluster exists',
    run: (ctx) => {
      const l = layoutOf(ctx);
      return ctx.run(ops.command(l.createCluster.cmd, { creates: l.createCluster.creates }));
    },
  },
  {
    name: "postgresql.conf includes conf.d",
    run: (ctx) => {
      const l = layoutOf(ctx);
      return ctx.run(ops.seq(includeConfD(l.mainConf), ops.directory(l.confD, { owner: 'postgres', group: 'postgres', mode: '0755' })));
    },
  },
  {
    name: 'replication passfile',
    run: (ctx) => {
      const l = layoutOf(ctx);
      const v = ctx.vars;
      const content = renderPassfile({ port: v.postgres_port, user: v.postgres_replication_user, password: v.postgres_replication_password });
      return ctx.run(ops.file(passfilePath(l), content, { owner: 'postgres', group: 'postgres', mode: '0600', noLog: true }));
    },
  },
  {
    name: 'replication settings (conf.d drop-in)',
    notify: 'reload postgresql',
    run: (ctx) => {
      const l = layoutOf(ctx);
      return ctx.run(ops.template(`${l.confD}/${ctx.vars.postgres_conf_file}`, renderConf, confInput(ctx), { owner: 'postgres', group: 'postgres', mode: '0644', validate: confValidateCommand(l) }));
    },
  },
  {
    name: 'pg_hba.conf allows only the named hosts',
    notify: 'reload postgresql',
    run: (ctx) => ctx.run(ops.template(layoutOf(ctx).hbaFile, renderHba, hbaInput(ctx), { owner: 'postgres', group: 'postgres', mode: '0640' })),
  },
  {
    name: 'PostgreSQL is running',
    run: (ctx) => {
      const l = layoutOf(ctx);
      return ctx.run(ops.seq(ops.service(l.unit, { state: 'started', enabled: true }), ops.waitFor.command(pgIsReady(l, ctx.vars.postgres_port), { timeoutMs: 60_000 })));
    },
  },
  {
    name: 'standby of the primary',
    when: onlyReplica,
    run: (ctx) => {
      const l = layoutOf(ctx);
      const t = topologyOf(ctx);
      return ctx.run(
        standbyOf({
          layout: l,
          port: ctx.vars.postgres_port,
          user: ctx.vars.postgres_replication_user,
          passfile: passfilePath(l),
          primary: requirePrimary(t),
          slot: slotOf(t, ctx.host),
          self: ctx.host,
          allowRebuild: ctx.vars.postgres_replica_allow_rebuild,
          timeoutSec: ctx.vars.postgres_basebackup_timeout,
        }),
      );
    },
  },
  {
    name: 'restart only if a restart-only setting changed',
    notify: 'restart postgresql',
    register: RESTART_REGISTER,
    checkModeSafe: true,
    run: (ctx) => ctx.run(pendingRestart({ layout: layoutOf(ctx), port: ctx.vars.postgres_port })),
  },
  {
    name: 'replication role',
    when: onlyPrimary,
    run: (ctx) =>
      ctx.run(replicationRole({ layout: layoutOf(ctx), port: ctx.vars.postgres_port, user: ctx.vars.postgres_replication_user, password: ctx.vars.postgres_replication_password })),
  },
  {
    name: 'replication slot per replica',
    when: onlyPrimary,
    run: (ctx) => ctx.run(replicationSlots({ layout: layoutOf(ctx), port: ctx.vars.postgres_port, slots: topologyOf(ctx).replicas.map((r) => r.slot) })),
  },
  {
    name: 'replica streams from the primary',
    when: onlyReplica,
    checkModeSafe: true,
    run: (ctx) => {
      const l = layoutOf(ctx);
      const probe = `cd / && ${asPostgres(l, 'psql', ['-X', '-A', '-t', '-p', String(ctx.vars.postgres_port), '-d', 'postgres', '-c', "SELECT status FROM pg_stat_wal_receiver"])} | grep -qx streaming`;
      return ctx.run(ops.waitFor.command(probe, { timeoutMs: 60_000 }));
    },
  },
];

export const postgresRole = defineRole({
  name: 'postgres',
  // Its tasks do their I/O through ops: the next tasks' probes may be read ahead in one round trip.
  readAhead: true,
  vars: postgresVars,
  tasks,
  handlers: [
    {
      name: 'restart postgresql',
      run: (ctx) => {
        const l = layoutOf(ctx);
        return ctx.run(ops.seq(ops.service(l.unit, { state: 'restarted' }), ops.waitFor.command(pgIsReady(l, ctx.vars.postgres_port), { timeoutMs: 60_000 })));
      },
    },
    {
      name: 'reload postgresql',
      // A restart (handled first) already applied everything a reload would.
      when: (ctx) => restartNotified(ctx) || true,
      run: (ctx) => ctx.run(ops.service(layoutOf(ctx).unit, { state: 'reloaded' })),
    },
  ],
});

function restartNotified(ctx: Ctx): string | false {
  const r: OpResult | undefined = ctx.registered[RESTART_REGISTER];
  return r?.status === 'changed' ? 'the restart applied the new settings' : false;
}

export default postgresRole;
