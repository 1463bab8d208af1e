// One physical replication slot per replica on the primary, so the primary keeps the WAL a
// replica has not received yet (a replica that was down catches up instead of needing a rebuild).
// Slots of hosts no longer in the inventory are reported, never dropped silently.
import { defineOp } from '../../lib/ops/exec.ts';
import { changed, failed, ok, type Op } from '../../lib/ops/types.ts';
import { localPsqlArgv, type PgLayout } from './layout.ts';
import { oneLine, probeLines, probeValue, probeValues, psqlProbe, sqlLiteral } from './sql.ts';

export interface SlotInfo {
  name: string;
  type: string;
  active: boolean;
}

export interface SlotState {
  installed: boolean;
  reachable: boolean;
  error?: string;
  inRecovery: boolean;
  slots: SlotInfo[];
}

export const SLOTS_SQL =
  "SELECT 'recovery|' || pg_is_in_recovery()::int UNION ALL " +
  "SELECT 'slot|' || slot_name || '|' || slot_type || '|' || active::int FROM pg_replication_slots";

export function parseSlotState(stdout: string): SlotState {
  const lines = probeLines(stdout);
  const installed = probeValue(lines, 'installed') === '1';
  const rows = probeValues(lines, 'q').filter(Boolean);
  if (!installed) return { installed, reachable: false, inRecovery: false, slots: [] };
  if (probeValue(lines, 'q_rc') !== '0') return { installed, reachable: false, error: oneLine(rows.join(' ')), inRecovery: false, slots: [] };
  const slots: SlotInfo[] = [];
  let inRecovery = false;
  for (const row of rows) {
    const f = row.split('|');
    if (f[0] === 'recovery') inRecovery = f[1] === '1';
    else if (f[0] === 'slot' && f[1]) slots.push({ name: f[1], type: f[2] ?? '', active: f[3] === '1' });
  }
  return { installed, reachable: true, inRecovery, slots };
}

export interface SlotDecision {
  create: string[];
  /** Wanted names taken by a logical slot: cannot be used. */
  conflicts: string[];
  /** Existing physical slots no replica wants (reported only). */
  unknown: string[];
}

export function decideSlots(existing: readonly SlotInfo[], wanted: readonly string[]): SlotDecision {
  const byName = new Map(existing.map((s) => [s.name, s]));
  return {
    create: wanted.filter((w) => !byName.has(w)),
    conflicts: wanted.filter((w) => byName.has(w) && byName.get(w)!.type !== 'physical'),
    unknown: existing.filter((s) => s.type === 'physical' && !wanted.includes(s.name)).map((s) => s.name),
  };
}

export function replicationSlots(o: { layout: PgLayout; port: number; slots: readonly string[] }): Op {
  return defineOp(async (ctx) => {
    const p = await psqlProbe(ctx, o.layout, o.port, SLOTS_SQL);
    if (!p.ok) return failed(`probe of replication slots failed (rc ${p.exitCode}): ${oneLine(p.stderr)}`);
    const s = parseSlotState(p.stdout);
    if (!s.installed || !s.reachable) {
      if (ctx.check) return changed(`would create slots ${o.slots.join(', ') || '(none)'} (server not answering yet)`);
      return failed(s.installed ? `cannot query the server as postgres: ${s.error}` : `PostgreSQL is not installed (no ${o.layout.binDir}/psql)`);
    }
    if (s.inRecovery) return failed('this server is a standby (in recovery): slots are created on the primary');
    const d = decideSlots(s.slots, o.slots);
    if (d.conflicts.length) return failed(`slot name(s) taken by a logical slot: ${d.conflicts.join(', ')}`);
    const note = d.unknown.length ? `; slot(s) no replica uses (they keep WAL: drop them with pg_drop_replication_slot if the replica is gone): ${d.unknown.join(', ')}` : '';
    if (!d.create.length) {
      const active = s.slots.filter((x) => o.slots.includes(x.name)).map((x) => `${x.name} (${x.active ? 'active' : 'inactive'})`);
      return ok(`${active.length ? `slots ${active.join(', ')}` : 'no replica, no slot'}${note}`);
    }
    const what = `create physical slot(s) ${d.create.join(', ')}`;
    if (ctx.check) return changed(`would ${what}${note}`);
    // immediately_reserve: WAL is kept from now on, before the replica first connects.
    const sql = d.create.map((n) => `SELECT pg_create_physical_replication_slot(${sqlLiteral(n)}, true);`).join('\n') + '\n';
    const r = await ctx.$`cd / && ${localPsqlArgv(o.layout, o.port, ['-f', '-'])}`.stdin(sql).nothrow();
    if (!r.ok) return failed(`${what}: psql failed (rc ${r.exitCode}): ${oneLine(r.stderr || r.stdout)}`, { rc: r.exitCode });
    return changed(`${what}${note}`);
  });
}
