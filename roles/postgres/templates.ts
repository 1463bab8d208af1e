// The role's files as typed, pure render functions: the conf.d drop-in, pg_hba.conf and the
// replication passfile. Same input, same bytes (idempotence depends on it).
import { hbaAddress, type PgPeer } from './topology.ts';

const HEADER = '# Managed by drover (role postgres). Local edits are overwritten on the next run.\n';

export type SettingValue = string | number | boolean;

/** A postgresql.conf value: numbers and booleans bare, strings single-quoted ('' for '). */
export function confValue(v: SettingValue): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number') return String(v);
  return `'${v.replace(/'/g, "''")}'`;
}

/** A libpq connection string: keyword=value, values quoted when needed ('\' and '\'' escaped). */
export function conninfo(params: Readonly<Record<string, string | number>>): string {
  return Object.entries(params)
    .map(([k, v]) => {
      const s = String(v);
      return `${k}=${s !== '' && /^[^\s'\\]+$/.test(s) ? s : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`}`;
    })
    .join(' ');
}

export interface StandbyConf {
  /** libpq conninfo of the primary, without a password (it comes from the passfile). */
  primaryConninfo: string;
  slot: string;
}

export interface ConfInput {
  listenAddresses: readonly string[];
  port: number;
  maxConnections: number;
  maxWalSenders: number;
  maxReplicationSlots: number;
  hotStandby: boolean;
  hotStandbyFeedback: boolean;
  /** Replicas only: used while standby.signal exists (ignored by a primary). */
  standby?: StandbyConf;
  extra?: Readonly<Record<string, SettingValue>>;
}

/** The settings, in file order; `extra` overrides a managed one of the same name. */
export function confSettings(i: ConfInput): Array<[string, SettingValue]> {
  const s = new Map<string, SettingValue>([
    ['listen_addresses', i.listenAddresses.join(',')],
    ['port', i.port],
    ['max_connections', i.maxConnections],
    ['wal_level', 'replica'],
    ['max_wal_senders', i.maxWalSenders],
    ['max_replication_slots', i.maxReplicationSlots],
    ['hot_standby', i.hotStandby],
    ['hot_standby_feedback', i.hotStandbyFeedback],
    ['password_encryption', 'scram-sha-256'],
  ]);
  if (i.standby) {
    s.set('primary_conninfo', i.standby.primaryConninfo);
    s.set('primary_slot_name', i.standby.slot);
  }
  for (const [k, v] of Object.entries(i.extra ?? {})) s.set(k, v);
  return [...s];
}

export function renderConf(i: ConfInput): string {
  const lines = confSettings(i).map(([k, v]) => `${k} = ${confValue(v)}`);
  return `${HEADER}# Replication settings (read after postgresql.conf through include_dir = 'conf.d').\n${lines.join('\n')}\n`;
}

export interface HbaClientLine {
  address: string;
  database: string;
  user: string;
  method: string;
  /** Where it came from (host or group name), as a comment. */
  from?: string;
}

export interface HbaInput {
  replicationUser: string;
  /** Database hosts allowed to stream from this one (the replicas; on a replica, the others). */
  replicationFrom: readonly PgPeer[];
  clients: readonly HbaClientLine[];
}

function hbaLine(type: string, db: string, user: string, address: string, method: string): string {
  return `${type.padEnd(7)} ${db.padEnd(15)} ${user.padEnd(15)} ${address.padEnd(23)} ${method}`.replace(/\s+$/, '');
}

/**
 * pg_hba.conf allowing only the named hosts. Anything not matched has no entry, and PostgreSQL
 * refuses it with "no pg_hba.conf entry for host ...".
 */
export function renderHba(i: HbaInput): string {
  const out = [
    HEADER.trimEnd(),
    '# Only the hosts below may connect; anything else has no entry and is refused.',
    hbaLine('# TYPE', 'DATABASE', 'USER', 'ADDRESS', 'METHOD'),
    '# local administration (peer: the OS user must match)',
    hbaLine('local', 'all', 'postgres', '', 'peer'),
    hbaLine('local', 'all', 'all', '', 'peer'),
    hbaLine('host', 'all', 'all', '127.0.0.1/32', 'scram-sha-256'),
    hbaLine('host', 'all', 'all', '::1/128', 'scram-sha-256'),
    hbaLine('local', 'replication', 'all', '', 'peer'),
  ];
  if (i.replicationFrom.length) {
    out.push('# streaming replication between the database hosts');
    for (const p of i.replicationFrom) out.push(`${hbaLine('host', 'replication', i.replicationUser, hbaAddress(p.address), 'scram-sha-256')}  # ${p.name}`);
  }
  if (i.clients.length) {
    out.push('# application clients');
    for (const c of i.clients) {
      const line = hbaLine('host', c.database, c.user, hbaAddress(c.address), c.method);
      out.push(c.from ? `${line}  # ${c.from}` : line);
    }
  }
  return out.join('\n') + '\n';
}

/** A ~/.pgpass field: ':' and '\' escaped with '\'. */
export function pgpassField(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

/** The passfile: the replication user's password for replication connections to any host. */
export function renderPassfile(o: { port: number; user: string; password: string }): string {
  return `${HEADER}*:${o.port}:replication:${pgpassField(o.user)}:${pgpassField(o.password)}\n`;
}
