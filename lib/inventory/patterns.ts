// Host patterns as Ansible reads them (--limit and a play's `hosts:`):
//   all, *                 every host
//   web, master1           a group (with its descendants' hosts) or a host
//   web*, master[12]       globs (* ? [..]) over group and host names
//   ~^master\d$            a regex (JS syntax), matched from the start of the name
//   web[0], web[1:], web[-1]  a slice of a group's hosts (inclusive end, as Ansible); when
//                          the part before [..] matches nothing, [..] is a glob class instead
//   a:b  a,b               union;   a:&b  intersection;   a:!b  exclusion
//                          (a regex term keeps its colons: separate it with commas)
// Unions are taken first, then intersections, then exclusions (Ansible's order); with only
// & or ! terms the base is all. The result keeps inventory order. A term that matches
// nothing is a warning, as in Ansible, not an error.
import { InputError } from '../errors.ts';
import type { Inventory } from './types.ts';

export interface Selection {
  hosts: string[];
  warnings: string[];
}

export function selectHosts(inv: Inventory, pattern: string | readonly string[]): Selection {
  const terms = (typeof pattern === 'string' ? [pattern] : pattern).flatMap(splitPattern);
  const members = groupMembers(inv);
  const warnings: string[] = [];
  const resolve = (term: string): Set<string> => {
    const hosts = matchTerm(inv, members, term, warnings);
    if (hosts.size === 0 && !(term === 'all' || term === '*')) {
      warnings.push(`Could not match supplied host pattern, ignoring: ${term}`);
    }
    return hosts;
  };
  const include = terms.filter((t) => !t.startsWith('!') && !t.startsWith('&'));
  let result = new Set<string>();
  if (include.length === 0) result = new Set(inv.hosts.keys());
  for (const t of include) for (const h of resolve(t)) result.add(h);
  for (const t of terms.filter((t) => t.startsWith('&'))) {
    const other = resolve(t.slice(1));
    result = new Set([...result].filter((h) => other.has(h)));
  }
  for (const t of terms.filter((t) => t.startsWith('!'))) for (const h of resolve(t.slice(1))) result.delete(h);
  return { hosts: [...inv.hosts.keys()].filter((h) => result.has(h)), warnings };
}

/**
 * Split on ',' and, within each part, on ':' outside brackets and parentheses. Unlike
 * Ansible (which ignores ':' once there is a ','), `a:!b,c` is read as a:!b:c; a part that
 * is a regex (~...) or an IPv6 address keeps its colons.
 */
export function splitPattern(pattern: string): string[] {
  return pattern
    .split(',')
    .flatMap(splitColons)
    .map((s) => s.trim())
    .filter((s) => s && s !== '!' && s !== '&');
}

function splitColons(part: string): string[] {
  const p = part.trim();
  if (/^[!&]?~/.test(p) || /^[!&]?[0-9a-fA-F]*:[0-9a-fA-F:.]*:[0-9a-fA-F:.]*$/.test(p)) return [p];
  const parts: string[] = [];
  let cur = '';
  let depth = 0;
  for (const c of p) {
    // Brackets (ranges, classes) and parentheses protect their colons.
    if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth = Math.max(0, depth - 1);
    if (c === ':' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function groupMembers(inv: Inventory): Map<string, Set<string>> {
  const m = new Map<string, Set<string>>();
  for (const g of inv.groups.keys()) m.set(g, new Set());
  for (const h of inv.hosts.values()) for (const g of h.groups) m.get(g)?.add(h.name);
  return m;
}

const SUBSCRIPT = /^(.+)\[(?:(-?\d+)|(\d*)([:-])(-?\d*))\]$/;
const GLOB = /[*?[]/;

function matchTerm(inv: Inventory, members: Map<string, Set<string>>, term: string, warnings: string[]): Set<string> {
  if (term === 'all' || term === '*') return new Set(inv.hosts.keys());
  if (term.startsWith('~')) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${term.slice(1)})`);
    } catch (e) {
      throw new InputError(`invalid regular expression in host pattern: ${(e as Error).message}`, undefined, term);
    }
    return byName(inv, members, (n) => re.test(n), true);
  }
  const sub = SUBSCRIPT.exec(term);
  if (sub) {
    const base = [...inv.hosts.keys()].filter((h) => matchPlain(inv, members, sub[1]!).has(h));
    if (base.length) {
      const [, , index, start, , end] = sub;
      if (index !== undefined) {
        const i = Number(index);
        const h = base[i < 0 ? base.length + i : i];
        if (!h) warnings.push(`host pattern ${term}: index ${i} is out of range (${base.length} hosts)`);
        return new Set(h ? [h] : []);
      }
      const from = start ? Number(start) : 0;
      const to = end === '' || end === undefined ? base.length - 1 : Number(end) < 0 ? base.length + Number(end) : Number(end);
      return new Set(base.slice(from, to + 1));
    }
  }
  return matchPlain(inv, members, term);
}

function matchPlain(inv: Inventory, members: Map<string, Set<string>>, term: string): Set<string> {
  if (term === 'all' || term === '*') return new Set(inv.hosts.keys());
  if (GLOB.test(term)) {
    const re = globToRegExp(term);
    return byName(inv, members, (n) => re.test(n), true);
  }
  const group = members.get(term);
  if (group && group.size) return new Set(group);
  return new Set(inv.hosts.has(term) ? [term] : []);
}

/** Hosts of every group whose name matches, plus (for globs/regexes) matching host names. */
function byName(
  inv: Inventory,
  members: Map<string, Set<string>>,
  test: (name: string) => boolean,
  alsoHosts: boolean,
): Set<string> {
  const out = new Set<string>();
  for (const [g, hs] of members) if (test(g)) for (const h of hs) out.add(h);
  if (alsoHosts) for (const h of inv.hosts.keys()) if (test(h)) out.add(h);
  return out;
}

/** fnmatch: * ? [abc] [!abc] [a-z], whole-name match, case-sensitive. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, close);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = close;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
