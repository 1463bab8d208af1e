// The postgres role's variables: flat, prefixed `postgres_`, parsed from the host's merged vars
// with these defaults. Who is primary and who is a replica comes from the inventory groups
// (postgres_primary / postgres_replica by default); addresses are each host's peer address.
import { z } from 'zod';
import { secret } from '../../lib/secrets/redact.ts';
import { cidr, duration, flag, groupName, integer, port } from '../../lib/vars/index.ts';

/** PostgreSQL identifiers we emit unquoted-safe: lowercase, digits, underscore. */
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
const ident = (what: string) => z.string().regex(IDENT, `expected a ${what} name: lowercase letters, digits and _ (max 63), starting with a letter or _`);

/** A pg_hba.conf database or user column: `all`, a name, or a comma list of names. */
const hbaNames = z.string().regex(/^(all|[a-z_][a-z0-9_]{0,62})(,[a-z_][a-z0-9_]{0,62})*$/, 'expected "all", a name or a comma list of names (lowercase, digits, _)');

export const hbaClient = z
  .object({
    /** An IP address (becomes /32 or /128) or a CIDR. */
    address: cidr().optional(),
    /** An inventory host: its peer address (drover_peer_address, else ansible_host). */
    host: z.string().min(1).optional(),
    /** Every host of an inventory group. */
    group: groupName().optional(),
    database: hbaNames.default('all'),
    user: hbaNames.default('all'),
    method: z.enum(['scram-sha-256', 'md5', 'cert', 'reject']).default('scram-sha-256'),
  })
  .refine((c) => [c.address, c.host, c.group].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of address, host or group',
  });
export type HbaClient = z.infer<typeof hbaClient>;

const settingValue = z.union([z.string(), z.number(), z.boolean()]);

/** Seconds, also as a duration ('1h', '90s'); lib/vars duration() gives milliseconds. */
const seconds = (min: number) => duration().transform((ms) => ms / 1000).pipe(z.number().int().min(min));

export const postgresVars = z.object({
  /** Major version; default: the distribution's (Debian 12: 15, Debian 13: 17, RHEL 9: 13). */
  postgres_version: integer(10, 99).optional(),
  /** Debian cluster name (/etc/postgresql/<version>/<cluster>). */
  postgres_cluster: ident('cluster').default('main'),
  postgres_port: port().default(5432),
  /** primary or replica; default from the groups (replica if in postgres_replica_group). */
  postgres_role: z.enum(['primary', 'replica']).optional(),
  postgres_primary_group: groupName().default('postgres_primary'),
  postgres_replica_group: groupName().default('postgres_replica'),
  /** The primary's inventory name; default: the first host of postgres_primary_group. */
  postgres_primary_host: z.string().min(1).optional(),
  /** listen_addresses; default: localhost and this host's peer address (drover_peer_address, else ansible_host). */
  postgres_listen_addresses: z.array(z.string().min(1)).min(1).optional(),
  postgres_max_connections: integer(1).default(100),
  postgres_max_wal_senders: integer(1).default(10),
  postgres_max_replication_slots: integer(1).default(10),
  postgres_hot_standby: flag().default(true),
  postgres_hot_standby_feedback: flag().default(false),
  /** More postgresql.conf settings for the drop-in, e.g. { shared_buffers: '256MB' }. */
  postgres_extra_settings: z.record(z.string().regex(/^[a-z_][a-z0-9_.]*$/, 'expected a setting name'), settingValue).default({}),
  /** Name of the drop-in file in conf.d/. */
  postgres_conf_file: z.string().regex(/^[A-Za-z0-9_.-]+\.conf$/, 'expected a file name ending in .conf').default('50-drover.conf'),

  postgres_replication_user: ident('role').default('replicator'),
  /** Printable ASCII (SCRAM's SASLprep is then the identity, so drover can verify it exactly). */
  postgres_replication_password: secret().pipe(z.string().regex(/^[\x20-\x7e]+$/, 'expected printable ASCII characters only')),
  /** Application clients allowed by pg_hba.conf (everything else has no entry and is refused). */
  postgres_hba_clients: z.array(hbaClient).default([]),

  /**
   * Let the replica discard (move aside) a data directory that is not a standby of the primary
   * although it holds data: a promoted former replica or a cluster with its own databases.
   */
  postgres_replica_allow_rebuild: flag().default(false),
  /** pg_basebackup time limit, seconds (or a duration: '1h'). */
  postgres_basebackup_timeout: seconds(10).default(3600),
});
export type PostgresVars = z.infer<typeof postgresVars>;

/**
 * What pg-promote needs: the same names; the password is optional (it uses the replica's
 * passfile) but still registered as a secret when the inventory has it, so it stays redacted.
 */
export const postgresPromoteVars = postgresVars.omit({ postgres_replication_password: true, postgres_hba_clients: true }).extend({
  postgres_replication_password: secret().optional(),
  /** Promote even when the old primary is reachable and still a primary (split-brain risk). */
  postgres_promote_force: flag().default(false),
  /** Seconds to wait for the promotion to finish (or a duration: '2m'). */
  postgres_promote_timeout: seconds(1).default(60),
});
export type PostgresPromoteVars = z.infer<typeof postgresPromoteVars>;
