// Does the configuration on disk hold a setting the running server can only take on a restart?
// pg_file_settings re-reads the files at query time and marks each postmaster-level setting
// whose value differs from the running one "setting could not be applied" (values compared
// after unit parsing, so '128MB' = '131072kB'). That is exactly "restart needed": wal_level,
// max_wal_senders, listen_addresses, port, shared_buffers ... and nothing that a reload applies.
// It also catches a restart left pending by an earlier run that failed before its handler.
import { defineOp } from '../../lib/ops/exec.ts';
import { changed, failed, ok, skipped, type Op } from '../../lib/ops/types.ts';
import type { PgLayout } from './layout.ts';
import { oneLine, probeLines, probeValue, probeValues, psqlProbe } from './sql.ts';

export interface FileSettingError {
  name: string;
  error: string;
}

export const PENDING_SQL = "SELECT coalesce(name, '') || '|' || error FROM pg_file_settings WHERE error IS NOT NULL";

const NEEDS_RESTART = /could not be applied|without restarting/;

/** Pure: split pg_file_settings errors into settings waiting for a restart and real errors. */
export function classifyFileSettings(rows: readonly string[]): { restart: string[]; errors: FileSettingError[] } {
  const restart: string[] = [];
  const errors: FileSettingError[] = [];
  for (const row of rows) {
    const bar = row.indexOf('|');
    const name = bar < 0 ? '' : row.slice(0, bar);
    const error = bar < 0 ? row : row.slice(bar + 1);
    if (NEEDS_RESTART.test(error)) {
      if (name && !restart.includes(name)) restart.push(name);
      else if (!name && !restart.includes('(a removed setting)')) restart.push('(a removed setting)');
    } else errors.push({ name, error });
  }
  return { restart, errors };
}

/** Reports `changed` (and so notifies the restart handler) when a restart is pending. */
export function pendingRestart(o: { layout: PgLayout; port: number }): Op {
  return defineOp(async (ctx) => {
    const p = await psqlProbe(ctx, o.layout, o.port, PENDING_SQL);
    if (!p.ok) return failed(`probe of pg_file_settings failed (rc ${p.exitCode}): ${oneLine(p.stderr)}`);
    const lines = probeLines(p.stdout);
    const rows = probeValues(lines, 'q').filter(Boolean);
    if (probeValue(lines, 'installed') !== '1') return ctx.check ? skipped('PostgreSQL is not installed yet') : failed(`PostgreSQL is not installed (no ${o.layout.binDir}/psql)`);
    if (probeValue(lines, 'q_rc') !== '0') {
      const why = oneLine(rows.join(' '));
      return ctx.check ? skipped(`server not answering: ${why}`) : failed(`cannot query the server as postgres: ${why}`);
    }
    const c = classifyFileSettings(rows);
    if (c.errors.length) return failed(`the configuration files have errors: ${c.errors.map((e) => `${e.name || '?'}: ${e.error}`).join('; ')}`);
    if (!c.restart.length) return ok('no setting waits for a restart');
    return changed(`${ctx.check ? 'would restart' : 'restart needed'} for ${c.restart.join(', ')}`, { data: { restart: c.restart } });
  });
}
