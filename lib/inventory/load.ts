// Entry points: load -i sources (files, folders, comma lists) into one Inventory.
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { compileInventory } from './compile.ts';
import { detectFormat, type InventoryFormat } from './detect.ts';
import { parseIniInventoryText } from './ini-format.ts';
import { looksLikeHostList, parseHostList } from './list-format.ts';
import { RawInventory } from './raw.ts';
import { evaluateInventory } from './jinja-resolve.ts';
import { parseJsonInventoryText } from './terraform-format.ts';
import type { Inventory } from './types.ts';
import { loadVarsDirs } from './vars-files.ts';
import { parseYamlInventoryText } from './yaml-format.ts';
import { readable } from './read.ts';

function parseInto(raw: RawInventory, text: string, file: string, format?: InventoryFormat): void {
  const fmt = format ?? detectFormat(text, file);
  if (fmt === 'yaml') parseYamlInventoryText(text, file, raw);
  else if (fmt === 'json') parseJsonInventoryText(text, file, raw);
  else parseIniInventoryText(text, file, raw);
}

/** Parse one inventory text (no host_vars/group_vars): for tests and embedded inventories. */
export function parseInventoryText(text: string, file: string, format?: InventoryFormat): Inventory {
  const raw = new RawInventory();
  parseInto(raw, text, file, format);
  return evaluateInventory(compileInventory(raw, [file]));
}

// Ansible skips these in an inventory folder.
const SKIP = /(~|\.orig|\.bak|\.cfg|\.retry|\.pyc|\.pyo|\.md|\.txt)$/i;

/**
 * Load and merge -i sources in order (a later source's definitions replace an earlier one's
 * at the same precedence level). A source is a file (format detected), a folder (every
 * inventory file in it, by name, and its own group_vars/ and host_vars/), or a comma list
 * when no such path exists. Vars folders beside each file are read after all sources, so
 * they apply to groups and hosts from any of them.
 */
export async function loadInventory(
  sources: string[],
  opts: { cwd?: string; extraVars?: Record<string, unknown>; templates?: 'evaluate' | 'keep' } = {},
): Promise<Inventory> {
  const cwd = opts.cwd ?? process.cwd();
  const raw = new RawInventory();
  const varsDirs: string[] = [];
  for (const source of sources) {
    const path = resolve(cwd, source);
    const st = await stat(path).catch(() => null);
    if (!st) {
      if (looksLikeHostList(source)) {
        parseHostList(source, raw);
        continue;
      }
      throw new InputError('inventory source not found (a path, or a comma-separated host list like "host1,")', { file: source });
    }
    if (st.isDirectory()) {
      const names = (await readable(readdir(path, { withFileTypes: true }), displayPath(cwd, path)))
        .filter((d) => d.isFile() && !d.name.startsWith('.') && !SKIP.test(d.name))
        .map((d) => d.name)
        .sort();
      for (const n of names) {
        const file = join(path, n);
        parseInto(raw, await readable(readFile(file, 'utf8'), displayPath(cwd, file)), displayPath(cwd, file));
      }
      varsDirs.push(path);
    } else {
      parseInto(raw, await readable(readFile(path, 'utf8'), displayPath(cwd, path)), displayPath(cwd, path));
      varsDirs.push(dirname(path));
    }
  }
  for (const dir of new Set(varsDirs)) await loadVarsDirs(raw, dir, (p) => displayPath(cwd, p));
  const inv = compileInventory(raw, sources);
  // Jinja in values, per host (jinja-resolve.ts); 'keep' shows them unevaluated (drover inventory --raw).
  return opts.templates === 'keep' ? inv : evaluateInventory(inv, { cwd, ...(opts.extraVars ? { extraVars: opts.extraVars } : {}) });
}

/** Errors name files as the user gave them: relative to cwd when inside it. */
function displayPath(cwd: string, path: string): string {
  const prefix = cwd.endsWith('/') ? cwd : cwd + '/';
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}
