// Small helpers shared by the role's SQL-speaking ops: SQL quoting, the one psql query probe
// they share, and the probe line format (`key=value` lines, a key may repeat:
// slot=a|physical|t, slot=b|physical|f).
import type { HostCommand } from '../../lib/ops/shell.ts';
import type { OpContext } from '../../lib/ops/types.ts';
import { localPsqlArgv, type PgLayout } from './layout.ts';

/**
 * One query through psql as postgres on the local socket. Prints `installed=0|1`, then
 * `q_rc=<psql exit code>` and each output line as `q=<line>`, so a failed query reaches the
 * decision as data. `read`: a read-only probe (`ctx.$.read`: it may be read ahead and runs in
 * --check); otherwise `ctx.$`.
 */
export function psqlQuery(ctx: Pick<OpContext, '$'>, l: PgLayout, port: number, sql: string, o: { read: boolean }): HostCommand {
  const $ = o.read ? ctx.$.read : ctx.$;
  return $`if [ ! -x ${`${l.binDir}/psql`} ]; then echo installed=0; exit 0; fi
echo installed=1
cd /
__out=$(${localPsqlArgv(l, port, ['-c', sql])} 2>&1); echo "q_rc=$?"
printf '%s\\n' "$__out" | sed 's/^/q=/'`.nothrow();
}

/** psqlQuery as a read-only probe. */
export function psqlProbe(ctx: Pick<OpContext, '$'>, l: PgLayout, port: number, sql: string): HostCommand {
  return psqlQuery(ctx, l, port, sql, { read: true });
}

/** A SQL string literal ('' doubles a quote; standard_conforming_strings is on since 9.1). */
export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A quoted SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Every `key=value` line, in order (repeated keys kept). */
export function probeLines(stdout: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && /^[a-z_]+$/.test(line.slice(0, eq))) out.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

/** The last value of a key, or undefined. */
export function probeValue(lines: ReadonlyArray<[string, string]>, key: string): string | undefined {
  let v: string | undefined;
  for (const [k, val] of lines) if (k === key) v = val;
  return v;
}

/** Output of a failed psql, on one line and short, for messages (psql never echoes our stdin). */
export function oneLine(s: string, max = 400): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

/** All values of a key. */
export function probeValues(lines: ReadonlyArray<[string, string]>, key: string): string[] {
  return lines.filter(([k]) => k === key).map(([, v]) => v);
}
