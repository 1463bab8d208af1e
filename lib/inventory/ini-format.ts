// Ansible's INI inventory, as Terraform templates write it:
//
//   host0 ansible_host=10.0.0.9          # before any section: ungrouped
//   [masters]
//   master1 ansible_host=10.0.0.1 ansible_user=debian
//   web[01:03].lab                        # ranges expand
//   [k3s_cluster:children]
//   masters
//   [all:vars]
//   ansible_user = debian                 # one key = value per line, spaces allowed
//
// Comments are whole lines starting with # or ;, and on host lines an unquoted # word.
// Values are typed like Ansible's (which runs Python's literal_eval on them): see iniValue.
import { InputError, type SourcePos } from '../errors.ts';
import { parseHostEntry } from './host-range.ts';
import type { RawInventory } from './raw.ts';
import { splitWords, WordSplitError } from './words.ts';

/**
 * An INI value, typed as Ansible types it, with one deliberate difference each way:
 * - integers (no leading zero) and decimals become numbers (so `k3s_version=1.30` is the
 *   number 1.3, exactly as in Ansible: quote versions);
 * - True/False and also true/false (any case) become booleans (Ansible keeps lowercase
 *   `true` as a string, which then behaves as true anyway in most places);
 * - None becomes null; JSON lists/objects (`["a","b"]`) become lists/objects;
 * - a quoted value is a string, quotes removed (Ansible would read `port="22"` as 22),
 *   unless it holds a JSON list/object (`disks='["/dev/vdb"]'`, quoted for the shell-like
 *   word splitting), which is parsed as in Ansible;
 * - everything else is a string.
 */
export function iniValue(text: string, quoted: boolean): unknown {
  if (quoted) return isJsonish(text.trim()) ? parseJsonOr(text.trim()) : text;
  const t = text.trim();
  if (/^[-+]?(0|[1-9]\d*)$/.test(t)) {
    const n = Number(t);
    return Number.isSafeInteger(n) ? n : t;
  }
  if (/^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if (/^true$/i.test(t)) return true;
  if (/^false$/i.test(t)) return false;
  if (t === 'None') return null;
  return isJsonish(t) ? parseJsonOr(t) : t;
}

function isJsonish(t: string): boolean {
  return (t.startsWith('[') && t.endsWith(']')) || (t.startsWith('{') && t.endsWith('}'));
}

function parseJsonOr(t: string): unknown {
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return t;
  }
}

type Section = { kind: 'hosts' | 'vars' | 'children'; group: string; pos: SourcePos };

export function parseIniInventoryText(text: string, file: string, raw: RawInventory): void {
  const lines = text.split(/\r?\n/);
  let section: Section = { kind: 'hosts', group: 'ungrouped', pos: { file, line: 1, col: 1 } };
  // [g:vars] for a group never declared anywhere is an error (as in Ansible): usually a typo.
  const varsSections: Section[] = [];
  lines.forEach((line, idx) => {
    const lineNo = idx + 1;
    const indent = line.length - line.trimStart().length;
    const trimmed = line.trim();
    const at = (col: number): SourcePos => ({ file, line: lineNo, col });
    if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    if (trimmed.startsWith('[')) {
      const m = /^\[([^\]:\s]+)(?::([^\]\s]*))?\]\s*(?:[#;].*)?$/.exec(trimmed);
      if (!m) throw new InputError('bad section header: expected [group], [group:vars] or [group:children]', at(indent + 1));
      const group = m[1]!;
      const kind = m[2] === undefined ? 'hosts' : m[2];
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        throw new InputError(`unknown section type ":${kind}": expected :vars or :children`, at(indent + 1), group);
      }
      section = { kind, group, pos: at(indent + 2) };
      if (kind === 'vars') {
        varsSections.push(section);
        raw.group(group, section.pos, false);
      } else raw.group(group, section.pos);
      return;
    }
    if (section.kind === 'children') {
      const child = trimmed.replace(/\s+[#;].*$/, '');
      if (/\s/.test(child)) {
        throw new InputError(`a [${section.group}:children] line names one group`, at(indent + 1), child);
      }
      raw.addChild(section.group, child, at(indent + 1));
      return;
    }
    if (section.kind === 'vars') {
      const eq = trimmed.indexOf('=');
      if (eq <= 0) throw new InputError(`a [${section.group}:vars] line must be key=value`, at(indent + 1), trimmed.split(/\s/)[0]);
      const key = trimmed.slice(0, eq).trim();
      let valueText = trimmed.slice(eq + 1).trim();
      let quoted = false;
      const q = /^(["'])(.*)\1\s*(?:[#;].*)?$/.exec(valueText);
      if (q) {
        valueText = q[2]!;
        quoted = true;
      } else valueText = valueText.replace(/\s+[#;].*$/, '');
      if (/\s/.test(key)) throw new InputError('a variable name has no spaces', at(indent + 1), key);
      raw.setGroupVar(section.group, key, iniValue(valueText, quoted), at(indent + 1));
      return;
    }
    readHostLine(raw, section.group, line, at);
  });
  for (const s of varsSections) {
    if (!raw.groups.get(s.group)?.declared) {
      throw new InputError(`[${s.group}:vars] is for a group that is never defined`, s.pos, s.group);
    }
  }
}

function readHostLine(raw: RawInventory, group: string, line: string, at: (col: number) => SourcePos): void {
  let words;
  try {
    words = splitWords(line, { comments: true });
  } catch (e) {
    if (e instanceof WordSplitError) throw new InputError(e.message, at(e.offset + 1));
    throw e;
  }
  const [first, ...rest] = words;
  if (!first) return;
  let entry;
  try {
    entry = parseHostEntry(first.text);
  } catch (e) {
    throw new InputError(`bad host entry: ${(e as Error).message}`, at(first.start + 1), first.text);
  }
  const vars: { key: string; value: unknown; pos: SourcePos }[] = [];
  for (const [i, w] of rest.entries()) {
    const eq = w.text.indexOf('=');
    if (eq <= 0) {
      const prev = rest[i - 1];
      // `key= value`: name the key, not the stray word (it may be a password).
      if (prev && !prev.quoted && prev.text.endsWith('=')) {
        throw new InputError('value missing: no spaces around "=" on host lines', at(prev.start + 1), prev.text.slice(0, -1));
      }
      throw new InputError('expected key=value after the host name (values with spaces need quotes)', at(w.start + 1), w.text.split('=')[0]);
    }
    vars.push({ key: w.text.slice(0, eq), value: iniValue(w.text.slice(eq + 1), w.quoted), pos: at(w.start + 1) });
  }
  for (const host of entry.names) {
    raw.addHost(group, host, at(first.start + 1));
    if (entry.port !== undefined) raw.setHostVar(host, 'ansible_port', entry.port, at(first.start + 1));
    for (const v of vars) raw.setHostVar(host, v.key, v.value, v.pos);
  }
}
