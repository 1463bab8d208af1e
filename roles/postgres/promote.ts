// Promote a standby to primary when the primary is lost (playbooks/pg-promote.ts).
// 1. what the target is (a standby, or already a primary: then nothing to do);
// 2. the old primary must be down or no longer a primary, as seen from the target
//    (pg_isready, then SHOW in_hot_standby over a replication connection with the
//    replica's passfile); otherwise refuse unless forced: two primaries is split brain;
// 3. SELECT pg_promote(wait => true), then check pg_is_in_recovery() is false.
import { defineOp } from '../../lib/ops/exec.ts';
import { changed, failed, ok, type Op, type OpContext } from '../../lib/ops/types.ts';
import { defineRole, type HostCtx } from '../../lib/run/types.ts';
import { passfilePath, pgLayout, postgresArgv, type PgLayout } from './layout.ts';
import { oneLine, probeLines, probeValue, probeValues, psqlProbe, psqlQuery } from './sql.ts';
import { conninfo } from './templates.ts';
import { pgTopology, type PgPeer } from './topology.ts';
import { postgresPromoteVars, type PostgresPromoteVars } from './vars.ts';

export const PROMOTE_TARGET = 'postgres_promote_target';

function layoutOf(ctx: HostCtx<PostgresPromoteVars>): PgLayout {
  const l = pgLayout(ctx.facts, { version: ctx.vars.postgres_version, cluster: ctx.vars.postgres_cluster });
  if (typeof l === 'string') throw new Error(l);
  return l;
}

function oldPrimaryOf(ctx: HostCtx<PostgresPromoteVars>): PgPeer | undefined {
  const t = pgTopology({ host: ctx.host, lookup: ctx, groups: ctx.groups, defaultAddress: ctx.facts.defaultIpv4, vars: ctx.vars });
  return t.primary && t.primary.name !== ctx.host ? t.primary : undefined;
}

const inRecovery = (ctx: HostCtx<PostgresPromoteVars>): boolean | string =>
  ctx.registered[PROMOTE_TARGET]?.data?.inRecovery === true || 'already a primary: nothing to promote';

/** Step 1: is the target a running standby? */
export function targetState(o: { layout: PgLayout; port: number }): Op {
  return defineOp(async (ctx) => {
    const sql = "SELECT pg_is_in_recovery()::int || '|' || coalesce((SELECT status FROM pg_stat_wal_receiver LIMIT 1), 'none')";
    const r = await psqlProbe(ctx, o.layout, o.port, sql);
    const lines = probeLines(r.stdout);
    const row = probeValues(lines, 'q').filter(Boolean);
    if (probeValue(lines, 'q_rc') !== '0') {
      return failed(`PostgreSQL on ${ctx.host} is not answering (start it: systemctl start ${o.layout.unit}): ${oneLine(row.join(' ') || r.stderr)}`);
    }
    const [rec, receiver] = (row[0] ?? '').split('|');
    if (rec === '0') return ok(`${ctx.host} is already a primary (not in recovery): nothing to promote`, { data: { inRecovery: false } });
    if (rec !== '1') return failed(`unexpected answer to pg_is_in_recovery(): ${oneLine(row.join(' '))}`);
    return ok(`${ctx.host} is a standby (wal receiver: ${receiver || 'none'})`, { data: { inRecovery: true, receiver } });
  });
}

export interface OldPrimaryProbe {
  /** pg_isready exit code: 0 accepting, 1 rejecting, 2 no response, 3 no attempt. */
  readyRc: number;
  showRc: number;
  /** SHOW in_hot_standby over a replication connection: 'on', 'off', or the error text. */
  show: string;
}

/** Seen from the target: does the old primary answer, and is it a standby (a read-only probe)? */
export function oldPrimaryProbe(ctx: Pick<OpContext, '$'>, l: PgLayout, o: { old: PgPeer; port: number; user: string; passfile: string; self: string }) {
  const ci = conninfo({ host: o.old.address, port: o.port, user: o.user, passfile: o.passfile, dbname: 'replication', replication: 'true', connect_timeout: 5, application_name: `${o.self}-promote-check` });
  const ready = postgresArgv(l, 'pg_isready', ['-q', '-h', o.old.address, '-p', String(o.port), '-t', '5']);
  const show = postgresArgv(l, 'psql', ['-X', '-A', '-t', '-d', ci, '-c', 'SHOW in_hot_standby']);
  return ctx.$.read`cd /
${ready}; echo "ready_rc=$?"
__out=$(${show} 2>&1); echo "show_rc=$?"
printf '%s\\n' "$__out" | sed 's/^/show=/'`
    .timeout(30_000)
    .nothrow();
}

export function parseOldPrimary(stdout: string): OldPrimaryProbe {
  const lines = probeLines(stdout);
  return {
    readyRc: Number(probeValue(lines, 'ready_rc') ?? '3'),
    showRc: Number(probeValue(lines, 'show_rc') ?? '1'),
    show: oneLine(probeValues(lines, 'show').filter(Boolean).join(' ')),
  };
}

/** Pure: may we promote, given what the old primary looks like from the target? */
export function decideOldPrimary(p: OldPrimaryProbe, o: { old: PgPeer; force: boolean }): { proceed: boolean; msg: string } {
  const who = `the old primary ${o.old.name} (${o.old.address})`;
  if (p.readyRc === 2) return { proceed: true, msg: `${who} does not answer: safe to promote` };
  if (p.readyRc === 3) return { proceed: false, msg: `cannot check ${who}: pg_isready made no attempt (bad address or port?)` };
  if (p.showRc === 0 && p.show === 'on') return { proceed: true, msg: `${who} answers but is a standby itself` };
  const state = p.showRc === 0 && p.show === 'off' ? 'is reachable and still running as a primary' : `is reachable (pg_isready ${p.readyRc === 0 ? 'accepting' : 'rejecting'}) and its role cannot be checked (${p.show || 'no answer'})`;
  if (o.force) return { proceed: true, msg: `${who} ${state}; promoting anyway (--force): make sure clients stop writing to it` };
  return { proceed: false, msg: `refusing to promote: ${who} ${state}. Two primaries is split brain: stop it first, or pass --force` };
}

export function oldPrimaryCheck(o: { layout: PgLayout; port: number; user: string; passfile: string; old: PgPeer | undefined; force: boolean }): Op {
  return defineOp(async (ctx) => {
    if (!o.old) return ok('no other primary in the inventory to check');
    const r = await oldPrimaryProbe(ctx, o.layout, { old: o.old, port: o.port, user: o.user, passfile: o.passfile, self: ctx.host });
    const d = decideOldPrimary(parseOldPrimary(r.stdout), { old: o.old, force: o.force });
    return d.proceed ? ok(d.msg) : failed(d.msg);
  });
}

/** Step 3: promote and verify. */
export function promote(o: { layout: PgLayout; port: number; timeoutSec: number; old: PgPeer | undefined }): Op {
  return defineOp(async (ctx) => {
    if (ctx.check) return changed(`would promote ${ctx.host} (SELECT pg_promote(true, ${o.timeoutSec}))`);
    const started = Date.now();
    const sql = `SELECT pg_promote(true, ${o.timeoutSec})`;
    const r = await psqlQuery(ctx, o.layout, o.port, sql, { read: false }).timeout((o.timeoutSec + 30) * 1000);
    const lines = probeLines(r.stdout);
    const out = probeValues(lines, 'q').filter(Boolean);
    if (probeValue(lines, 'q_rc') !== '0' || out[0] !== 't') return failed(`pg_promote() did not complete within ${o.timeoutSec}s: ${oneLine(out.join(' ') || r.stderr)}`);
    const v = await psqlQuery(ctx, o.layout, o.port, "SELECT pg_is_in_recovery()::int || '|' || ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int", { read: false });
    const vl = probeLines(v.stdout);
    const [rec, timeline] = (probeValues(vl, 'q').filter(Boolean)[0] ?? '').split('|');
    if (probeValue(vl, 'q_rc') !== '0' || rec !== '0') return failed(`promotion reported done but the server is still in recovery: ${oneLine(probeValues(vl, 'q').join(' '))}`);
    const next = o.old
      ? `; next: make ${ctx.host} the primary in the inventory (group postgres_primary) and rebuild ${o.old.name} as its replica (-e postgres_replica_allow_rebuild=true)`
      : '';
    return changed(`promoted ${ctx.host} to primary in ${((Date.now() - started) / 1000).toFixed(1)} s, now on timeline ${timeline}${next}`, { data: { timeline: Number(timeline) } });
  });
}

export const postgresPromoteRole = defineRole({
  name: 'postgres-promote',
  vars: postgresPromoteVars,
  tasks: [
    {
      name: 'promotion target is a running standby',
      register: PROMOTE_TARGET,
      checkModeSafe: true,
      run: (ctx) => ctx.run(targetState({ layout: layoutOf(ctx), port: ctx.vars.postgres_port })),
    },
    {
      name: 'old primary is down or no longer a primary',
      when: inRecovery,
      checkModeSafe: true,
      run: (ctx) =>
        ctx.run(
          oldPrimaryCheck({
            layout: layoutOf(ctx),
            port: ctx.vars.postgres_port,
            user: ctx.vars.postgres_replication_user,
            passfile: passfilePath(layoutOf(ctx)),
            old: oldPrimaryOf(ctx),
            force: ctx.vars.postgres_promote_force,
          }),
        ),
    },
    {
      name: 'promote to primary',
      when: inRecovery,
      run: (ctx) => ctx.run(promote({ layout: layoutOf(ctx), port: ctx.vars.postgres_port, timeoutSec: ctx.vars.postgres_promote_timeout, old: oldPrimaryOf(ctx) })),
    },
  ],
});

export default postgresPromoteRole;
