// Role variables: host vars (inventory) < play vars < extra vars (-e), then each role's
// zod schema applies defaults and drops unknown keys. A bad value is an InputError that
// names where the winning value was written (file:line:col) and the key, so the user can
// fix the right file; it is raised before any host is touched.
import type { z } from 'zod';
import { InputError, type SourcePos } from '../errors.ts';
import { findUnresolved } from '../inventory/jinja-resolve.ts';
import type { InventoryHost } from '../inventory/types.ts';
import type { Play, Role } from './types.ts';

export interface MergedVars {
  vars: Record<string, unknown>;
  origins: Record<string, SourcePos>;
}

export function mergeHostVars(
  host: InventoryHost,
  play: Play,
  extraVars: Record<string, unknown> = {},
  extraOrigins: Record<string, SourcePos> = {},
): MergedVars {
  const vars: Record<string, unknown> = { ...host.vars };
  const origins: Record<string, SourcePos> = { ...host.origins };
  for (const [k, v] of Object.entries(play.vars ?? {})) {
    vars[k] = v;
    origins[k] = { file: `play "${play.name}" vars` };
  }
  for (const [k, v] of Object.entries(extraVars)) {
    vars[k] = v;
    origins[k] = extraOrigins[k] ?? { file: '--extra-vars' };
  }
  return { vars, origins };
}

/** Parse one role's variables for one host; throws InputError on the first bad key. */
export function parseRoleVars(role: Role, host: string, merged: MergedVars): unknown {
  const res = (role.vars as z.ZodType).safeParse(merged.vars);
  // An inventory template that could not be evaluated at load (it needs a fact): an error once a role uses it.
  const unresolved = res.success ? findUnresolved(res.data) : findUnresolved(merged.vars, res.error.issues.map((i) => String(i.path[0])));
  if (unresolved) throw unresolved.error();
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const key = issue.path.length ? issue.path.map(String).join('.') : undefined;
  const top = issue.path.length ? String(issue.path[0]) : undefined;
  const pos = top !== undefined ? merged.origins[top] : undefined;
  const where = pos ? '' : top !== undefined && !(top in merged.vars) ? ' (not set in inventory, play vars or -e)' : '';
  const more = res.error.issues.length > 1 ? ` (+${res.error.issues.length - 1} more)` : '';
  throw new InputError(`role "${role.name}" on host "${host}": ${issue.message}${where}${more}`, pos, key);
}
