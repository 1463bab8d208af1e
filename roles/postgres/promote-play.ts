// The pg-promote playbook's plays (playbooks/pg-promote.ts is the thin runner): one target,
// chosen by --limit or as the only host of the replica group; `force` is the playbook's own
// --force flag (declared in playbooks/pg-promote.ts, parsed with the common flags).
import { UsageError } from '../../lib/errors.ts';
import type { PlaybookContext } from '../../lib/cli/index.ts';
import { selectHosts } from '../../lib/inventory/index.ts';
import type { Play } from '../../lib/run/types.ts';
import { postgresPromoteRole } from './promote.ts';

export function promotePlays(ctx: Pick<PlaybookContext, 'inventory' | 'options'>, force: boolean, replicaGroup = 'postgres_replica'): Play[] {
  const pattern = ctx.options.limit ?? replicaGroup;
  const targets = selectHosts(ctx.inventory, pattern).hosts;
  if (targets.length !== 1) {
    throw new UsageError(
      targets.length === 0
        ? `pg-promote: no target: "${pattern}" matches no host (pass --limit <replica>)`
        : `pg-promote promotes exactly one host, "${pattern}" matches ${targets.length} (${targets.join(', ')}): pass --limit <replica>`,
    );
  }
  const target = targets[0]!;
  return [
    {
      name: `promote ${target} to PostgreSQL primary`,
      hosts: target,
      become: true,
      roles: [postgresPromoteRole],
      ...(force ? { vars: { postgres_promote_force: true } } : {}),
    },
  ];
}
