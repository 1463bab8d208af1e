// Everything that can be checked before touching a host: host selection (play pattern
// intersected with --limit), tag selection, notify targets, serial specs, and every
// host x role variable parse. A mistake here stops the run before any change is made.
import { InputError, UsageError, type SourcePos } from '../errors.ts';
import type { Inventory } from '../inventory/types.ts';
import { serialBatches } from './batches.ts';
import { AppliedRoles, expandDependencies } from './dependencies.ts';
import type { SelectHosts } from './options.ts';
import { shouldRunTags } from './tags.ts';
import type { Handler, Play, Role, Task } from './types.ts';
import { mergeHostVars, parseRoleVars } from './vars.ts';

export interface Step {
  /** Position in the play's (tag-filtered) task list. */
  index: number;
  /** Role index in PlayPlan.roles (play.roles with dependencies expanded). */
  ri: number;
  role: Role;
  task: Task<unknown>;
  /** Indexes into PlayPlan.handlers. */
  notify: number[];
}

export interface HandlerStep {
  index: number;
  ri: number;
  role: Role;
  handler: Handler<unknown>;
}

export interface HostPlan {
  hostVars: Record<string, unknown>;
  /** Parsed variables per role index. */
  roleVars: unknown[];
}

export interface PlayPlan {
  play: Play;
  /** play.roles with their dependencies expanded (Step.ri and HostPlan.roleVars index this). */
  roles: Role[];
  hosts: string[];
  steps: Step[];
  handlers: HandlerStep[];
  vars: Map<string, HostPlan>;
  warnings: string[];
}

export interface PlanInput {
  inventory: Inventory;
  select: SelectHosts;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  extraVars?: Record<string, unknown>;
  extraVarOrigins?: Record<string, SourcePos>;
}

function asList(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function planPlays(plays: readonly Play[], input: PlanInput): PlayPlan[] {
  const { inventory, select } = input;
  let limited: Set<string> | null = null;
  const warnings: string[] = [];
  if (input.limit) {
    const sel = select(inventory, input.limit);
    warnings.push(...sel.warnings);
    if (sel.hosts.length === 0) throw new UsageError(`--limit "${input.limit}" matches no host of the inventory`);
    limited = new Set(sel.hosts);
  }

  const applied = new AppliedRoles();
  return plays.map((play, pi) => {
    const sel = select(inventory, play.hosts);
    const hosts = limited ? sel.hosts.filter((h) => limited.has(h)) : sel.hosts;
    const roles = expandDependencies(play.roles, (dep) => applied.covers(dep, hosts));
    applied.add(roles, hosts);
    const playWarnings = [...(pi === 0 ? warnings : []), ...sel.warnings];
    if (hosts.length === 0) playWarnings.push(`play "${play.name}": no hosts matched "${play.hosts}"${limited ? ` with --limit "${input.limit}"` : ''}`);
    serialBatches(hosts, play.serial); // throws on a bad spec

    const handlers: HandlerStep[] = [];
    roles.forEach((role, ri) => {
      for (const handler of (role.handlers ?? []) as Handler<unknown>[]) handlers.push({ index: handlers.length, ri, role, handler });
    });
    const findHandler = (name: string, ri: number): number => {
      const own = handlers.find((h) => h.ri === ri && h.handler.name === name);
      return (own ?? handlers.find((h) => h.handler.name === name))?.index ?? -1;
    };

    const steps: Step[] = [];
    roles.forEach((role, ri) => {
      for (const task of role.tasks as Task<unknown>[]) {
        const notify = asList(task.notify).map((n) => {
          const idx = findHandler(n, ri);
          if (idx < 0) throw new InputError(`role "${role.name}" task "${task.name}" notifies a handler that no role of play "${play.name}" defines`, undefined, n);
          return idx;
        });
        const tags = [...(play.tags ?? []), ...(role.tags ?? []), ...(task.tags ?? [])];
        if (!shouldRunTags(tags, { tags: input.tags, skipTags: input.skipTags })) continue;
        steps.push({ index: steps.length, ri, role, task, notify });
      }
    });

    const vars = new Map<string, HostPlan>();
    for (const name of hosts) {
      const host = inventory.hosts.get(name);
      if (!host) throw new InputError(`play "${play.name}": host pattern selected "${name}", which is not in the inventory`);
      const merged = mergeHostVars(host, play, input.extraVars, input.extraVarOrigins);
      vars.set(name, { hostVars: merged.vars, roleVars: roles.map((role) => parseRoleVars(role, name, merged)) });
    }
    return { play, roles, hosts, steps, handlers, vars, warnings: playWarnings };
  });
}
