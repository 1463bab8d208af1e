// Role dependencies (Ansible's meta/main.yml `dependencies`): a role that needs another one
// applied first declares it, and the plan puts the dependency before it. Unlike Ansible, a
// dependency that an earlier play of the same run already applies to every host of this play
// is not run again: with idempotent roles the second pass would change nothing and only
// cost round trips on every host.
import { InputError } from '../errors.ts';
import type { Role } from './types.ts';

/**
 * The play's roles with their dependencies first (depth-first, each role once).
 * `satisfied(role)`: an earlier play already applied it to all of this play's hosts.
 */
export function expandDependencies(roles: readonly Role[], satisfied: (role: Role) => boolean = () => false): Role[] {
  const out: Role[] = [];
  const visiting: Role[] = [];
  const visit = (role: Role, isDependency: boolean): void => {
    if (out.includes(role)) return;
    if (isDependency && satisfied(role)) return;
    if (visiting.includes(role)) {
      throw new InputError(`role dependency cycle: ${[...visiting, role].map((r) => r.name).join(' -> ')}`);
    }
    visiting.push(role);
    for (const dep of role.dependencies ?? []) visit(dep, true);
    visiting.pop();
    out.push(role);
  };
  for (const role of roles) visit(role, false);
  return out;
}

/** Which hosts each role has been planned for so far in a run (for `satisfied`). */
export class AppliedRoles {
  private readonly hostsByRole = new Map<Role, Set<string>>();

  covers(role: Role, hosts: readonly string[]): boolean {
    const done = this.hostsByRole.get(role);
    return !!done && hosts.every((h) => done.has(h));
  }

  add(roles: readonly Role[], hosts: readonly string[]): void {
    for (const r of roles) {
      const set = this.hostsByRole.get(r) ?? new Set<string>();
      for (const h of hosts) set.add(h);
      this.hostsByRole.set(r, set);
    }
  }
}
