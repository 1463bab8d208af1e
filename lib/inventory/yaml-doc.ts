// YAML parsing with positions: every node can be turned into file:line:col, and a zod issue
// on the plain value can be pointed back at the node it came from.
import { isAlias, isMap, isScalar, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { core } from 'zod';
import { InputError, type SourcePos } from '../errors.ts';

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lc: LineCounter;
}

/**
 * YAML 1.1, as PyYAML (and so Ansible) reads it: `yes`/`no` are booleans and `<<` merges.
 * A syntax error becomes an InputError at its line and column; the message is yaml's first
 * line only, without the source excerpt it would otherwise quote (it could hold a secret).
 */
export function parseYaml(text: string, file: string, syntax: 'YAML' | 'JSON' = 'YAML'): YamlSource {
  const lc = new LineCounter();
  // Duplicate keys are found below instead, to point at the second key, not the first.
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, version: '1.1', uniqueKeys: false });
  const err = doc.errors[0];
  if (err) {
    const { line, col } = lc.linePos(err.pos[0]);
    const detail = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new InputError(`${syntax} syntax error: ${detail}`, { file, line, col });
  }
  const src = { file, doc, lc };
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (isMergeKey(pair)) continue;
        const key = keyText(pair);
        if (seen.has(key)) throw new InputError(`${syntax} syntax error: duplicate key in a mapping`, posOf(src, pair.key), key);
        seen.add(key);
      }
    },
  });
  return src;
}

export function posOf(src: YamlSource, node: unknown, fallback?: unknown): SourcePos {
  const range = (node as Node | null)?.range ?? (fallback as Node | null)?.range;
  if (!range) return { file: src.file };
  const { line, col } = src.lc.linePos(range[0]);
  return { file: src.file, line, col };
}

/** Follow aliases (`*anchor`) to the node they name. */
export function deref(src: YamlSource, node: unknown): unknown {
  let n = node;
  for (let i = 0; i < 32 && isAlias(n); i++) n = n.resolve(src.doc);
  return n;
}

export function toJS(src: YamlSource, node: unknown): unknown {
  if (node == null) return null;
  return (node as Node).toJS(src.doc);
}

export function keyText(pair: Pair): string {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  return k == null ? '' : String(k);
}

function isMergeKey(pair: Pair): boolean {
  return isScalar(pair.key) && (typeof pair.key.value === 'symbol' || pair.key.value === '<<');
}

export interface Entry {
  key: string;
  keyNode: unknown;
  value: unknown;
}

/**
 * The entries of a mapping with `<<` merges applied (merged keys first, the mapping's own
 * keys override them), aliases resolved.
 */
export function entries(src: YamlSource, node: unknown): Entry[] {
  const map = deref(src, node);
  if (!isMap(map)) return [];
  const out = new Map<string, Entry>();
  for (const pair of (map as YAMLMap).items) {
    if (!isMergeKey(pair)) continue;
    const v = deref(src, pair.value);
    const sources = isMap(v) ? [v] : ((v as { items?: unknown[] } | null)?.items ?? []);
    for (const s of sources) for (const e of entries(src, s)) if (!out.has(e.key)) out.set(e.key, e);
  }
  for (const pair of (map as YAMLMap).items) {
    if (isMergeKey(pair)) continue;
    const key = keyText(pair);
    out.delete(key);
    out.set(key, { key, keyNode: pair.key, value: deref(src, pair.value) });
  }
  return [...out.values()];
}

/** Walk a path of mapping keys / sequence indexes; returns the entry for the last step. */
export function entryAt(src: YamlSource, base: unknown, path: readonly PropertyKey[]): Entry | undefined {
  let node = deref(src, base);
  let found: Entry | undefined;
  for (const seg of path) {
    const key = String(seg);
    const items = (node as { items?: unknown[] } | null)?.items;
    if (isMap(node)) found = entries(src, node).find((e) => e.key === key);
    else if (items && /^\d+$/.test(key)) {
      const item = items[Number(key)];
      found = item === undefined ? undefined : { key, keyNode: item, value: deref(src, item) };
    } else return found;
    if (!found) return undefined;
    node = found.value;
  }
  return found;
}

/** Where a zod issue points: the offending key for unknown keys, else the entry's key. */
export function issueLocation(
  src: YamlSource,
  base: unknown,
  issue: core.$ZodIssue,
): { pos: SourcePos; key?: string; value?: unknown } {
  const at = issue.path.length ? entryAt(src, base, issue.path) : undefined;
  if (issue.code === 'unrecognized_keys') {
    const container = at ? at.value : deref(src, base);
    const bad = entries(src, container).find((e) => issue.keys.includes(e.key));
    if (bad) return { pos: posOf(src, bad.keyNode, bad.value), key: bad.key };
  }
  if (at) return { pos: posOf(src, at.keyNode, at.value), key: at.key, value: toJS(src, at.value) };
  return { pos: posOf(src, deref(src, base)) };
}
