// host_vars/ and group_vars/ beside an inventory (inside it, for a directory source), read as
// Ansible does: for a name N, the file or folder `N`, then `N.yml`, `N.yaml`, `N.json`; a
// folder's .yml/.yaml/.json files are read recursively in name order. Files that name no
// known group or host are reported as warnings (often a typo in the file name).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { InputError } from '../errors.ts';
import type { RawInventory, VarDefs } from './raw.ts';
import { validateVar } from './known-vars.ts';
import { readable } from './read.ts';
import { deref, parseYaml, posOf } from './yaml-doc.ts';
import { readVars } from './yaml-format.ts';

const EXTS = ['.yml', '.yaml', '.json'];

/** `display` turns a path into the name errors and origins use (e.g. relative to cwd). */
export async function loadVarsDirs(raw: RawInventory, baseDir: string, display: (path: string) => string = (p) => p): Promise<void> {
  await loadKind(raw, join(baseDir, 'group_vars'), 'group', display);
  await loadKind(raw, join(baseDir, 'host_vars'), 'host', display);
}

async function loadKind(raw: RawInventory, dir: string, kind: 'group' | 'host', display: (path: string) => string): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return; // no such folder: nothing to load
  }
  const known = kind === 'group' ? raw.groups : raw.hosts;
  const byEntity = new Map<string, string[]>();
  for (const n of names) {
    const ext = EXTS.find((e) => n.endsWith(e));
    const entity = ext ? n.slice(0, -ext.length) : n;
    if (!known.has(entity)) {
      if (!n.endsWith('~')) raw.warnings.push(`${display(join(dir, n))}: no ${kind} named "${entity}" in the inventory; ignored`);
      continue;
    }
    const list = byEntity.get(entity) ?? [];
    list.push(n);
    byEntity.set(entity, list);
  }
  for (const [entity, files] of byEntity) {
    // Ansible's order: `N` itself, then N.yml, N.yaml, N.json.
    const ordered = [entity, ...EXTS.map((e) => entity + e)].filter((f) => files.includes(f));
    for (const f of ordered) {
      const path = join(dir, f);
      const paths = (await readable(stat(path), display(path))).isDirectory() ? await readable(filesIn(path), display(path)) : [path];
      for (const p of paths) raw.addFileVars(kind, entity, parseVarsText(await readable(readFile(p, 'utf8'), display(p)), display(p)));
    }
  }
}

async function filesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  const names = (await readdir(dir, { withFileTypes: true })).filter((d) => !d.name.startsWith('.'));
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of names) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await filesIn(p)));
    else if (EXTS.some((e) => d.name.endsWith(e))) out.push(p);
  }
  return out;
}

/** One vars file: a mapping of variable names (or empty). Every definition is validated. */
export function parseVarsText(text: string, file: string): VarDefs {
  const src = parseYaml(text, file, file.endsWith('.json') ? 'JSON' : 'YAML');
  const root = deref(src, src.doc.contents);
  const defs: VarDefs = new Map();
  if (root == null || (isScalar(root) && root.value == null)) return defs;
  if (!isMap(root)) throw new InputError('a vars file must be a mapping of variable names to values', posOf(src, root));
  readVars(src, root, (key, value, pos) => {
    validateVar(key, value, pos);
    defs.set(key, { value, pos });
  });
  return defs;
}
