// -e / --extra-vars in the three forms Ansible users type:
//   KEY=VALUE [KEY2=VALUE2 ...]   each value read as a YAML scalar (6443 -> number, true ->
//                                 boolean); a value that would lose its spelling as a number
//                                 ('0644', '1.30') stays a string
//   '{"key": ...}' / '{key: ...}' a JSON (or YAML flow) object
//   @vars.yaml / @vars.json       a file holding a mapping
// Every key remembers where it was written (file:line:col) for validation errors.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parse, parseDocument } from 'yaml';
import { InputError, UsageError, type SourcePos } from '../errors.ts';
import { checkAliases, checkTags } from '../inventory/yaml-doc.ts';
import { addSecret, SECRET_VAR_NAMES } from '../secrets/redact.ts';

export interface ExtraVars {
  vars: Record<string, unknown>;
  origins: Record<string, SourcePos>;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A k=v value: YAML scalar, but never one that changes how the user wrote a number. */
export function scalarValue(raw: string): unknown {
  if (raw === '') return '';
  // Multi-line text is text: a YAML scalar parse would fold its newlines into spaces.
  if (raw.includes('\n')) return raw;
  // A tag (`!!python/...`, `!vault`) is not resolved in a KEY=VALUE: the text is the value.
  if (raw.trimStart().startsWith('!')) return raw;
  let v: unknown;
  try {
    v = parse(raw, { logLevel: 'error' });
  } catch {
    return raw;
  }
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') return String(v) === raw.trim() ? v : raw;
  return typeof v === 'string' ? v : raw;
}

/** Parse a YAML/JSON mapping text, recording each top-level key's position. */
function parseMapping(text: string, file: string): ExtraVars {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false, logLevel: 'error' });
  const err = doc.errors[0];
  if (err) {
    const p = lc.linePos(err.pos[0]);
    throw new InputError(err.message.split('\n')[0]!, { file, line: p.line, col: p.col });
  }
  const pos = (offset: number | undefined): SourcePos => {
    if (offset === undefined) return { file };
    const p = lc.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  // Alias bombs and circular aliases are input errors at the alias (lib/inventory/yaml-doc.ts).
  checkTags(doc, lc, file);
  checkAliases(doc, lc, file);
  if (doc.contents === null) return { vars: {}, origins: {} };
  if (!isMap(doc.contents)) throw new InputError('extra vars must be a mapping of names to values', pos(doc.contents.range?.[0]));
  const js = doc.toJS({ maxAliasCount: -1 }) as Record<string, unknown>;
  const vars: Record<string, unknown> = {};
  const origins: Record<string, SourcePos> = {};
  for (const pair of doc.contents.items) {
    const keyNode = pair.key;
    const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    const at = pos((keyNode as { range?: [number, ...number[]] } | null)?.range?.[0] ?? pair.value?.range?.[0]);
    if (!KEY.test(key)) throw new InputError('not a valid variable name', at, key);
    vars[key] = js[key];
    origins[key] = at;
  }
  return { vars, origins };
}

/** One -e argument (the n-th, 1-based, for messages). */
export function parseExtraVarArg(arg: string, n: number, cwd = process.cwd()): ExtraVars {
  const label = `-e #${n}`;
  let out: ExtraVars;
  if (arg.startsWith('@')) {
    const file = arg.slice(1);
    if (!file) throw new UsageError(`${label}: "@" needs a file name (-e @vars.yaml)`);
    let text: string;
    try {
      text = readFileSync(resolve(cwd, file), 'utf8');
    } catch (e) {
      throw new InputError(`cannot read extra vars file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
    }
    out = parseMapping(text, file);
  } else if (/^\s*\{/.test(arg)) {
    out = parseMapping(arg, label);
  } else {
    const tokens = arg.trim().split(/\s+/);
    // "a=1 b=2" is two pairs; "msg=hello world" is one value with a space.
    const pairs = tokens.length > 1 && tokens.every((t) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(t)) ? tokens : [arg.replace(/^\s+/, '')];
    out = { vars: {}, origins: {} };
    for (const p of pairs) {
      const eq = p.indexOf('=');
      const key = eq > 0 ? p.slice(0, eq) : '';
      if (!KEY.test(key)) throw new UsageError(`${label}: expected KEY=VALUE, a JSON object or @file (value not echoed: it may be a secret)`);
      out.vars[key] = scalarValue(p.slice(eq + 1));
      out.origins[key] = { file: label };
    }
  }
  for (const [k, v] of Object.entries(out.vars)) if (SECRET_VAR_NAMES.has(k) && typeof v === 'string') addSecret(v);
  return out;
}

/** All -e arguments, later ones winning. */
export function parseExtraVars(args: readonly string[], cwd?: string): ExtraVars {
  const acc: ExtraVars = { vars: {}, origins: {} };
  args.forEach((a, i) => {
    const one = parseExtraVarArg(a, i + 1, cwd);
    Object.assign(acc.vars, one.vars);
    Object.assign(acc.origins, one.origins);
  });
  return acc;
}
