// PostgreSQL primary + streaming replicas:
//   npx tsx playbooks/db.ts -i inventory/lab.yaml [--check] [--diff] [--limit postgresql2]
// Rebuild a replica whose data directory is not a standby (e.g. after pg-promote):
//   npx tsx playbooks/db.ts -i inventory/lab.yaml --limit postgresql1 -e postgres_replica_allow_rebuild=true
import { main } from 'drover';
import { dbPlays } from './plays/db.ts';

await main({ name: 'db', plays: dbPlays });
