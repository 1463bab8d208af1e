// The replication role on the primary: LOGIN REPLICATION with the wanted password, created or
// fixed idempotently through psql as the postgres user (local socket, peer auth).
// The probe reads the stored SCRAM verifier's public half and a digest of it, and this
// controller checks them against the password (scram.ts): the password is never sent for a
// check, never printed, never on any argv; the verifier never leaves the server for a check. A change
// sends a freshly computed verifier on psql's stdin: the plaintext never reaches the server.
import { defineOp } from '../../lib/ops/exec.ts';
import { changed, failed, ok, type Op } from '../../lib/ops/types.ts';
import { addSecret } from '../../lib/secrets/redact.ts';
import { localPsqlArgv, type PgLayout } from './layout.ts';
import { scramDigestMatches, scramVerifier, type StoredVerifier } from './scram.ts';
import { oneLine, probeLines, probeValue, probeValues, psqlProbe, sqlIdent, sqlLiteral } from './sql.ts';

export interface RoleState {
  installed: boolean;
  /** psql answered (the server runs). */
  reachable: boolean;
  error?: string;
  exists: boolean;
  login: boolean;
  replication: boolean;
  /** pg_authid.rolpassword as the probe describes it (scheme, public half, digest). */
  stored: StoredVerifier;
}

const NO_PASSWORD: StoredVerifier = { scheme: '', params: '', sha256: '' };

export function roleProbeSql(user: string): string {
  // describeVerifier() in scram.ts computes the same three fields.
  const pw = "coalesce(rolpassword, '')";
  const scheme = `CASE WHEN ${pw} LIKE 'SCRAM-SHA-256$%' THEN 'SCRAM-SHA-256' WHEN ${pw} = '' THEN '' ELSE 'other' END`;
  const params = `CASE WHEN ${pw} LIKE 'SCRAM-SHA-256$%' THEN split_part(${pw}, '$', 2) ELSE '' END`;
  const digest = `encode(sha256(convert_to(${pw}, 'UTF8')), 'hex')`;
  return `SELECT rolcanlogin::int || '|' || rolreplication::int || '|' || ${scheme} || '|' || ${params} || '|' || ${digest} FROM pg_authid WHERE rolname = ${sqlLiteral(user)}`;
}

export function parseRoleState(stdout: string): RoleState {
  const lines = probeLines(stdout);
  const installed = probeValue(lines, 'installed') === '1';
  const rc = probeValue(lines, 'q_rc');
  const rows = probeValues(lines, 'q').filter((r) => r !== '');
  const base = { installed, exists: false, login: false, replication: false, stored: NO_PASSWORD };
  if (!installed) return { ...base, reachable: false };
  if (rc !== '0') return { ...base, reachable: false, error: oneLine(rows.join(' ')) || `psql exited ${rc ?? '?'}` };
  const row = rows[0];
  if (row === undefined) return { ...base, reachable: true };
  const [login, replication, scheme = '', params = '', sha256 = ''] = row.split('|');
  return { installed, reachable: true, exists: true, login: login === '1', replication: replication === '1', stored: { scheme, params, sha256 } };
}

export interface RoleDecision {
  action: 'ok' | 'create' | 'alter';
  /** What differs, for the message: 'LOGIN', 'REPLICATION', 'password'. */
  fixes: string[];
}

/** Pure: what to do, given the probed state and the wanted password. */
export function decideRole(s: RoleState, password: string): RoleDecision {
  if (!s.exists) return { action: 'create', fixes: [] };
  const fixes: string[] = [];
  if (!s.login) fixes.push('LOGIN');
  if (!s.replication) fixes.push('REPLICATION');
  if (!scramDigestMatches(s.stored, password)) fixes.push('password');
  return { action: fixes.length ? 'alter' : 'ok', fixes };
}

/** The SQL for a decision (sent on stdin). */
export function roleSql(user: string, d: RoleDecision, verifier: string): string {
  const who = sqlIdent(user);
  if (d.action === 'create') return `CREATE ROLE ${who} WITH LOGIN REPLICATION PASSWORD ${sqlLiteral(verifier)};\n`;
  const pw = d.fixes.includes('password') ? ` PASSWORD ${sqlLiteral(verifier)}` : '';
  return `ALTER ROLE ${who} WITH LOGIN REPLICATION${pw};\n`;
}

export function replicationRole(o: { layout: PgLayout; port: number; user: string; password: string }): Op {
  return defineOp(async (ctx) => {
    const p = await psqlProbe(ctx, o.layout, o.port, roleProbeSql(o.user));
    if (!p.ok) return failed(`probe of role ${o.user} failed (rc ${p.exitCode}): ${oneLine(p.stderr)}`);
    const s = parseRoleState(p.stdout);
    if (!s.installed) {
      return ctx.check ? changed(`would create replication role ${o.user} (PostgreSQL is not installed yet)`) : failed(`PostgreSQL is not installed (no ${o.layout.binDir}/psql)`);
    }
    if (!s.reachable) {
      if (ctx.check) return changed(`would check replication role ${o.user} (server not answering yet: ${s.error})`);
      return failed(`cannot query the server as postgres: ${s.error}`);
    }
    const d = decideRole(s, o.password);
    if (d.action === 'ok') return ok(`role ${o.user}: LOGIN REPLICATION, password up to date`);
    const what = d.action === 'create' ? `create replication role ${o.user}` : `fix role ${o.user}: ${d.fixes.join(', ')}`;
    if (ctx.check) return changed(`would ${what}`);
    const verifier = scramVerifier(o.password);
    addSecret(verifier);
    const r = await ctx.$`cd / && ${localPsqlArgv(o.layout, o.port, ['-f', '-'])}`.stdin(roleSql(o.user, d, verifier)).nothrow();
    if (!r.ok) return failed(`${what}: psql failed (rc ${r.exitCode}): ${oneLine(r.stderr || r.stdout)}`, { rc: r.exitCode });
    return changed(what);
  });
}
