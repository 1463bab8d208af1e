// roles/postgres: variables, layout, topology, templates (golden), SCRAM, and the decisions of
// its own ops (replication role, slots, pending restart, standby clone, promotion), with
// FakeTransport where the exec traffic matters (password never on argv, check mode runs nothing).
import { describe, expect, it } from 'vitest';
import type { Inventory, InventoryHost } from '../../../lib/inventory/types.ts';
import { inventoryLookup } from '../../../lib/run/lookup.ts';
import type { HostCtx } from '../../../lib/run/types.ts';
import type { CliOptions } from '../../../lib/cli/args.ts';
import { postgresRole, confInput, confValidateCommand, hbaInput, RESTART_REGISTER } from '../../../roles/postgres/index.ts';
import { addSecret, redact, REDACTED } from '../../../lib/secrets/redact.ts';
import { defaultPgVersion, pgLayout, type PgLayout } from '../../../roles/postgres/layout.ts';
import { pendingRestart, classifyFileSettings } from '../../../roles/postgres/pending-restart.ts';
import { decideOldPrimary, parseOldPrimary, postgresPromoteRole, promote } from '../../../roles/postgres/promote.ts';
import { promotePlays } from '../../../roles/postgres/promote-play.ts';
import { decideRole, parseRoleState, replicationRole, roleProbeSql, roleSql } from '../../../roles/postgres/replication-role.ts';
import { describeVerifier, scramMatches, scramVerifier } from '../../../roles/postgres/scram.ts';
import { decideSlots, replicationSlots } from '../../../roles/postgres/slots.ts';
import { cloneScript, decideStandby, parseStandbyState, standbyOf, type StandbyState } from '../../../roles/postgres/standby.ts';
import { confValue, conninfo, renderConf, renderHba, renderPassfile } from '../../../roles/postgres/templates.ts';
import { hbaAddress, pgTopology, slotName } from '../../../roles/postgres/topology.ts';
import { postgresPromoteVars, postgresVars, type PostgresVars } from '../../../roles/postgres/vars.ts';
import { almaFacts, debianFacts, flatcarFacts, makeCtx } from '../ops/helpers.ts';

const PW = 'unit-Test-pw-93b1';
const layout = pgLayout(debianFacts, { cluster: 'main' }) as PgLayout;

function inventory(): Inventory {
  const hosts = new Map<string, InventoryHost>();
  const add = (name: string, ip: string, groups: string[], vars: Record<string, unknown> = {}) =>
    hosts.set(name, { name, vars: { ansible_host: ip, ...vars }, origins: {}, groups: ['all', ...groups].sort() });
  add('postgresql1', '10.17.4.14', ['databases', 'postgres_primary']);
  add('postgresql2', '10.17.4.15', ['databases', 'postgres_replica']);
  add('pg-3.example', '10.17.4.16', ['databases', 'postgres_replica'], { postgres_replication_slot: 'third' });
  add('worker1', '10.17.4.24', ['workers']);
  add('worker2', '10.17.4.25', ['workers']);
  add('infra', '10.17.4.11', ['infra']);
  const groups: Inventory['groups'] = new Map();
  for (const h of hosts.values()) {
    for (const g of h.groups) {
      if (!groups.has(g)) groups.set(g, { name: g, hosts: [], children: [], vars: {} });
      groups.get(g)!.hosts.push(h.name);
    }
  }
  return { sources: ['test'], hosts, groups };
}

const vars = (extra: Record<string, unknown> = {}): PostgresVars => postgresVars.parse({ postgres_replication_password: PW, ...extra });

describe('postgres vars', () => {
  it('defaults need only the replication password', () => {
    const v = vars();
    expect(v).toMatchObject({
      postgres_cluster: 'main',
      postgres_port: 5432,
      postgres_replication_user: 'replicator',
      postgres_max_wal_senders: 10,
      postgres_max_replication_slots: 10,
      postgres_hot_standby: true,
      postgres_hba_clients: [],
      postgres_replica_allow_rebuild: false,
      postgres_conf_file: '50-drover.conf',
    });
    expect(v.postgres_version).toBeUndefined();
  });

  it('rejects a missing or non-ASCII password, bad names and ambiguous clients', () => {
    expect(postgresVars.safeParse({}).success).toBe(false);
    expect(postgresVars.safeParse({ postgres_replication_password: 'pässwörd' }).success).toBe(false);
    expect(postgresVars.safeParse({ postgres_replication_password: PW, postgres_replication_user: 'Repl; DROP' }).success).toBe(false);
    expect(postgresVars.safeParse({ postgres_replication_password: PW, postgres_hba_clients: [{ address: '10.0.0.1', host: 'worker1' }] }).success).toBe(false);
    expect(postgresVars.safeParse({ postgres_replication_password: PW, postgres_hba_clients: [{ address: '10.0.0.300' }] }).success).toBe(false);
    expect(postgresVars.safeParse({ postgres_replication_password: PW, postgres_conf_file: 'x.txt' }).success).toBe(false);
  });

  it('reads numbers, ports and durations as INI and -e spell them', () => {
    const v = vars({ postgres_port: '5433', postgres_version: '15', postgres_max_connections: '200', postgres_max_wal_senders: '5', postgres_max_replication_slots: '6', postgres_basebackup_timeout: '2h', postgres_hot_standby_feedback: 'on' });
    expect(v).toMatchObject({ postgres_port: 5433, postgres_version: 15, postgres_max_connections: 200, postgres_max_wal_senders: 5, postgres_max_replication_slots: 6, postgres_basebackup_timeout: 7200, postgres_hot_standby_feedback: true });
    expect(vars({ postgres_basebackup_timeout: '600' }).postgres_basebackup_timeout).toBe(600);
    expect(postgresPromoteVars.parse({ postgres_promote_force: 'yes', postgres_promote_timeout: '90' })).toMatchObject({ postgres_promote_force: true, postgres_promote_timeout: 90 });
    expect(postgresVars.safeParse({ postgres_replication_password: PW, postgres_port: '65536' }).success).toBe(false);
    expect(postgresVars.safeParse({ postgres_replication_password: PW, postgres_replica_allow_rebuild: 'maybe' }).success).toBe(false);
  });

  it('reads booleans as INI and -e spell them; client defaults', () => {
    const v = vars({ postgres_replica_allow_rebuild: 'yes', postgres_hot_standby: 'off', postgres_hba_clients: [{ group: 'workers' }] });
    expect(v.postgres_replica_allow_rebuild).toBe(true);
    expect(v.postgres_hot_standby).toBe(false);
    expect(v.postgres_hba_clients[0]).toEqual({ group: 'workers', database: 'all', user: 'all', method: 'scram-sha-256' });
  });

  it('promote vars need no password, but one in the inventory is still redacted', () => {
    expect(postgresPromoteVars.parse({})).toMatchObject({ postgres_promote_force: false, postgres_promote_timeout: 60, postgres_port: 5432 });
    postgresPromoteVars.parse({ postgres_replication_password: 'promote-only-secret-1' });
    expect(redact('pw is promote-only-secret-1')).toBe(`pw is ${REDACTED}`);
  });
});

describe('layout', () => {
  it('Debian 12: PostgreSQL 15 in /etc/postgresql/15/main, one unit per cluster', () => {
    expect(layout).toMatchObject({
      version: 15,
      packages: ['postgresql-15', 'postgresql-client-15'],
      binDir: '/usr/lib/postgresql/15/bin',
      dataDir: '/var/lib/postgresql/15/main',
      confD: '/etc/postgresql/15/main/conf.d',
      hbaFile: '/etc/postgresql/15/main/pg_hba.conf',
      unit: 'postgresql@15-main',
      createCluster: { cmd: 'pg_createcluster 15 main', creates: '/etc/postgresql/15/main/postgresql.conf' },
      configInDataDir: false,
    });
  });

  it('versions by distribution, an explicit version, RHEL paths, unsupported systems', () => {
    expect(defaultPgVersion({ ...debianFacts.os, versionMajor: 13 })).toBe(17);
    expect(defaultPgVersion({ id: 'ubuntu', family: 'debian', version: '24.04', versionMajor: 24 })).toBe(16);
    expect((pgLayout(debianFacts, { version: 16, cluster: 'db' }) as PgLayout).unit).toBe('postgresql@16-db');
    expect(pgLayout(almaFacts, { cluster: 'main' })).toMatchObject({ version: 13, dataDir: '/var/lib/pgsql/data', unit: 'postgresql', configInDataDir: true, packages: ['postgresql-server', 'postgresql'] });
    expect(pgLayout(flatcarFacts, { version: 15, cluster: 'main' })).toMatch(/not supported on Flatcar/);
    expect(pgLayout({ ...debianFacts, os: { ...debianFacts.os, versionMajor: 9 } }, { cluster: 'main' })).toMatch(/set postgres_version/);
  });
});

describe('topology', () => {
  const topo = (host: string, extra: Record<string, unknown> = {}) => {
    const inv = inventory();
    const h = inv.hosts.get(host)!;
    return pgTopology({ host, lookup: inventoryLookup(inv), groups: h.groups, vars: vars(extra) });
  };

  it('primary: every replica with its slot; peers are the replicas', () => {
    const t = topo('postgresql1');
    expect(t.role).toBe('primary');
    expect(t.primary).toEqual({ name: 'postgresql1', address: '10.17.4.14' });
    expect(t.replicas).toEqual([
      { name: 'postgresql2', address: '10.17.4.15', slot: 'postgresql2' },
      { name: 'pg-3.example', address: '10.17.4.16', slot: 'third' },
    ]);
    expect(t.peers.map((p) => p.name)).toEqual(['postgresql2', 'pg-3.example']);
  });

  it('replica: role from the group, primary from the primary group, peers exclude itself', () => {
    const t = topo('postgresql2');
    expect(t.role).toBe('replica');
    expect(t.primary?.address).toBe('10.17.4.14');
    expect(t.peers.map((p) => p.name)).toEqual(['postgresql1', 'pg-3.example']);
    expect(topo('postgresql2', { postgres_role: 'primary' }).role).toBe('primary');
    expect(topo('postgresql2', { postgres_primary_host: 'infra' }).primary).toEqual({ name: 'infra', address: '10.17.4.11' });
  });

  it('slot names and hba addresses', () => {
    expect(slotName('pg-3.Example')).toBe('pg_3_example');
    expect(slotName('3db')).toBe('r_3db');
    expect(hbaAddress('10.17.4.15')).toBe('10.17.4.15/32');
    expect(hbaAddress('fd00::5')).toBe('fd00::5/128');
    expect(hbaAddress('10.17.4.0/24')).toBe('10.17.4.0/24');
  });
});

describe('role wiring (inventory -> template inputs)', () => {
  const ctxFor = (host: string, extra: Record<string, unknown> = {}, inv = inventory(), merged?: (h: string) => Record<string, unknown> | undefined) => {
    const h = inv.hosts.get(host)!;
    return { host, inventory: inv, groups: h.groups, hostVars: h.vars, facts: debianFacts, vars: vars(extra), ...inventoryLookup(inv, merged) } as unknown as HostCtx<PostgresVars>;
  };

  it('every peer-facing address is drover_peer_address when set: pg_hba, primary_conninfo, listen_addresses', () => {
    const inv = inventory();
    for (const [name, ip] of [['postgresql1', '192.168.20.14'], ['postgresql2', '192.168.20.15'], ['pg-3.example', '192.168.20.16'], ['worker1', '192.168.20.24']] as const) {
      inv.hosts.get(name)!.vars.drover_peer_address = ip;
    }
    const hba = hbaInput(ctxFor('postgresql1', { postgres_hba_clients: [{ host: 'worker1' }, { group: 'workers' }] }, inv));
    expect(hba.replicationFrom.map((p) => p.address)).toEqual(['192.168.20.15', '192.168.20.16']);
    expect(hba.clients.map((c) => c.address)).toEqual(['192.168.20.24', '192.168.20.24', '10.17.4.25']);
    const c = confInput(ctxFor('postgresql2', {}, inv));
    expect(c.standby?.primaryConninfo).toContain('host=192.168.20.14 ');
    expect(c.listenAddresses).toEqual(['localhost', '192.168.20.15']);
  });

  it('a peer address and a replication slot name given by play vars or -e (merged vars) are used', () => {
    const inv = inventory();
    const merged = (h: string) => (h === 'postgresql1' ? { ...inv.hosts.get(h)!.vars, drover_peer_address: '172.30.0.14' } : h === 'postgresql2' ? { ...inv.hosts.get(h)!.vars, postgres_replication_slot: 'second' } : undefined);
    const c = confInput(ctxFor('postgresql2', {}, inv, merged));
    expect(c.standby?.primaryConninfo).toContain('host=172.30.0.14 ');
    expect(hbaInput(ctxFor('postgresql2', {}, inv, merged)).replicationFrom.map((p) => p.address)).toContain('172.30.0.14');
    expect(pgTopology({ host: 'postgresql1', lookup: inventoryLookup(inv, merged), groups: inv.hosts.get('postgresql1')!.groups, vars: vars() }).replicas.map((r) => r.slot)).toEqual(['second', 'third']);
  });

  it('replica drop-in: listens on its own address, streams from the primary through its slot', () => {
    const c = confInput(ctxFor('postgresql2'));
    expect(c.listenAddresses).toEqual(['localhost', '10.17.4.15']);
    expect(c.standby).toEqual({
      primaryConninfo: 'host=10.17.4.14 port=5432 user=replicator passfile=/var/lib/postgresql/.drover-replication.pgpass application_name=postgresql2',
      slot: 'postgresql2',
    });
    expect(confInput(ctxFor('postgresql1')).standby).toBeUndefined();
  });

  it('pg_hba input: replication from the other database hosts, clients from addresses, hosts and groups', () => {
    const clients = [{ group: 'workers', database: 'app', user: 'app' }, { host: 'infra' }, { address: '192.168.0.0/24', method: 'reject' }];
    const h = hbaInput(ctxFor('postgresql1', { postgres_hba_clients: clients }));
    expect(h.replicationFrom.map((p) => p.address)).toEqual(['10.17.4.15', '10.17.4.16']);
    expect(h.clients.map((c) => `${c.address} ${c.database} ${c.user} ${c.method}`)).toEqual([
      '10.17.4.24 app app scram-sha-256',
      '10.17.4.25 app app scram-sha-256',
      '10.17.4.11 all all scram-sha-256',
      '192.168.0.0/24 all all reject',
    ]);
    expect(() => hbaInput(ctxFor('postgresql1', { postgres_hba_clients: [{ host: 'nope' }] }))).toThrow(/no host nope/);
  });
});

describe('templates', () => {
  it('values and conninfo quoting', () => {
    expect(confValue("it's")).toBe("'it''s'");
    expect(confValue(true)).toBe('on');
    expect(confValue(12)).toBe('12');
    expect(conninfo({ host: '10.0.0.1', port: 5432, passfile: "/a b/it's" })).toBe("host=10.0.0.1 port=5432 passfile='/a b/it\\'s'");
  });

  it('primary drop-in (golden)', () => {
    const out = renderConf({
      listenAddresses: ['localhost', '10.17.4.14'],
      port: 5432,
      maxConnections: 100,
      maxWalSenders: 10,
      maxReplicationSlots: 10,
      hotStandby: true,
      hotStandbyFeedback: false,
      extra: { shared_buffers: '256MB', max_wal_senders: 12 },
    });
    expect(out).toBe(
      [
        '# Managed by drover (role postgres). Local edits are overwritten on the next run.',
        "# Replication settings (read after postgresql.conf through include_dir = 'conf.d').",
        "listen_addresses = 'localhost,10.17.4.14'",
        'port = 5432',
        'max_connections = 100',
        "wal_level = 'replica'",
        'max_wal_senders = 12',
        'max_replication_slots = 10',
        'hot_standby = on',
        'hot_standby_feedback = off',
        "password_encryption = 'scram-sha-256'",
        "shared_buffers = '256MB'",
        '',
      ].join('\n'),
    );
  });

  it('replica drop-in names the primary and the slot, never a password', () => {
    const out = renderConf({
      listenAddresses: ['localhost', '10.17.4.15'],
      port: 5432,
      maxConnections: 100,
      maxWalSenders: 10,
      maxReplicationSlots: 10,
      hotStandby: true,
      hotStandbyFeedback: false,
      standby: { primaryConninfo: 'host=10.17.4.14 port=5432 user=replicator passfile=/var/lib/postgresql/.drover-replication.pgpass application_name=postgresql2', slot: 'postgresql2' },
    });
    expect(out).toContain(
      "primary_conninfo = 'host=10.17.4.14 port=5432 user=replicator passfile=/var/lib/postgresql/.drover-replication.pgpass application_name=postgresql2'\nprimary_slot_name = 'postgresql2'\n",
    );
    expect(out).not.toMatch(/password=/);
  });

  it('pg_hba.conf (golden): local admin, replication from the named hosts, app clients, nothing else', () => {
    const out = renderHba({
      replicationUser: 'replicator',
      replicationFrom: [{ name: 'postgresql2', address: '10.17.4.15' }],
      clients: [{ address: '10.17.4.24', database: 'app', user: 'app', method: 'scram-sha-256', from: 'worker1 (group workers)' }],
    });
    expect(out).toBe(
      [
        '# Managed by drover (role postgres). Local edits are overwritten on the next run.',
        '# Only the hosts below may connect; anything else has no entry and is refused.',
        '# TYPE  DATABASE        USER            ADDRESS                 METHOD',
        '# local administration (peer: the OS user must match)',
        'local   all             postgres                                peer',
        'local   all             all                                     peer',
        'host    all             all             127.0.0.1/32            scram-sha-256',
        'host    all             all             ::1/128                 scram-sha-256',
        'local   replication     all                                     peer',
        '# streaming replication between the database hosts',
        'host    replication     replicator      10.17.4.15/32           scram-sha-256  # postgresql2',
        '# application clients',
        'host    app             app             10.17.4.24/32           scram-sha-256  # worker1 (group workers)',
        '',
      ].join('\n'),
    );
    expect(out).not.toMatch(/0\.0\.0\.0\/0|all\s+all\s+::\/0|trust/);
  });

  it('passfile escapes : and \\', () => {
    expect(renderPassfile({ port: 5432, user: 'replicator', password: 'a:b\\c' }).split('\n')[1]).toBe('*:5432:replication:replicator:a\\:b\\\\c');
  });
});

describe('SCRAM verifiers', () => {
  // Stored by PostgreSQL 15 for CREATE ROLE ... PASSWORD 'sekretpw123' (captured on a lab host).
  const pg15 = 'SCRAM-SHA-256$4096:s0mbHEZuwWM1g1GOot0w0Q==$ang79iPIO9glJeSAZbhZQftqjBMd+fZ5uFcHdJZsIG0=:4bDo+tPcRHuJA/fiiKwXhHId5Pb+oOwIRFuQIikSMVU=';

  it("matches PostgreSQL's own verifier, and only for the right password", () => {
    expect(scramMatches(pg15, 'sekretpw123')).toBe(true);
    expect(scramMatches(pg15, 'sekretpw124')).toBe(false);
    expect(scramMatches('md5abcdef', 'sekretpw123')).toBe(false);
    expect(scramMatches('', 'x')).toBe(false);
  });

  it('computes the same verifier PostgreSQL does for the same salt', () => {
    expect(scramVerifier('sekretpw123', Buffer.from('s0mbHEZuwWM1g1GOot0w0Q==', 'base64'))).toBe(pg15);
    const fresh = scramVerifier(PW);
    expect(scramMatches(fresh, PW)).toBe(true);
    expect(fresh).not.toContain(PW);
  });
});

describe('replication role op', () => {
  const probe = (row: string | null, rc = 0) => ({ stdout: `installed=1\nq_rc=${rc}\n${row === null ? '' : `q=${row}\n`}` });

  /** The probe's row for a stored verifier, as the SQL builds it (describeVerifier). */
  const row = (login: number, repl: number, stored: string | null) => {
    const d = describeVerifier(stored);
    return `${login}|${repl}|${d.scheme}|${d.params}|${d.sha256}`;
  };

  it('decisions', () => {
    const stored = scramVerifier(PW);
    const s = (r: string | null) => parseRoleState(probe(r).stdout);
    expect(decideRole(s(null), PW)).toEqual({ action: 'create', fixes: [] });
    expect(decideRole(s(row(1, 1, stored)), PW)).toEqual({ action: 'ok', fixes: [] });
    expect(decideRole(s(row(0, 1, stored)), PW)).toEqual({ action: 'alter', fixes: ['LOGIN'] });
    expect(decideRole(s(row(1, 1, scramVerifier('another-password'))), PW)).toEqual({ action: 'alter', fixes: ['password'] });
    expect(decideRole(s(row(1, 0, 'md5aaaa')), PW)).toEqual({ action: 'alter', fixes: ['REPLICATION', 'password'] });
    expect(decideRole(s(row(1, 1, null)), PW)).toEqual({ action: 'alter', fixes: ['password'] });
    // PostgreSQL's own verifier, described as the probe does: matched by its digest.
    const pg15 = 'SCRAM-SHA-256$4096:s0mbHEZuwWM1g1GOot0w0Q==$ang79iPIO9glJeSAZbhZQftqjBMd+fZ5uFcHdJZsIG0=:4bDo+tPcRHuJA/fiiKwXhHId5Pb+oOwIRFuQIikSMVU=';
    expect(decideRole(s(row(1, 1, pg15)), 'sekretpw123')).toEqual({ action: 'ok', fixes: [] });
    expect(decideRole(s(row(1, 1, pg15)), 'sekretpw124')).toEqual({ action: 'alter', fixes: ['password'] });
    expect(roleSql('replicator', { action: 'alter', fixes: ['LOGIN'] }, 'V')).toBe('ALTER ROLE "replicator" WITH LOGIN REPLICATION;\n');
  });

  it('creates the role with a verifier on stdin: the password is on no argv and no stdin', async () => {
    const { ctx, t } = makeCtx();
    t.on('FROM pg_authid', probe(null));
    const r = await replicationRole({ layout, port: 5432, user: 'replicator', password: PW })(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'create replication role replicator' });
    expect(t.execs).toHaveLength(2);
    const apply = t.execs[1]!;
    expect(apply.command).toContain("runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -X -q -A -t -v ON_ERROR_STOP=1 -p 5432 -d postgres -f -");
    const sql = String(apply.options?.stdin);
    expect(sql).toMatch(/^CREATE ROLE "replicator" WITH LOGIN REPLICATION PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(scramMatches(/'(SCRAM[^']+)'/.exec(sql)![1]!, PW)).toBe(true);
    for (const e of t.execs) {
      expect(e.command).not.toContain(PW);
      expect(String(e.options?.stdin ?? '')).not.toContain(PW);
    }
    expect(JSON.stringify(r)).not.toContain('SCRAM');
  });

  it('a verifier set earlier in the same process (a registered secret, masked in every output) does not blind the check', () => {
    const v = scramVerifier(PW);
    addSecret(v);
    // The transport masks secrets in what a command prints: the probe's row must survive it.
    const answer = redact(probe(row(1, 1, v)).stdout);
    expect(answer).not.toContain(REDACTED);
    expect(decideRole(parseRoleState(answer), PW)).toEqual({ action: 'ok', fixes: [] });
    // The verifier itself is never selected, only described.
    expect(roleProbeSql('replicator')).not.toMatch(/\|\| coalesce\(rolpassword, ''\) FROM/);
  });

  it('up to date: one probe, ok; check mode: would change, only the probe ran', async () => {
    const a = makeCtx();
    a.t.on('FROM pg_authid', probe(row(1, 1, scramVerifier(PW))));
    expect((await replicationRole({ layout, port: 5432, user: 'replicator', password: PW })(a.ctx)).status).toBe('ok');
    expect(a.t.execs).toHaveLength(1);
    const b = makeCtx({ check: true });
    b.t.on('FROM pg_authid', probe(row(1, 1, scramVerifier("another-password"))));
    const r = await replicationRole({ layout, port: 5432, user: 'replicator', password: PW })(b.ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'would fix role replicator: password' });
    expect(b.t.execs).toHaveLength(1);
  });

  it('a server that does not answer fails with psql\'s message', async () => {
    const { ctx, t } = makeCtx();
    t.on('FROM pg_authid', probe('psql: error: connection to server on socket failed', 2));
    const r = await replicationRole({ layout, port: 5432, user: 'replicator', password: PW })(ctx);
    expect(r.status).toBe('failed');
    expect(r.msg).toContain('connection to server on socket failed');
  });
});

describe('replication slots', () => {
  it('decisions: create missing, refuse a logical slot of the same name, report unused ones', () => {
    const d = decideSlots(
      [
        { name: 'postgresql2', type: 'physical', active: true },
        { name: 'old_replica', type: 'physical', active: false },
        { name: 'third', type: 'logical', active: false },
      ],
      ['postgresql2', 'third', 'new_one'],
    );
    expect(d).toEqual({ create: ['new_one'], conflicts: ['third'], unknown: ['old_replica'] });
  });

  it('creates a missing slot with WAL reserved, in one more exec', async () => {
    const { ctx, t } = makeCtx();
    t.on('pg_replication_slots', { stdout: 'installed=1\nq_rc=0\nq=recovery|0\n' });
    const r = await replicationSlots({ layout, port: 5432, slots: ['postgresql2'] })(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'create physical slot(s) postgresql2' });
    expect(t.execs[1]!.options?.stdin).toBe("SELECT pg_create_physical_replication_slot('postgresql2', true);\n");
  });

  it('existing slot: ok; on a standby: refuses', async () => {
    const a = makeCtx();
    a.t.on('pg_replication_slots', { stdout: 'installed=1\nq_rc=0\nq=recovery|0\nq=slot|postgresql2|physical|1\n' });
    expect(await replicationSlots({ layout, port: 5432, slots: ['postgresql2'] })(a.ctx)).toMatchObject({ status: 'ok', msg: 'slots postgresql2 (active)' });
    const b = makeCtx();
    b.t.on('pg_replication_slots', { stdout: 'installed=1\nq_rc=0\nq=recovery|1\n' });
    expect((await replicationSlots({ layout, port: 5432, slots: ['postgresql2'] })(b.ctx)).status).toBe('failed');
  });
});

describe('restart or reload', () => {
  it('settings the server can only take on a restart vs real errors', () => {
    expect(
      classifyFileSettings(['listen_addresses|setting could not be applied', 'max_wal_senders|setting could not be applied', '|parameter "port" cannot be changed without restarting the server']),
    ).toEqual({ restart: ['listen_addresses', 'max_wal_senders', '(a removed setting)'], errors: [] });
    expect(classifyFileSettings(['wal_level|invalid value for parameter "wal_level": "bogus"']).errors).toHaveLength(1);
  });

  it('pending restart: changed (notifies the restart handler); none: ok', async () => {
    const a = makeCtx();
    a.t.on('pg_file_settings', { stdout: 'installed=1\nq_rc=0\nq=wal_level|setting could not be applied\n' });
    expect(await pendingRestart({ layout, port: 5432 })(a.ctx)).toMatchObject({ status: 'changed', msg: 'restart needed for wal_level' });
    const b = makeCtx();
    b.t.on('pg_file_settings', { stdout: 'installed=1\nq_rc=0\n' });
    expect((await pendingRestart({ layout, port: 5432 })(b.ctx)).status).toBe('ok');
  });

  it('the role: drop-in and pg_hba notify reload; the restart check notifies restart; reload skips after a restart', () => {
    const byName = new Map(postgresRole.tasks.map((t) => [t.name, t]));
    expect(byName.get('replication settings (conf.d drop-in)')?.notify).toBe('reload postgresql');
    expect(byName.get('pg_hba.conf allows only the named hosts')?.notify).toBe('reload postgresql');
    expect(byName.get('restart only if a restart-only setting changed')?.notify).toBe('restart postgresql');
    const handlers = postgresRole.handlers!;
    expect(handlers.map((h) => h.name)).toEqual(['restart postgresql', 'reload postgresql']);
    const reload = handlers[1]!;
    const ctxWith = (status: string) => ({ registered: { [RESTART_REGISTER]: { status } } }) as unknown as HostCtx<PostgresVars>;
    expect(reload.when!(ctxWith('changed'))).toBe('the restart applied the new settings');
    expect(reload.when!(ctxWith('ok'))).toBe(true);
  });

  it('the drop-in is validated by postgres -C on a config including only the candidate', () => {
    const v = confValidateCommand(layout);
    expect(v.split('%s')).toHaveLength(2);
    expect(v).toContain("runuser -u postgres -- /usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c config_file=\"$__d/check.conf\" -C wal_level");
  });
});

describe('standby', () => {
  const primary = { name: 'postgresql1', address: '10.17.4.14' };
  const base: StandbyState = {
    installed: true,
    pgVersion: '15',
    standbySignal: true,
    sysid: '7001',
    databases: 3,
    active: 'active',
    primaryOk: true,
    primarySysid: '7001',
    primaryTimeline: '1',
  };
  const decide = (s: Partial<StandbyState>, o: { allowRebuild?: boolean; check?: boolean } = {}) =>
    decideStandby({ ...base, ...s }, { host: 'postgresql2', primary, allowRebuild: o.allowRebuild ?? false, check: o.check ?? false });

  it('a standby of the same cluster: nothing to do', () => {
    expect(decide({})).toMatchObject({ action: 'ok', msg: 'standby of postgresql1 (10.17.4.14) (system 7001, primary timeline 1)' });
  });

  it('a fresh local cluster or no cluster: clone', () => {
    expect(decide({ sysid: '9999', standbySignal: false }).action).toBe('clone');
    expect(decide({ pgVersion: '', sysid: '', databases: -1, standbySignal: false }).action).toBe('clone');
  });

  it('a promoted copy or a cluster with its own databases: refused unless allowed', () => {
    expect(decide({ standbySignal: false })).toMatchObject({ action: 'refuse', msg: expect.stringContaining('not a standby (promoted?)') });
    expect(decide({ standbySignal: false }, { allowRebuild: true }).action).toBe('clone');
    expect(decide({ sysid: '9999', standbySignal: false, databases: 5 })).toMatchObject({ action: 'refuse', msg: expect.stringContaining('holds 2 database(s)') });
    expect(decide({ sysid: '9999', standbySignal: false, databases: 5 }, { allowRebuild: true }).action).toBe('clone');
  });

  it('primary not answering: fail (check mode: reported as a would-change)', () => {
    expect(decide({ primaryOk: false, primaryError: 'connection refused' })).toMatchObject({ action: 'fail', msg: expect.stringContaining('connection refused') });
    expect(decide({ primaryOk: false, primaryError: 'x' }, { check: true }).action).toBe('clone');
  });

  it('parses the probe', () => {
    const s = parseStandbyState(
      ['installed=1', 'pgversion=15', 'standby=1', 'sysid=7710837616188786924', 'databases=3', 'active=active', 'ident_rc=0', 'ident=7710837616188786924|1|0/3000148|'].join('\n'),
    );
    expect(s).toMatchObject({ standbySignal: true, sysid: '7710837616188786924', primaryOk: true, primarySysid: '7710837616188786924', primaryTimeline: '1', databases: 3 });
    const down = parseStandbyState('installed=1\nident_rc=2\nident=psql: error: connection to server at "10.17.4.14", port 5432 failed: Connection refused\n');
    expect(down.primaryOk).toBe(false);
    expect(down.primaryError).toContain('Connection refused');
  });

  const target = { layout, port: 5432, user: 'replicator', passfile: '/var/lib/postgresql/.drover-replication.pgpass', primary, slot: 'postgresql2', self: 'postgresql2' };

  it('the clone: stop, move aside, pg_basebackup through the slot with the passfile, standby.signal, start', () => {
    const s = cloneScript(target);
    expect(s).toContain('systemctl stop postgresql@15-main');
    expect(s).toContain('mv /var/lib/postgresql/15/main "$old"');
    expect(s).toContain(
      "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_basebackup -d 'host=10.17.4.14 port=5432 user=replicator passfile=/var/lib/postgresql/.drover-replication.pgpass application_name=postgresql2' -D /var/lib/postgresql/15/main -X stream -S postgresql2 -c fast -w",
    );
    expect(s).toContain('touch /var/lib/postgresql/15/main/standby.signal');
    expect(s.indexOf('standby.signal')).toBeLessThan(s.indexOf('systemctl start postgresql@15-main || exit 1'));
    expect(s).toContain('putting the previous data directory back');
    expect(s).not.toMatch(/PGPASSWORD|password=/);
  });

  it('check mode: reports the clone, runs only the probe', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('IDENTIFY_SYSTEM', { stdout: 'installed=1\npgversion=15\nsysid=1\ndatabases=3\nident_rc=0\nident=2|1|0/1|\n' });
    const r = await standbyOf({ ...target, allowRebuild: false, timeoutSec: 60 })(ctx);
    expect(r.status).toBe('changed');
    expect(r.msg).toMatch(/^would clone from postgresql1/);
    expect(t.execs).toHaveLength(1);
  });
});

describe('promotion', () => {
  const old = { name: 'postgresql1', address: '10.17.4.14' };

  it('old primary down: go; still a primary: refuse unless forced; a standby: go', () => {
    expect(decideOldPrimary({ readyRc: 2, showRc: 2, show: 'Connection refused' }, { old, force: false }).proceed).toBe(true);
    const refused = decideOldPrimary({ readyRc: 0, showRc: 0, show: 'off' }, { old, force: false });
    expect(refused).toEqual({ proceed: false, msg: expect.stringContaining('refusing to promote: the old primary postgresql1 (10.17.4.14) is reachable and still running as a primary') });
    expect(decideOldPrimary({ readyRc: 0, showRc: 0, show: 'off' }, { old, force: true }).proceed).toBe(true);
    expect(decideOldPrimary({ readyRc: 0, showRc: 0, show: 'on' }, { old, force: false }).proceed).toBe(true);
    expect(decideOldPrimary({ readyRc: 0, showRc: 2, show: 'password authentication failed' }, { old, force: false }).proceed).toBe(false);
  });

  it('parses the probe', () => {
    expect(parseOldPrimary('ready_rc=2\nshow_rc=2\nshow=psql: error: connection refused\n')).toEqual({ readyRc: 2, showRc: 2, show: 'psql: error: connection refused' });
  });

  it('check mode promotes nothing', async () => {
    const { ctx, t } = makeCtx({ check: true });
    const r = await promote({ layout, port: 5432, timeoutSec: 60, old })(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'would promote node1 (SELECT pg_promote(true, 60))' });
    expect(t.execs).toHaveLength(0);
  });

  it('promotes, verifies pg_is_in_recovery() is false, reports the timeline', async () => {
    const { ctx, t } = makeCtx();
    t.on('pg_promote', { stdout: 'q_rc=0\nq=t\n' });
    t.on('pg_is_in_recovery', { stdout: 'q_rc=0\nq=0|2\n' });
    const r = await promote({ layout, port: 5432, timeoutSec: 60, old })(ctx);
    expect(r.status).toBe('changed');
    expect(r.msg).toMatch(/^promoted node1 to primary in [\d.]+ s, now on timeline 2; next: /);
  });

  it('the role: later steps only while the target is a standby', () => {
    expect(postgresPromoteRole.tasks.map((t) => t.name)).toEqual(['promotion target is a running standby', 'old primary is down or no longer a primary', 'promote to primary']);
    const when = postgresPromoteRole.tasks[2]!.when!;
    const ctxWith = (inRecovery: boolean) => ({ registered: { postgres_promote_target: { status: 'ok', data: { inRecovery } } } }) as never;
    expect(when(ctxWith(true))).toBe(true);
    expect(when(ctxWith(false))).toBe('already a primary: nothing to promote');
  });

  it('exactly one target: --limit or the replica group; --force is its own flag', () => {
    const inv = inventory();
    const options = (limit?: string) => ({ ...(limit ? { limit } : {}) }) as CliOptions;
    expect(() => promotePlays({ inventory: inv, options: options() }, false)).toThrow(/exactly one host.*matches 2/);
    const [play] = promotePlays({ inventory: inv, options: options('postgresql2') }, true);
    expect(play).toMatchObject({ hosts: 'postgresql2', vars: { postgres_promote_force: true } });
    expect(() => promotePlays({ inventory: inv, options: options('nosuchhost') }, false)).toThrow(/no target/);
  });
});
