// Promote a PostgreSQL replica to primary after the primary is lost:
//   npx tsx playbooks/pg-promote.ts -i inventory/lab.yaml [--limit postgresql2] [--force] [--check]
// The target is the --limit host, else the only host of the postgres_replica group; exactly
// one host is promoted. Already a primary: nothing to do (ok). It refuses when the old primary
// is reachable and still a primary (split brain) unless --force (or -e postgres_promote_force=true).
import { main } from '../lib/cli/index.ts';
import { promotePlays, splitForce } from '../roles/postgres/promote-play.ts';

const { force, rest } = splitForce(process.argv.slice(2));
await main({ name: 'pg-promote', plays: (ctx) => promotePlays(ctx, force) }, rest);
