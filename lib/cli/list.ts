// --list-hosts / --list-tasks: what a run would touch, without connecting anywhere.
import type { Inventory } from '../inventory/types.ts';
import type { SelectHosts } from '../run/options.ts';
import { shouldRunTags } from '../run/tags.ts';
import { expandDependencies } from '../run/dependencies.ts';
import type { Play, Role, Task } from '../run/types.ts';

export function playHosts(inv: Inventory, play: Play, select: SelectHosts, limit?: string): string[] {
  const hosts = select(inv, play.hosts).hosts;
  if (!limit) return hosts;
  const allowed = new Set(select(inv, limit).hosts);
  return hosts.filter((h) => allowed.has(h));
}

export function listHosts(inv: Inventory, plays: readonly Play[], select: SelectHosts, limit?: string): string {
  const out: string[] = [];
  plays.forEach((play, i) => {
    const hosts = playHosts(inv, play, select, limit);
    out.push(`play #${i + 1} (${play.name}): ${play.hosts}`, `  hosts (${hosts.length}):`, ...hosts.map((h) => `    ${h}`), '');
  });
  return out.join('\n');
}

export function listTasks(plays: readonly Play[], filter: { tags?: string[]; skipTags?: string[] }): string {
  const out: string[] = [];
  // Without hosts, a dependency counts as applied once any earlier play has it.
  const seen = new Set<Role>();
  plays.forEach((play, i) => {
    out.push(`play #${i + 1} (${play.name}): ${play.hosts}`);
    const roles = expandDependencies(play.roles, (r) => seen.has(r));
    roles.forEach((r) => seen.add(r));
    for (const role of roles) {
      for (const task of role.tasks as Task<unknown>[]) {
        const tags = [...(play.tags ?? []), ...(role.tags ?? []), ...(task.tags ?? [])];
        if (!shouldRunTags(tags, filter)) continue;
        out.push(`  ${role.name} : ${task.name}${tags.length ? `    TAGS: [${[...new Set(tags)].join(', ')}]` : ''}`);
      }
    }
    out.push('');
  });
  return out.join('\n');
}
