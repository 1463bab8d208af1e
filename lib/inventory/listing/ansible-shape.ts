// An Inventory in ansible-inventory's shapes, so scripts and dynamic-inventory consumers
// written for `ansible-inventory --list/--host/--graph` read Drover's the same way:
//   --list   {"_meta": {"hostvars": {host: vars}}, "all": {"children": [...]},
//             group: {"hosts": [...], "children": [...]}}  (empty keys and groups left out)
//   --host   the host's merged variables
//   --graph  @all:\n  |--@group:\n  |  |--host
// Variables are the merged ones (what a play sees), evaluated unless the inventory was
// loaded with templates kept. See lib/inventory/README.md for where Drover's values differ.
import type { Inventory } from '../types.ts';

export interface AnsibleList {
  _meta: { hostvars: Record<string, Record<string, unknown>> };
  [group: string]: { hosts?: string[]; children?: string[] } | { hostvars: Record<string, Record<string, unknown>> };
}

/** JSON-ready copy of a host's variables (Unresolved templates become their text). */
export function hostVars(inv: Inventory, host: string): Record<string, unknown> {
  const h = inv.hosts.get(host);
  if (!h) return {};
  return JSON.parse(JSON.stringify(h.vars)) as Record<string, unknown>;
}

export function ansibleList(inv: Inventory): AnsibleList {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const visit = (name: string) => {
    const g = inv.groups.get(name);
    if (!g) return;
    const entry: { hosts?: string[]; children?: string[] } = {};
    if (name !== 'all' && g.hosts.length) entry.hosts = [...g.hosts];
    if (g.children.length) entry.children = [...g.children];
    if (entry.hosts || entry.children) out[name] = entry;
    for (const c of g.children) {
      if (seen.has(c)) continue;
      seen.add(c);
      visit(c);
    }
  };
  visit('all');
  const hostvars: Record<string, Record<string, unknown>> = {};
  for (const h of inv.hosts.keys()) {
    const v = hostVars(inv, h);
    if (Object.keys(v).length) hostvars[h] = v;
  }
  return { _meta: { hostvars }, ...out } as AnsibleList;
}

/** The tree of groups and hosts under `group` (default all), as ansible-inventory --graph. */
export function ansibleGraph(inv: Inventory, group = 'all'): string {
  const lines: string[] = [];
  const name = (text: string, depth: number) => (depth ? '  |'.repeat(depth) + '--' + text : text);
  const walk = (g: string, depth: number) => {
    const grp = inv.groups.get(g)!;
    lines.push(name(`@${g}:`, depth));
    for (const c of grp.children) walk(c, depth + 1);
    if (g !== 'all') for (const h of grp.hosts) lines.push(name(h, depth + 1));
  };
  walk(group, 0);
  return lines.join('\n') + '\n';
}

/** JSON as ansible-inventory prints it: keys sorted, four-space indent. */
export function sortedJson(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sort(o[k])]));
    }
    return x;
  };
  return JSON.stringify(sort(v), null, 4) + '\n';
}
