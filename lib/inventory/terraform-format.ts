// JSON inventories. `terraform output -json` prints {"name": {"value": ..., "type": ...,
// "sensitive": ...}}; each output becomes a group named after it when its value is:
//   - a list of addresses               {"workers": {"value": ["10.0.0.5", "10.0.0.6"]}}
//       -> group "workers", hosts named by the address;
//   - a map of host name to address     {"masters": {"value": {"master1": "10.0.0.1"}}}
//       -> group "masters", host "master1" with ansible_host=10.0.0.1;
//   - a map of host name to variables   {"db": {"value": {"pg1": {"ansible_host": "10.0.0.7"}}}}
//       -> group "db", host "pg1" with those variables;
//   - a map of group name to address list {"nodes": {"value": {"masters": ["10.0.0.1"]}}}
//       -> groups "masters" (hosts by address) as children of group "nodes";
//   - an Ansible inventory object       {"inventory": {"value": {"all": {"children": ...}}}}
//       -> read exactly like a YAML inventory (its top-level groups, not a group "inventory").
// Outputs of any other shape (a single string, a number, ...) are skipped with a warning.
// A JSON file that is not terraform output is read as a YAML-style inventory object.
import { isMap, isScalar, isSeq, type YAMLSeq } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import type { RawInventory } from './raw.ts';
import { deref, entries, issueLocation, parseYaml, posOf, toJS, type Entry, type YamlSource } from './yaml-doc.ts';
import { readVars, readYamlInventory } from './yaml-format.ts';

const OutputsSchema = z.record(
  z.string(),
  z.strictObject({ value: z.unknown(), type: z.unknown().optional(), sensitive: z.boolean().optional() }),
);

const GROUP_KEYS = new Set(['hosts', 'children', 'vars']);

export function parseJsonInventoryText(text: string, file: string, raw: RawInventory): void {
  const src = parseYaml(text, file, 'JSON');
  const root = deref(src, src.doc.contents);
  if (root == null || (isScalar(root) && root.value == null)) {
    raw.warnings.push(`${file}: the inventory is empty`);
    return;
  }
  if (!isTerraformOutputs(src, root)) {
    readYamlInventory(src, root, raw);
    return;
  }
  const r = OutputsSchema.safeParse(toJS(src, root));
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issueLocation(src, root, issue);
    const detail =
      issue.code === 'unrecognized_keys'
        ? 'unknown key in a terraform output: expected value, type and sensitive'
        : 'a terraform output must be {"value": ..., "type": ..., "sensitive": ...}';
    throw new InputError(detail, where.pos, where.key);
  }
  for (const out of entries(src, root)) {
    const value = entries(src, out.value).find((e) => e.key === 'value')!;
    readOutput(src, raw, out, value);
  }
}

function keysOf(src: YamlSource, node: unknown): string[] {
  return entries(src, node).map((e) => e.key);
}

function isTerraformOutputs(src: YamlSource, root: unknown): boolean {
  if (!isMap(root)) return false;
  const outs = entries(src, root);
  if (!outs.length) return false;
  const withValue = outs.filter((e) => isMap(e.value) && keysOf(src, e.value).includes('value'));
  if (withValue.length === outs.length) return true;
  // One unmistakable output is enough: the others then fail the schema with a position.
  return withValue.some((e) => keysOf(src, e.value).some((k) => k === 'type' || k === 'sensitive'));
}

function isGroupLike(src: YamlSource, node: unknown): boolean {
  if (!isMap(node)) return false;
  const keys = keysOf(src, node);
  return keys.length > 0 && keys.every((k) => GROUP_KEYS.has(k));
}

function readOutput(src: YamlSource, raw: RawInventory, out: Entry, value: Entry): void {
  const name = out.key;
  const pos = posOf(src, out.keyNode);
  const v = value.value;
  const shapes =
    'expected a list of addresses, a map of host name to address, a map of host name to variables, or an inventory object (all: ...)';
  if (isMap(v)) {
    const es = entries(src, v);
    if (es.some((e) => e.key === 'all') || (es.length > 0 && es.every((e) => isGroupLike(src, e.value)))) {
      readYamlInventory(src, v, raw);
      return;
    }
    raw.group(name, pos);
    if (es.every((e) => isScalar(e.value) && typeof e.value.value === 'string')) {
      for (const e of es) {
        const hpos = posOf(src, e.keyNode);
        raw.addHost(name, e.key, hpos);
        raw.setHostVar(e.key, 'ansible_host', (e.value as { value: string }).value, posOf(src, e.value, e.keyNode));
      }
      return;
    }
    if (es.every((e) => isMap(e.value) || (isScalar(e.value) && e.value.value == null))) {
      for (const e of es) {
        raw.addHost(name, e.key, posOf(src, e.keyNode));
        readVars(src, e.value, (k, val, p) => raw.setHostVar(e.key, k, val, p));
      }
      return;
    }
    if (es.every((e) => isSeq(e.value))) {
      for (const e of es) {
        raw.addChild(name, e.key, posOf(src, e.keyNode));
        addList(src, raw, e.key, e.value as YAMLSeq);
      }
      return;
    }
    throw new InputError(`output "${name}": ${shapes}`, posOf(src, value.keyNode), name);
  }
  if (isSeq(v)) {
    raw.group(name, pos);
    addList(src, raw, name, v);
    return;
  }
  raw.warnings.push(`${pos.file}: terraform output "${name}" is not a host list (${shapes}); skipped`);
}

function addList(src: YamlSource, raw: RawInventory, group: string, list: YAMLSeq): void {
  raw.group(group, posOf(src, list));
  for (const item of list.items) {
    const it = deref(src, item);
    if (!isScalar(it) || typeof it.value !== 'string' || !it.value) {
      throw new InputError(`group "${group}": a list of hosts must hold addresses or names (strings)`, posOf(src, it), group);
    }
    raw.addHost(group, it.value, posOf(src, it));
  }
}
