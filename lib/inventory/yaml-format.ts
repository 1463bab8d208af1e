// Ansible's YAML inventory: top-level keys are groups (usually just `all`); a group has only
// `hosts` (name -> vars or nothing), `children` (name -> group) and `vars`. The structure is
// checked with a strict zod schema first (so `host:` or `var:` typos in a group are errors,
// not silently ignored keys), then the document is walked for positions.
import { isMap, isScalar } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { parseHostEntry } from './host-range.ts';
import { CONNECTION_VARS } from './known-vars.ts';
import type { RawInventory } from './raw.ts';
import { deref, entries, issueLocation, parseYaml, posOf, toJS, type YamlSource } from './yaml-doc.ts';

interface GroupShape {
  hosts?: Record<string, Record<string, unknown> | null> | null;
  vars?: Record<string, unknown> | null;
  children?: Record<string, GroupShape | null> | null;
}

const VarsSchema = z.record(z.string(), z.unknown()).nullable();
const GroupSchema: z.ZodType<GroupShape> = z.lazy(() =>
  z.strictObject({
    hosts: z.record(z.string(), VarsSchema).nullable().optional(),
    vars: VarsSchema.optional(),
    children: z.record(z.string(), GroupSchema.nullable()).nullable().optional(),
  }),
);
export const YamlInventorySchema = z.record(z.string(), GroupSchema.nullable());

export function parseYamlInventoryText(text: string, file: string, raw: RawInventory): void {
  const src = parseYaml(text, file);
  const root = src.doc.contents;
  if (root == null || (isScalar(root) && root.value == null)) {
    raw.warnings.push(`${file}: the inventory is empty`);
    return;
  }
  readYamlInventory(src, root, raw);
}

/** Read an inventory object (top-level groups) found at `node` of a parsed document. */
export function readYamlInventory(src: YamlSource, node: unknown, raw: RawInventory): void {
  const root = deref(src, node);
  if (!isMap(root)) {
    throw new InputError('an inventory must be a mapping of group names (all:, ...)', posOf(src, root));
  }
  const plugin = entries(src, root).find((e) => e.key === 'plugin' && isScalar(e.value));
  if (plugin) {
    throw new InputError('inventory plugins are not supported; list the hosts instead', posOf(src, plugin.keyNode), 'plugin');
  }
  checkStructure(src, root);
  for (const e of entries(src, root)) readGroup(src, raw, e.key, e.keyNode, e.value, undefined);
}

function checkStructure(src: YamlSource, root: unknown): void {
  const r = YamlInventorySchema.safeParse(toJS(src, root));
  if (r.success) return;
  const issue = r.error.issues[0]!;
  const where = issueLocation(src, root, issue);
  throw new InputError(structureMessage(issue, where.key, where.value), where.pos, where.key);
}

type Kind = 'group' | 'hosts' | 'vars' | 'children' | 'host' | 'var';

/** What each step of a path into the inventory object names. */
function kinds(path: readonly PropertyKey[]): Kind[] {
  const out: Kind[] = [];
  let state: 'groups' | 'group' | 'hosts' | 'vars' = 'groups';
  for (const seg of path) {
    if (state === 'groups') {
      out.push('group');
      state = 'group';
    } else if (state === 'group') {
      const s = String(seg) as Kind;
      out.push(s);
      state = s === 'children' ? 'groups' : s === 'hosts' ? 'hosts' : 'vars';
    } else if (state === 'hosts') {
      out.push('host');
      state = 'vars';
    } else out.push('var');
  }
  return out;
}

function typeName(v: unknown): string {
  return v === null ? 'nothing' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
}

function structureMessage(issue: z.core.$ZodIssue, key: string | undefined, value: unknown): string {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const group = String(path[path.length - 1] ?? '');
    const hint = key && CONNECTION_VARS[key] ? ` (variables go under "vars:", or under the host)` : '';
    return `unknown key in group "${group}": a group has only hosts, children and vars${hint}`;
  }
  const kind = kinds(path).at(-1);
  const got = typeName(value);
  switch (kind) {
    case 'group':
      return `group "${key}" must be a mapping with hosts, children or vars (got ${got})`;
    case 'hosts':
      return `"hosts" must map each host name to its variables or to nothing (got ${got}; write "name:" lines, not "- name")`;
    case 'children':
      return `"children" must map each child group name to a group (got ${got})`;
    case 'vars':
      return `"vars" must be a mapping of variable names to values (got ${got})`;
    case 'host':
      return `host "${key}" must map to a mapping of its variables or to nothing (got ${got}; for its address write "ansible_host: ...")`;
    default:
      return `invalid inventory structure (got ${got})`;
  }
}

function readGroup(
  src: YamlSource,
  raw: RawInventory,
  name: string,
  keyNode: unknown,
  node: unknown,
  parent: string | undefined,
): void {
  const pos = posOf(src, keyNode);
  raw.group(name, pos);
  if (parent) raw.addChild(parent, name, pos);
  for (const part of entries(src, node)) {
    if (part.key === 'vars') {
      readVars(src, part.value, (k, v, p) => raw.setGroupVar(name, k, v, p));
    } else if (part.key === 'children') {
      for (const c of entries(src, part.value)) readGroup(src, raw, c.key, c.keyNode, c.value, name);
    } else if (part.key === 'hosts') {
      for (const h of entries(src, part.value)) {
        const hpos = posOf(src, h.keyNode);
        let entry;
        try {
          entry = parseHostEntry(h.key);
        } catch (e) {
          throw new InputError(`bad host entry: ${(e as Error).message}`, hpos, h.key);
        }
        for (const host of entry.names) {
          raw.addHost(name, host, hpos);
          if (entry.port !== undefined) raw.setHostVar(host, 'ansible_port', entry.port, hpos);
          readVars(src, h.value, (k, v, p) => raw.setHostVar(host, k, v, p));
        }
      }
    }
  }
}

/** Each variable of a vars mapping, with the position of its key. */
export function readVars(
  src: YamlSource,
  node: unknown,
  set: (key: string, value: unknown, pos: ReturnType<typeof posOf>) => void,
): void {
  for (const e of entries(src, node)) {
    const pos = posOf(src, e.keyNode, e.value);
    if (isScalar(e.value) && e.value.tag === '!vault') {
      throw new InputError('Ansible Vault values are not supported; pass the secret with -e or an environment variable', pos, e.key);
    }
    set(e.key, toJS(src, e.value), pos);
  }
}
