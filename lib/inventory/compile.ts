// Turns parsed definitions into an Inventory: group membership (with ancestors), and each
// host's merged variables with the position of every winning definition.
//
// Variable precedence, lowest to highest (top-level keys replace, as Ansible's default
// hash_behaviour=replace; later sources replace earlier ones at the same level):
//   1. inventory group vars, groups ordered by depth (all = 0, its children 1, ...), then
//      ansible_group_priority, then name: a child beats its parent, siblings at the same
//      depth are settled by name (the later name wins), as in Ansible;
//   2. group_vars/ files, groups in the same order;
//   3. inventory host vars;
//   4. host_vars/ files.
// Play vars and -e extra vars are layered on top by the runner with layerVars().
import { InputError, type SourcePos } from '../errors.ts';
import { validateVar } from './known-vars.ts';
import type { RawInventory, VarDefs } from './raw.ts';
import type { Inventory, InventoryGroup, InventoryHost } from './types.ts';

export function compileInventory(raw: RawInventory, sources: string[]): Inventory {
  const parents = parentMap(raw);
  const depth = depths(raw, parents);
  const priority = (g: string): number => {
    const v = raw.groups.get(g)?.vars.get('ansible_group_priority')?.value;
    return typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : 1;
  };
  const order = (a: string, b: string) =>
    depth.get(a)! - depth.get(b)! || priority(a) - priority(b) || (a < b ? -1 : a > b ? 1 : 0);

  // Direct membership; 'ungrouped' is recomputed: hosts in no group but all.
  const direct = new Map<string, Set<string>>();
  for (const h of raw.hosts.keys()) direct.set(h, new Set());
  for (const g of raw.groups.values()) {
    if (g.name === 'all' || g.name === 'ungrouped') continue;
    for (const h of g.hosts) direct.get(h)!.add(g.name);
  }
  const ungrouped = [...raw.hosts.keys()].filter((h) => direct.get(h)!.size === 0);
  for (const h of ungrouped) direct.get(h)!.add('ungrouped');

  const groups = new Map<string, InventoryGroup>();
  for (const g of raw.groups.values()) {
    const hosts = g.name === 'all' ? [] : g.name === 'ungrouped' ? ungrouped : [...g.hosts];
    // all's children as Ansible lists them: ungrouped, those a source put under all (in that
    // order), then the groups nobody claims (in the order they were defined).
    const children =
      g.name === 'all'
        ? [...new Set(['ungrouped', ...g.children, ...[...raw.groups.keys()].filter((n) => n !== 'all' && parents.get(n)!.has('all'))])]
        : [...g.children];
    groups.set(g.name, { name: g.name, hosts, children, vars: plain(g.vars, raw.groupFileVars.get(g.name)) });
  }

  const hosts = new Map<string, InventoryHost>();
  for (const rh of raw.hosts.values()) {
    const member = new Set<string>(['all']);
    const visit = (g: string) => {
      if (member.has(g)) return;
      member.add(g);
      for (const p of parents.get(g) ?? []) visit(p);
    };
    for (const g of direct.get(rh.name)!) visit(g);
    const sorted = [...member].sort(order);
    const vars: Record<string, unknown> = {};
    const origins: Record<string, SourcePos> = {};
    const apply = (defs: VarDefs | undefined) => {
      for (const [k, d] of defs ?? []) {
        vars[k] = structuredClone(d.value);
        origins[k] = d.pos;
      }
    };
    for (const g of sorted) apply(raw.groups.get(g)!.vars);
    for (const g of sorted) apply(raw.groupFileVars.get(g));
    apply(rh.vars);
    apply(raw.hostFileVars.get(rh.name));
    hosts.set(rh.name, { name: rh.name, vars, origins, groups: [...member].sort() });
  }
  const inv: Inventory = { sources, hosts, groups };
  if (raw.warnings.length) inv.warnings = [...raw.warnings];
  return inv;
}

function plain(...layers: (VarDefs | undefined)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const defs of layers) for (const [k, d] of defs ?? []) out[k] = structuredClone(d.value);
  return out;
}

/** Each group's parents; a group nobody claims is a child of 'all' (Ansible does the same). */
function parentMap(raw: RawInventory): Map<string, Set<string>> {
  const parents = new Map<string, Set<string>>();
  for (const g of raw.groups.keys()) parents.set(g, new Set());
  for (const g of raw.groups.values()) for (const c of g.children) parents.get(c)!.add(g.name);
  for (const [g, ps] of parents) if (g !== 'all' && ps.size === 0) ps.add('all');
  parents.get('ungrouped')!.add('all');
  return parents;
}

/** Longest path from 'all'; a cycle in children is an error at the edge that closes it. */
function depths(raw: RawInventory, parents: Map<string, Set<string>>): Map<string, number> {
  const depth = new Map<string, number>([['all', 0]]);
  const onPath = new Set<string>();
  const visit = (g: string): number => {
    const known = depth.get(g);
    if (known !== undefined) return known;
    onPath.add(g);
    let d = 1;
    for (const p of parents.get(g)!) {
      if (onPath.has(p)) {
        const pos = raw.groups.get(g)!.childPos.get(p) ?? raw.groups.get(p)!.pos;
        throw new InputError(`group "${p}" is its own descendant through "${g}" (children form a loop)`, pos, p);
      }
      d = Math.max(d, visit(p) + 1);
    }
    onPath.delete(g);
    depth.set(g, d);
    return d;
  };
  for (const g of raw.groups.keys()) visit(g);
  return depth;
}

/**
 * Layer higher-precedence variables (play vars, then -e extra vars) over a host's. Top-level
 * keys replace. `layerOrigins` is per key, or one position for the whole layer (e.g.
 * {file: '-e'}). Connection variables in the layer are validated and secrets registered.
 */
export function layerVars(
  base: Record<string, unknown>,
  baseOrigins: Record<string, SourcePos>,
  layer: Record<string, unknown>,
  layerOrigins: Record<string, SourcePos> | SourcePos,
): { vars: Record<string, unknown>; origins: Record<string, SourcePos> } {
  const vars = { ...base };
  const origins = { ...baseOrigins };
  const single = typeof (layerOrigins as SourcePos).file === 'string';
  for (const [k, v] of Object.entries(layer)) {
    const pos = single ? (layerOrigins as SourcePos) : ((layerOrigins as Record<string, SourcePos>)[k] ?? { file: '<vars>' });
    validateVar(k, v, pos); // also registers secret values
    vars[k] = v;
    origins[k] = pos;
  }
  return { vars, origins };
}
