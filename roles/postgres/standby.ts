// A replica's data directory is a streaming standby of the primary's cluster, or is made one:
// stop the cluster, move the old data directory aside (never deleted), pg_basebackup from the
// primary through its replication slot, mark it standby, start it.
//
// "Of the right primary" is decided by the database system identifier: a copy made by
// pg_basebackup shares the primary's (pg_controldata here vs IDENTIFY_SYSTEM on the primary,
// asked over a replication connection, which also proves the role, password and pg_hba line).
// Where the standby connects (primary_conninfo, primary_slot_name) lives in the role's conf.d
// drop-in, so a changed primary address is a reload, not a rebuild.
//
// Safety: a data directory that shares the primary's identifier but is not a standby is a
// promoted former replica (it may hold writes the primary lacks), and one with its own
// databases is someone's data: both are refused unless postgres_replica_allow_rebuild is set.
//
// The password: pg_basebackup reads it from the role's 0600 passfile (never argv or env).
import { defineOp } from '../../lib/ops/exec.ts';
import type { HostCommand } from '../../lib/ops/shell.ts';
import { changed, failed, ok, type Op, type OpContext } from '../../lib/ops/types.ts';
import { quote } from '../../lib/shell/quote.ts';
import { asPostgres, postgresArgv, type PgLayout } from './layout.ts';
import { oneLine, probeLines, probeValue, probeValues } from './sql.ts';
import { conninfo } from './templates.ts';
import type { PgPeer } from './topology.ts';

/** Databases of a fresh cluster (template0, template1, postgres). */
export const FRESH_DATABASES = 3;

export interface StandbyState {
  installed: boolean;
  /** PG_VERSION of the data directory, '' when there is no cluster there. */
  pgVersion: string;
  standbySignal: boolean;
  /** This cluster's database system identifier ('' when unknown). */
  sysid: string;
  /** Databases in base/ (-1 when unknown). */
  databases: number;
  active: string;
  /** IDENTIFY_SYSTEM on the primary answered. */
  primaryOk: boolean;
  primarySysid: string;
  primaryTimeline: string;
  primaryError?: string;
}

export interface StandbyTarget {
  layout: PgLayout;
  port: number;
  user: string;
  passfile: string;
  primary: PgPeer;
  slot: string;
  /** This host (application_name). */
  self: string;
}

/** Connection to the primary, password from the passfile. */
export function primaryConninfo(t: Pick<StandbyTarget, 'primary' | 'port' | 'user' | 'passfile' | 'self'>, extra: Record<string, string | number> = {}): string {
  return conninfo({ host: t.primary.address, port: t.port, user: t.user, passfile: t.passfile, application_name: t.self, ...extra });
}

/** What the data directory holds, and IDENTIFY_SYSTEM on the primary (a read-only probe). */
export function standbyProbe(ctx: Pick<OpContext, '$'>, t: StandbyTarget): HostCommand {
  const l = t.layout;
  const d = l.dataDir;
  const ident = postgresArgv(l, 'psql', ['-X', '-A', '-t', '-d', primaryConninfo(t, { dbname: 'replication', replication: 'true', connect_timeout: 10 }), '-c', 'IDENTIFY_SYSTEM']);
  const controldata = postgresArgv(l, 'pg_controldata', [d]);
  return ctx.$.read`if [ ! -x ${`${l.binDir}/pg_basebackup`} ]; then echo installed=0; exit 0; fi
echo installed=1
cd /
if [ -f ${`${d}/PG_VERSION`} ]; then echo "pgversion=$(cat ${`${d}/PG_VERSION`})"; fi
if [ -f ${`${d}/standby.signal`} ]; then echo standby=1; fi
if [ -f ${`${d}/global/pg_control`} ]; then echo "sysid=$(${controldata} 2>/dev/null | sed -n 's/^Database system identifier:[[:space:]]*//p')"; fi
if [ -d ${`${d}/base`} ]; then echo "databases=$(ls -1 ${`${d}/base`} | grep -c '^[0-9][0-9]*$')"; fi
echo "active=$(systemctl is-active ${l.unit} 2>/dev/null)"
__out=$(${ident} 2>&1); echo "ident_rc=$?"
printf '%s\\n' "$__out" | sed 's/^/ident=/'`
    .timeout(60_000)
    .nothrow();
}

export function parseStandbyState(stdout: string): StandbyState {
  const lines = probeLines(stdout);
  const identRows = probeValues(lines, 'ident').filter(Boolean);
  const identOk = probeValue(lines, 'ident_rc') === '0';
  const fields = identOk ? (identRows[0] ?? '').split('|') : [];
  const dbs = probeValue(lines, 'databases');
  return {
    installed: probeValue(lines, 'installed') === '1',
    pgVersion: probeValue(lines, 'pgversion') ?? '',
    standbySignal: probeValue(lines, 'standby') === '1',
    sysid: probeValue(lines, 'sysid') ?? '',
    databases: dbs === undefined ? -1 : Number(dbs),
    active: probeValue(lines, 'active') ?? '',
    primaryOk: identOk && /^\d+$/.test(fields[0] ?? ''),
    primarySysid: fields[0] ?? '',
    primaryTimeline: fields[1] ?? '',
    ...(identOk ? {} : { primaryError: oneLine(identRows.join(' ')) || 'no answer' }),
  };
}

export type StandbyDecision =
  | { action: 'ok'; msg: string }
  | { action: 'clone'; msg: string }
  | { action: 'refuse'; msg: string }
  | { action: 'fail'; msg: string };

/** Pure: keep, (re)build, or refuse. */
export function decideStandby(s: StandbyState, o: { host: string; primary: PgPeer; allowRebuild: boolean; check: boolean }): StandbyDecision {
  const p = `${o.primary.name} (${o.primary.address})`;
  if (!s.installed) return o.check ? { action: 'clone', msg: `clone from ${p} (PostgreSQL is not installed yet)` } : { action: 'fail', msg: 'PostgreSQL is not installed (no pg_basebackup)' };
  if (!s.primaryOk) {
    const msg = `cannot identify the primary ${p} over a replication connection: ${s.primaryError ?? 'unexpected answer'}`;
    // In check mode the primary may still be waiting for a restart this run would do.
    return o.check ? { action: 'clone', msg: `check the standby against ${p} (${msg})` } : { action: 'fail', msg };
  }
  const same = s.sysid !== '' && s.sysid === s.primarySysid;
  if (same && s.standbySignal) return { action: 'ok', msg: `standby of ${p} (system ${s.sysid}, primary timeline ${s.primaryTimeline})` };
  const allow = 'set postgres_replica_allow_rebuild=true to move it aside and clone the primary';
  if (same) {
    if (!o.allowRebuild) {
      return {
        action: 'refuse',
        msg: `refusing to rebuild ${o.host}: its data directory is a copy of ${p}'s cluster but not a standby (promoted?): it may hold writes the primary lacks; ${allow}`,
      };
    }
    return { action: 'clone', msg: `rebuild the promoted copy as a standby of ${p} (allowed by postgres_replica_allow_rebuild)` };
  }
  if (!s.pgVersion) return { action: 'clone', msg: `clone from ${p} (no cluster in the data directory)` };
  if (s.databases > FRESH_DATABASES && !o.allowRebuild) {
    return { action: 'refuse', msg: `refusing to replace ${o.host}'s cluster: it is not a copy of ${p}'s and holds ${s.databases - FRESH_DATABASES} database(s) of its own; ${allow}` };
  }
  return { action: 'clone', msg: `clone from ${p} (the local cluster ${s.sysid || '?'} is not a copy of the primary's ${s.primarySysid})` };
}

/**
 * The rebuild, as one root script: stop, move aside, pg_basebackup, standby.signal, start,
 * wait until it accepts connections. On a failed pg_basebackup the previous data directory is
 * put back and started, so a failure leaves the host as it was.
 */
export function cloneScript(t: StandbyTarget, timeoutSec = 60): string {
  const l = t.layout;
  const d = quote(l.dataDir);
  const backup = asPostgres(l, 'pg_basebackup', ['-d', primaryConninfo(t), '-D', l.dataDir, '-X', 'stream', '-S', t.slot, '-c', 'fast', '-w']);
  const carry = l.configInDataDir
    ? [
        // The config lives in the data directory here: keep this host's, not the primary's.
        `if [ -n "$old" ]; then for f in postgresql.conf pg_hba.conf pg_ident.conf conf.d; do if [ -e "$old/$f" ]; then rm -rf ${d}/"$f" && cp -a "$old/$f" ${d}/; fi; done; fi`,
      ]
    : [];
  return [
    'cd /',
    `systemctl stop ${quote(l.unit)} || exit 1`,
    'old=',
    `if [ -d ${d} ] && [ -n "$(ls -A ${d} 2>/dev/null)" ]; then old=${d}.drover-old-$(date +%Y%m%d%H%M%S); mv ${d} "$old" || exit 1; echo "moved_aside=$old"; fi`,
    `mkdir -p ${d} && chown postgres:postgres ${d} && chmod 0700 ${d} || exit 1`,
    `if ! ${backup}; then`,
    '  echo "drover: pg_basebackup failed; putting the previous data directory back" >&2',
    `  rm -rf ${d}; if [ -n "$old" ]; then mv "$old" ${d}; fi; systemctl start ${quote(l.unit)} >/dev/null 2>&1`,
    '  exit 1',
    'fi',
    // A copied postgresql.auto.conf must not override the drop-in's primary_conninfo.
    `if [ -f ${d}/postgresql.auto.conf ]; then sed -i '/^[[:space:]]*primary_\\(conninfo\\|slot_name\\)[[:space:]]*=/d' ${d}/postgresql.auto.conf; fi`,
    ...carry,
    `runuser -u postgres -- touch ${d}/standby.signal || exit 1`,
    `systemctl start ${quote(l.unit)} || exit 1`,
    `i=0; until ${asPostgres(l, 'pg_isready', ['-q', '-p', String(t.port)])}; do i=$((i+1)); if [ "$i" -ge ${timeoutSec} ]; then echo "drover: the standby did not accept connections within ${timeoutSec}s" >&2; exit 1; fi; sleep 1; done`,
  ].join('\n');
}

export function standbyOf(t: StandbyTarget & { allowRebuild: boolean; timeoutSec: number }): Op {
  return defineOp(async (ctx) => {
    const p = await standbyProbe(ctx, t);
    if (!p.ok) return failed(`standby probe failed (rc ${p.exitCode}): ${oneLine(p.stderr)}`);
    const s = parseStandbyState(p.stdout);
    const d = decideStandby(s, { host: ctx.host, primary: t.primary, allowRebuild: t.allowRebuild, check: ctx.check });
    const data = { sysid: s.sysid, primarySysid: s.primarySysid, standby: s.standbySignal };
    if (d.action === 'ok') return ok(d.msg, { data });
    if (d.action === 'refuse' || d.action === 'fail') return failed(d.msg, { data });
    if (ctx.check) return changed(`would ${d.msg}`, { data });
    const started = Date.now();
    // The rebuild is one root script (cloneScript: it puts the old data directory back on failure).
    const r = await ctx.$`sh -c ${cloneScript(t)}`.timeout(t.timeoutSec * 1000).nothrow();
    const moved = probeValue(probeLines(r.stdout), 'moved_aside');
    const aside = moved ? `; previous data directory kept at ${moved}` : '';
    if (!r.ok) return failed(`${d.msg}: failed (rc ${r.exitCode}): ${oneLine(r.stderr || r.stdout, 800)}`, { rc: r.exitCode, data });
    return changed(`${d.msg}: done in ${((Date.now() - started) / 1000).toFixed(1)} s${aside}`, { data: { ...data, movedAside: moved } });
  });
}
