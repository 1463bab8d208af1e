// The database tier (seed 000's PostgreSQL with asynchronous streaming replication): the
// primary first, so its play's handlers have restarted it with the replication settings
// before any replica clones it; then the replicas.
import { postgresRole } from 'drover/roles/postgres';
import type { Play } from 'drover';

export const dbPlays: Play[] = [
  { name: 'PostgreSQL primary', hosts: 'postgres_primary', become: true, roles: [postgresRole] },
  { name: 'PostgreSQL replicas', hosts: 'postgres_replica', become: true, roles: [postgresRole] },
];

export default dbPlays;
