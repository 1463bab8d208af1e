// Where PostgreSQL lives on a host: package names, binaries, data and config directories,
// the systemd unit, all derived from the OS facts and the major version. Debian keeps the
// config in /etc/postgresql/<v>/<cluster> (its postgresql.conf includes conf.d/) and runs one
// unit per cluster; the RHEL family (distribution packages, documented but not lab-tested)
// keeps everything in the data directory.
import type { Facts } from '../../lib/facts/types.ts';
import { sh } from '../../lib/ops/shell.ts';
import { quote } from '../../lib/shell/quote.ts';

export interface PgLayout {
  family: 'debian' | 'redhat';
  version: number;
  cluster: string;
  packages: string[];
  binDir: string;
  dataDir: string;
  /** Directory holding postgresql.conf and pg_hba.conf. */
  confDir: string;
  mainConf: string;
  /** The include_dir drop-in directory. */
  confD: string;
  hbaFile: string;
  /** systemd unit running this cluster. */
  unit: string;
  /** The postgres user's home (its passfile lives there). */
  home: string;
  /** Creates the cluster when `creates` is missing. */
  createCluster: { cmd: string; creates: string };
  /** The config files sit in the data directory (a rebuild must carry them over). */
  configInDataDir: boolean;
}

/** The distribution's default PostgreSQL major version, when we know it. */
export function defaultPgVersion(os: Facts['os']): number | undefined {
  const major = os.versionMajor;
  if (major === null) return undefined;
  const table: Record<string, Record<number, number>> = {
    debian: { 11: 13, 12: 15, 13: 17 },
    ubuntu: { 20: 12, 22: 14, 24: 16 },
  };
  const byId = table[os.id];
  if (byId) return byId[major];
  if (os.family === 'redhat') return ({ 8: 10, 9: 13, 10: 16 } as Record<number, number>)[major];
  return undefined;
}

/** The layout, or an error message saying what is missing or unsupported. */
export function pgLayout(facts: Facts, o: { version?: number; cluster: string }): PgLayout | string {
  const version = o.version ?? defaultPgVersion(facts.os);
  if (version === undefined) {
    return `no known PostgreSQL version for ${facts.os.prettyName ?? `${facts.os.id} ${facts.os.version}`}: set postgres_version`;
  }
  if (facts.os.family === 'debian') {
    const confDir = `/etc/postgresql/${version}/${o.cluster}`;
    const dataDir = `/var/lib/postgresql/${version}/${o.cluster}`;
    return {
      family: 'debian',
      version,
      cluster: o.cluster,
      packages: [`postgresql-${version}`, `postgresql-client-${version}`],
      binDir: `/usr/lib/postgresql/${version}/bin`,
      dataDir,
      confDir,
      mainConf: `${confDir}/postgresql.conf`,
      confD: `${confDir}/conf.d`,
      hbaFile: `${confDir}/pg_hba.conf`,
      unit: `postgresql@${version}-${o.cluster}`,
      home: '/var/lib/postgresql',
      createCluster: { cmd: sh`pg_createcluster ${version} ${o.cluster}`, creates: `${confDir}/postgresql.conf` },
      configInDataDir: false,
    };
  }
  if (facts.os.family === 'redhat') {
    // Distribution packages: one cluster in /var/lib/pgsql/data, unit postgresql.
    const dataDir = '/var/lib/pgsql/data';
    return {
      family: 'redhat',
      version,
      cluster: o.cluster,
      packages: ['postgresql-server', 'postgresql'],
      binDir: '/usr/bin',
      dataDir,
      confDir: dataDir,
      mainConf: `${dataDir}/postgresql.conf`,
      confD: `${dataDir}/conf.d`,
      hbaFile: `${dataDir}/pg_hba.conf`,
      unit: 'postgresql',
      home: '/var/lib/pgsql',
      createCluster: { cmd: 'postgresql-setup --initdb', creates: `${dataDir}/PG_VERSION` },
      configInDataDir: true,
    };
  }
  return `PostgreSQL is not supported on ${facts.os.prettyName ?? facts.os.id} (family ${facts.os.family})`;
}

/** The passfile that pg_basebackup and the standby's walreceiver read the password from. */
export function passfilePath(l: PgLayout): string {
  return `${l.home}/.drover-replication.pgpass`;
}

/** The argv that runs a PostgreSQL binary as the postgres user (the caller runs as root): for `ctx.$`. */
export function postgresArgv(l: PgLayout, bin: string, args: readonly string[]): string[] {
  return ['runuser', '-u', 'postgres', '--', `${l.binDir}/${bin}`, ...args];
}

/** psql as postgres on the local socket, unaligned, tuples only, stopping at the first error: argv for `ctx.$`. */
export function localPsqlArgv(l: PgLayout, port: number, extra: readonly string[] = []): string[] {
  return postgresArgv(l, 'psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-p', String(port), '-d', 'postgres', ...extra]);
}

/** postgresArgv as one quoted command line, for the scripts and op options that take a string. */
export function asPostgres(l: PgLayout, bin: string, args: readonly string[]): string {
  return postgresArgv(l, bin, args).map((a) => quote(a)).join(' ');
}

/** localPsqlArgv as one quoted command line. */
export function localPsql(l: PgLayout, port: number, extra: readonly string[] = []): string {
  return localPsqlArgv(l, port, extra).map((a) => quote(a)).join(' ');
}
