// Promote a PostgreSQL replica to primary after the primary is lost:
//   npx tsx playbooks/pg-promote.ts -i inventory/lab.yaml [--limit postgresql2] [--force] [--check]
// The target is the --limit host, else the only host of the postgres_replica group; exactly
// one host is promoted. Already a primary: nothing to do (ok). It refuses when the old primary
// is reachable and still a primary (split brain) unless --force (or -e postgres_promote_force=true).
import { main } from 'drover';
import { promotePlays } from 'drover/roles/postgres/promote-play';

await main({
  name: 'pg-promote',
  flags: {
    force: { type: 'boolean', description: 'promote even if the old primary is reachable and still a primary (split brain: you have fenced it)' },
  },
  plays: (ctx) => promotePlays(ctx, ctx.flags.force),
});
