// Role postgres on the lab's database hosts (postgresql1 primary, postgresql2 replica), checked
// by its real effect: a row written on the primary shows up on the replica, the replica refuses
// writes, pg_hba.conf refuses a host it does not name ("no pg_hba.conf entry") and lets one in
// once it is named (with a reload, not a restart), a restart-only setting restarts, the slot is
// active, a second run changes nothing, --check after a drift changes nothing. Then failover:
// pg-promote refuses while the primary is up, promotes once it is stopped (the replica takes
// writes), is a no-op when run again; db.ts refuses to clobber the promoted replica and, when
// allowed, rebuilds it as a standby. The replication password appears in no run's output.
//
// Re-runnable: beforeAll puts the pair back if an earlier run stopped halfway (primary started,
// a promoted postgresql2 rebuilt with `--limit postgresql2 -e postgres_replica_allow_rebuild=true`),
// and the last test leaves postgresql1 primary and postgresql2 its streaming standby.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labExec } from '../../lab/index.ts';
import { describeRun, runDrover, type DroverRun } from './support/drover.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const PRIMARY = 'postgresql1';
const REPLICA = 'postgresql2';
const ADDR: Record<string, string> = { postgresql1: '10.17.4.14', postgresql2: '10.17.4.15' };
const CONTROLLER = '10.17.4.1';
const DB_PLAYBOOK = 'playbooks/db.ts';
const PROMOTE_PLAYBOOK = 'playbooks/pg-promote.ts';
const CONF = '/etc/postgresql/15/main/conf.d/50-drover.conf';
const DATA = '/var/lib/postgresql/15/main';
const PASSWORD = String((parse(readFileSync('inventory/group_vars/databases.yaml', 'utf8')) as Record<string, unknown>).postgres_replication_password);

let lab: Lab | undefined;
const runs: DroverRun[] = [];

async function db(args: string[] = []): Promise<DroverRun> {
  const run = await runDrover(DB_PLAYBOOK, ['-i', lab!.inventory, ...args]);
  runs.push(run);
  return run;
}

async function pgPromote(args: string[] = []): Promise<DroverRun> {
  const run = await runDrover(PROMOTE_PLAYBOOK, ['-i', lab!.inventory, ...args]);
  runs.push(run);
  return run;
}

/** SQL on a host as postgres over the local socket, fed on stdin. */
function psql(host: string, sql: string) {
  return lab!.sh(host, 'cd / && runuser -u postgres -- psql -X -A -t -q -v ON_ERROR_STOP=1 -d postgres', { input: sql });
}

async function value(host: string, sql: string): Promise<string> {
  const r = await psql(host, sql);
  if (r.code !== 0) throw new Error(`${host}: ${sql}: ${r.stderr}`);
  return r.stdout.trim();
}

async function must(host: string, cmd: string): Promise<string> {
  const r = await lab!.sh(host, cmd);
  if (r.code !== 0) throw new Error(`${host}: ${cmd}: rc ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return { value: v, ms: Date.now() - t0 };
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const startTime = (host: string) => value(host, 'SELECT pg_postmaster_start_time();');
const slotActive = () => value(PRIMARY, `SELECT active FROM pg_replication_slots WHERE slot_name = '${REPLICA}';`);
const task = (run: DroverRun, host: string, name: string) => run.tasks.find((t) => t.host === host && t.task === name);
const handlerRan = (run: DroverRun, host: string, name: string) => run.tasks.some((t) => t.host === host && t.handler && t.task === name && t.status === 'changed');

/**
 * A psql connection attempt from a host pg_hba.conf does not name: the controller's lab address
 * (psql is on this machine), else infra with postgresql-client installed there.
 */
async function connectFromOutside(conninfo: string, password = 'not-the-password'): Promise<{ where: string; out: string }> {
  const local = await labExec(['sh', '-c', 'command -v psql']);
  if (local.code === 0) {
    const r = await labExec(['env', `PGPASSWORD=${password}`, 'psql', '-X', '-w', '-d', conninfo, '-c', 'SELECT 1'], { timeoutMs: 20_000 });
    return { where: CONTROLLER, out: r.stderr + r.stdout };
  }
  await must('infra', 'command -v psql >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-client >/dev/null)');
  const r = await lab!.sh('infra', `PGPASSWORD='${password}' psql -X -w -d '${conninfo}' -c 'SELECT 1'`);
  return { where: '10.17.4.11', out: r.stderr + r.stdout };
}

describe('role postgres (lab)', () => {
  beforeAll(async () => {
    lab = await useLab();
    if (!lab) {
      console.warn('[role-postgres] lab not available here: skipping the role postgres lab tests');
      return;
    }
    // Put the pair back if an earlier run stopped between failover and rebuild.
    await lab.sh(PRIMARY, 'systemctl start postgresql 2>/dev/null || true');
    const rec = await psql(REPLICA, 'SELECT pg_is_in_recovery();');
    if (rec.code === 0 && rec.stdout.trim() === 'f') {
      console.log('[role-postgres] reset: postgresql2 is a promoted copy from an earlier run; rebuilding it as a standby');
      const r = await db(['--limit', REPLICA, '-e', 'postgres_replica_allow_rebuild=true']);
      if (r.code !== 0) throw new Error(`reset failed: ${describeRun(r)}`);
    }
  });

  afterAll(async () => {
    if (!lab) return;
    await lab.sh(PRIMARY, 'systemctl start postgresql 2>/dev/null || true');
    // Data directories moved aside by the rebuilds of this run (kept by the role on purpose).
    await lab.sh(REPLICA, `rm -rf ${DATA}.drover-old-*`);
  });

  it('converges: primary with replication settings, replica streaming through its slot', async () => {
    if (!lab) return; // reason printed in beforeAll
    const run = await db();
    expect(run.code, describeRun(run)).toBe(0);
    console.log(`[role-postgres] first run: ${run.changed} changed, ${(run.recap!.durationMs / 1000).toFixed(1)} s`);
    expect(await value(PRIMARY, 'SHOW wal_level;')).toBe('replica');
    expect(await value(PRIMARY, 'SHOW listen_addresses;')).toBe(`localhost,${ADDR[PRIMARY]}`);
    expect(await value(PRIMARY, 'SHOW max_wal_senders;')).toBe('10');
    expect(await value(REPLICA, 'SELECT pg_is_in_recovery();')).toBe('t');
    expect(await must(REPLICA, `test -f ${DATA}/standby.signal && echo yes`)).toContain('yes');
    const { ms } = await poll('slot active', async () => ((await slotActive()) === 't' ? true : undefined));
    console.log(`[role-postgres] slot ${REPLICA} active on the primary (${ms} ms after the run)`);
    expect(await value(PRIMARY, `SELECT application_name || ' ' || state || ' ' || host(client_addr) FROM pg_stat_replication;`)).toBe(`${REPLICA} streaming ${ADDR[REPLICA]}`);
    // The passfile: owned by postgres, 0600.
    expect((await must(REPLICA, 'stat -c "%a %U" /var/lib/postgresql/.drover-replication.pgpass')).trim()).toBe('600 postgres');
  });

  it('a row written on the primary appears on the replica', async () => {
    if (!lab) return;
    const note = `row-${Date.now()}`;
    await value(PRIMARY, 'CREATE TABLE IF NOT EXISTS drover_lab_check (id serial PRIMARY KEY, note text NOT NULL);');
    // Watch on the replica itself, in one session (a fresh snapshot per statement, every 5 ms, up
    // to 5 s), and note when the row shows: the lab hosts share one kernel clock, so primary and
    // replica timestamps compare directly.
    await poll('table on the replica', async () => ((await psql(REPLICA, 'SELECT 1 FROM drover_lab_check LIMIT 0;')).code === 0 ? true : undefined), 5_000);
    const query = `SELECT count(*) FROM drover_lab_check WHERE note = '${note}'`;
    const watcher = psql(
      REPLICA,
      `DO $$ BEGIN FOR i IN 1..1000 LOOP PERFORM 1 FROM drover_lab_check WHERE note = '${note}'; IF FOUND THEN RAISE NOTICE 'seen=%', (extract(epoch FROM clock_timestamp()) * 1000)::bigint; RETURN; END IF; PERFORM pg_sleep(0.005); END LOOP; RAISE EXCEPTION 'not seen'; END $$;`,
    );
    await new Promise((r) => setTimeout(r, 500));
    const insertedAt = Number(await value(PRIMARY, `INSERT INTO drover_lab_check (note) VALUES ('${note}') RETURNING (extract(epoch FROM clock_timestamp()) * 1000)::bigint;`));
    const seen = await watcher;
    expect(seen.code, `row not on the replica within 5 s: ${seen.stderr}`).toBe(0);
    const delay = Number(/seen=(\d+)/.exec(seen.stderr)?.[1]) - insertedAt;
    console.log(`[role-postgres] row visible on the replica ${delay} ms after the insert on the primary (replica-side poll every 5 ms)`);
    expect(delay).toBeLessThan(5_000);
    expect(await value(REPLICA, `${query};`)).toBe('1');
  });

  it('the replica refuses writes', async () => {
    if (!lab) return;
    const r = await psql(REPLICA, "INSERT INTO drover_lab_check (note) VALUES ('must-fail');");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('cannot execute INSERT in a read-only transaction');
  });

  it('pg_hba.conf: a host it does not name is refused ("no pg_hba.conf entry")', async () => {
    if (!lab) return;
    for (const host of [PRIMARY, REPLICA]) {
      const app = await connectFromOutside(`host=${ADDR[host]} port=5432 user=app dbname=app connect_timeout=5`);
      expect(app.out, `${host} from ${app.where}`).toContain(`no pg_hba.conf entry for host "${app.where}"`);
      const repl = await connectFromOutside(`host=${ADDR[host]} port=5432 user=replicator dbname=replication replication=true connect_timeout=5`, PASSWORD);
      expect(repl.out, `${host} replication from ${repl.where}`).toContain(`no pg_hba.conf entry for replication connection from host "${repl.where}"`);
    }
  });

  it('a second run changes nothing', async () => {
    if (!lab) return;
    const run = await db();
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.changed, run.tasks.filter((t) => t.status === 'changed').map((t) => `${t.host} ${t.task}: ${t.msg}`).join('\n')).toBe(0);
  });

  it('naming a client in pg_hba.conf lets it reach authentication, with a reload and no restart', async () => {
    if (!lab) return;
    const before = await startTime(PRIMARY);
    const clients = JSON.stringify({ postgres_hba_clients: [{ address: CONTROLLER, database: 'postgres', user: 'drover_lab_app' }] });
    const run = await db(['--limit', PRIMARY, '-e', clients]);
    expect(run.code, describeRun(run)).toBe(0);
    expect(task(run, PRIMARY, 'pg_hba.conf allows only the named hosts')?.status).toBe('changed');
    expect(handlerRan(run, PRIMARY, 'reload postgresql')).toBe(true);
    expect(handlerRan(run, PRIMARY, 'restart postgresql')).toBe(false);
    const named = await connectFromOutside(`host=${ADDR[PRIMARY]} port=5432 user=drover_lab_app dbname=postgres connect_timeout=5`);
    if (named.where === CONTROLLER) {
      expect(named.out).not.toContain('no pg_hba.conf entry');
      expect(named.out).toContain('password authentication failed for user "drover_lab_app"');
    }
    expect(await startTime(PRIMARY)).toBe(before);
    // Back to the inventory's list: refused again.
    const back = await db(['--limit', PRIMARY]);
    expect(back.code, describeRun(back)).toBe(0);
    expect(handlerRan(back, PRIMARY, 'reload postgresql')).toBe(true);
    const again = await connectFromOutside(`host=${ADDR[PRIMARY]} port=5432 user=drover_lab_app dbname=postgres connect_timeout=5`);
    expect(again.out).toContain('no pg_hba.conf entry');
    expect(await startTime(PRIMARY)).toBe(before);
  });

  it('a restart-only setting (max_wal_senders) restarts both servers; reverting restarts again', async () => {
    if (!lab) return;
    const before = await startTime(PRIMARY);
    const up = await db(['-e', 'postgres_max_wal_senders=12']);
    expect(up.code, describeRun(up)).toBe(0);
    for (const h of [PRIMARY, REPLICA]) {
      expect(task(up, h, 'restart only if a restart-only setting changed')?.msg).toBe('restart needed for max_wal_senders');
      expect(handlerRan(up, h, 'restart postgresql')).toBe(true);
      expect(up.tasks.find((t) => t.host === h && t.handler && t.task === 'reload postgresql')?.status).toBe('skipped');
      expect(await value(h, 'SHOW max_wal_senders;')).toBe('12');
    }
    expect(await startTime(PRIMARY)).not.toBe(before);
    const down = await db();
    expect(down.code, describeRun(down)).toBe(0);
    for (const h of [PRIMARY, REPLICA]) expect(await value(h, 'SHOW max_wal_senders;')).toBe('10');
    await poll('slot active again', async () => ((await slotActive()) === 't' ? true : undefined), 20_000);
  });

  it('--check after a drift reports it and changes nothing; the next run repairs it with a reload', async () => {
    if (!lab) return;
    await must(PRIMARY, `sed -i 's/^max_wal_senders = 10$/max_wal_senders = 7/' ${CONF}`);
    const drifted = await must(PRIMARY, `sha256sum ${CONF}`);
    const before = await startTime(PRIMARY);
    const check = await db(['--check']);
    expect(check.code, describeRun(check)).toBe(0);
    const conf = task(check, PRIMARY, 'replication settings (conf.d drop-in)');
    expect(conf?.status).toBe('changed');
    expect(conf?.msg).toMatch(/^would update/);
    // The drifted file holds a restart-only value the server does not run with: reported too.
    expect(task(check, PRIMARY, 'restart only if a restart-only setting changed')?.msg).toBe('would restart for max_wal_senders');
    expect(check.tasks.filter((t) => t.host === REPLICA && t.status === 'changed')).toEqual([]);
    expect(await must(PRIMARY, `sha256sum ${CONF}`)).toBe(drifted);
    expect(await startTime(PRIMARY)).toBe(before);
    const fix = await db();
    expect(fix.code, describeRun(fix)).toBe(0);
    expect(task(fix, PRIMARY, 'replication settings (conf.d drop-in)')?.status).toBe('changed');
    // The file is back to the running value: a reload, no restart.
    expect(handlerRan(fix, PRIMARY, 'restart postgresql')).toBe(false);
    expect(await startTime(PRIMARY)).toBe(before);
    expect(await must(PRIMARY, `grep '^max_wal_senders' ${CONF}`)).toBe('max_wal_senders = 10\n');
    const after = await db();
    expect(after.changed, describeRun(after)).toBe(0);
  });

  it('pg-promote refuses while the primary is up and still a primary', async () => {
    if (!lab) return;
    const run = await pgPromote();
    expect(run.code).toBe(2);
    expect(task(run, REPLICA, 'old primary is down or no longer a primary')?.msg).toContain('refusing to promote: the old primary postgresql1 (10.17.4.14) is reachable and still running as a primary');
    expect(task(run, REPLICA, 'promote to primary')).toBeUndefined();
    expect(await value(REPLICA, 'SELECT pg_is_in_recovery();')).toBe('t');
  });

  it('primary lost: pg-promote makes the replica a writable primary', async () => {
    if (!lab) return;
    await must(PRIMARY, 'systemctl stop postgresql');
    const run = await pgPromote();
    expect(run.code, describeRun(run)).toBe(0);
    expect(task(run, REPLICA, 'old primary is down or no longer a primary')?.msg).toContain('does not answer');
    const p = task(run, REPLICA, 'promote to primary');
    expect(p?.status).toBe('changed');
    console.log(`[role-postgres] ${p?.msg}`);
    expect(await value(REPLICA, 'SELECT pg_is_in_recovery();')).toBe('f');
    await value(REPLICA, "INSERT INTO drover_lab_check (note) VALUES ('written-after-promotion');");
    expect(await value(REPLICA, "SELECT count(*) FROM drover_lab_check WHERE note = 'written-after-promotion';")).toBe('1');
    const again = await pgPromote();
    expect(again.code, describeRun(again)).toBe(0);
    expect(again.changed).toBe(0);
    expect(task(again, REPLICA, 'promotion target is a running standby')?.msg).toContain('already a primary');
  });

  it('db.ts will not clobber the promoted replica; allowed, it rebuilds the pair', async () => {
    if (!lab) return;
    await must(PRIMARY, 'systemctl start postgresql');
    const refused = await db(['--limit', REPLICA]);
    expect(refused.code).toBe(2);
    expect(task(refused, REPLICA, 'standby of the primary')?.msg).toContain('refusing to rebuild postgresql2');
    expect(await value(REPLICA, "SELECT count(*) FROM drover_lab_check WHERE note = 'written-after-promotion';")).toBe('1');
    const rebuilt = await db(['--limit', REPLICA, '-e', 'postgres_replica_allow_rebuild=true']);
    expect(rebuilt.code, describeRun(rebuilt)).toBe(0);
    expect(task(rebuilt, REPLICA, 'standby of the primary')?.msg).toMatch(/rebuild the promoted copy .* previous data directory kept at \/var\/lib\/postgresql\/15\/main\.drover-old-/);
    expect(await value(REPLICA, 'SELECT pg_is_in_recovery();')).toBe('t');
    // The pair is the primary's again: the write made on the promoted copy is not (kept aside).
    expect(await value(REPLICA, "SELECT count(*) FROM drover_lab_check WHERE note = 'written-after-promotion';")).toBe('0');
    await poll('slot active after the rebuild', async () => ((await slotActive()) === 't' ? true : undefined), 20_000);
    const final = await db();
    expect(final.code, describeRun(final)).toBe(0);
    expect(final.changed, describeRun(final)).toBe(0);
  });

  it('the replication password appears in no run output, no config and no server log', async () => {
    if (!lab) return;
    expect(runs.length).toBeGreaterThan(5);
    console.log(`[role-postgres] ${runs.length} runs, seconds each: ${runs.map((r) => ((r.recap?.durationMs ?? NaN) / 1000).toFixed(1)).join(' ')}`);
    for (const r of runs) {
      expect(r.stdout.includes(PASSWORD)).toBe(false);
      expect(r.stderr.includes(PASSWORD)).toBe(false);
      expect(JSON.stringify(r.events).includes(PASSWORD)).toBe(false);
    }
    for (const h of [PRIMARY, REPLICA]) {
      const r = await lab.sh(h, `grep -rlF -- '${PASSWORD}' /etc/postgresql /var/log/postgresql ${DATA} 2>/dev/null; true`);
      expect(r.stdout.trim(), h).toBe('');
    }
  });
});
