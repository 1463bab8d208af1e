// YAML parsing with positions: every node can be turned into file:line:col, and a zod issue
// on the plain value can be pointed back at the node it came from.
import { isAlias, isCollection, isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
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
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, version: '1.1', uniqueKeys: false, logLevel: 'error' });
  const err = doc.errors[0];
  if (err) {
    const { line, col } = lc.linePos(err.pos[0]);
    const detail = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new InputError(`${syntax} syntax error: ${detail}`, { file, line, col });
  }
  const src = { file, doc, lc };
  checkTags(doc, lc, file, syntax, ['!vault']);
  checkAliases(doc, lc, file, syntax);
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
  // Aliases were bounded by checkAliases (yaml's own guard refuses ordinary inventories
  // that merge one defaults map into a few hundred hosts).
  return (node as Node).toJS(src.doc, { maxAliasCount: -1 });
}

/**
 * Refuse tags YAML cannot resolve (`!!python/object:...`, `!foo`), as PyYAML's safe_load
 * (and so Ansible) does, instead of reading them as plain strings. `allowed` tags are left
 * for the caller to explain (an inventory's `!vault`).
 */
export function checkTags(doc: Document.Parsed, lc: LineCounter, file: string, syntax = 'YAML', allowed: readonly string[] = []): void {
  for (const w of doc.warnings) {
    if (w.code !== 'TAG_RESOLVE_FAILED') continue;
    const tag = /Unresolved tag: (\S+)/.exec(w.message)?.[1] ?? '?';
    if (allowed.includes(tag)) continue;
    throw new InputError(`${syntax}: unknown tag ${tag} (Drover reads plain YAML: no Python or application tags)`, { file, ...lc.linePos(w.pos[0]) });
  }
}

/**
 * How many nodes aliases may add to a document once expanded. An inventory that merges a
 * defaults map into a thousand hosts adds tens of thousands; the "billion laughs" alias bomb
 * of issue 13 (9 aliases per level, 6 levels) adds over half a million, and every later walk
 * over the values (validation, templates, -e layering) would pay for each of them.
 */
export const MAX_ALIAS_EXPANSION = 200_000;

/**
 * Refuse alias bombs and circular aliases (an anchor used inside its own node: the value
 * would be a cycle no later step can walk) as InputErrors at the alias, in one pass that is
 * linear in the document (each anchored node's expanded size is computed once).
 */
export function checkAliases(doc: Document.Parsed, lc: LineCounter, file: string, syntax = 'YAML'): void {
  const sizes = new Map<unknown, number>();
  const open = new Set<unknown>();
  const at = (n: unknown): SourcePos => {
    const r = (n as Node | null)?.range;
    return r ? { file, ...lc.linePos(r[0]) } : { file };
  };
  let added = 0;
  /** Expanded size of a node (aliases followed); `count` adds alias expansions to the total. */
  const size = (n: unknown, count: boolean): number => {
    if (isPair(n)) return size(n.key, count) + size(n.value, count);
    if (isAlias(n)) {
      const target = n.resolve(doc);
      if (!target) throw new InputError(`${syntax}: alias *${n.source} names no anchor (&${n.source}) defined before it`, at(n));
      if (open.has(target)) throw new InputError(`${syntax}: alias *${n.source} refers to the node that contains it (a circular value)`, at(n));
      const s = size(target, false);
      if (count) {
        added += s;
        if (added > MAX_ALIAS_EXPANSION) {
          throw new InputError(`${syntax}: aliases expand to more than ${MAX_ALIAS_EXPANSION} values (at *${n.source}): an alias bomb?`, at(n));
        }
      }
      return s;
    }
    if (!isCollection(n)) return 1;
    const known = sizes.get(n);
    if (known !== undefined && !count) return known;
    open.add(n);
    let total = 1;
    for (const item of n.items) total += size(item, count);
    open.delete(n);
    // Beyond any real document: stop counting early rather than overflow.
    sizes.set(n, Math.min(total, Number.MAX_SAFE_INTEGER / 2));
    return total;
  };
  size(doc.contents, true);
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
