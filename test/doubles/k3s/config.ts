// K3s configuration as the real binary resolves it: /etc/rancher/k3s/config.yaml, then
// config.yaml.d/*.yaml in alphabetical order ("key+" appends to the accumulated value), turned
// into flags; CLI args override (a repeatable flag on the CLI replaces the whole list); K3S_*
// environment variables apply only to flags that neither args nor config set. Unknown config
// keys are warned about and skipped (pkg/configfilearg); unknown CLI flags are an error.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ALIASES, COMMA_SPLIT, ENV_FLAGS, flagsOf, type FlagKind, type Subcommand } from './flags.ts';

export type FlagValue = string | boolean | string[];
export type FlagMap = Record<string, FlagValue>;

export interface ConfigFile {
  path: string;
  text: string;
}

export const DEFAULT_CONFIG = '/etc/rancher/k3s/config.yaml';

export class ConfigError extends Error {}

type Raw = unknown;

/** Merge config files in order, honouring "key+" appends. Values stay as YAML gave them. */
export function mergeConfigFiles(files: readonly ConfigFile[]): Map<string, Raw> {
  const out = new Map<string, Raw>();
  for (const f of files) {
    let doc: unknown;
    try {
      doc = parseYaml(f.text);
    } catch (e) {
      throw new ConfigError(`failed to parse ${f.path}: ${(e as Error).message}`);
    }
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`failed to parse ${f.path}: not a map of flag names to values`);
    for (const [rawKey, value] of Object.entries(doc as Record<string, unknown>)) {
      if (rawKey.endsWith('+')) {
        const key = rawKey.slice(0, -1);
        const prev = out.get(key);
        out.delete(key);
        out.set(key, prev === undefined ? value : appendValue(prev, value));
      } else {
        out.delete(rawKey);
        out.set(rawKey, value);
      }
    }
  }
  return out;
}

function appendValue(prev: Raw, next: Raw): Raw {
  if (Array.isArray(prev) || Array.isArray(next)) return [...asArray(prev), ...asArray(next)];
  return `${scalar(prev)},${scalar(next)}`;
}

function asArray(v: Raw): Raw[] {
  return Array.isArray(v) ? v : [v];
}

function scalar(v: Raw): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function toBool(v: Raw, where: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = scalar(v).toLowerCase();
  if (['true', '1', 't'].includes(s)) return true;
  if (['false', '0', 'f', ''].includes(s)) return false;
  throw new ConfigError(`invalid boolean value "${scalar(v)}" for ${where}`);
}

function coerce(kind: FlagKind, key: string, v: Raw, where: string): FlagValue {
  if (kind === 'bool') return toBool(Array.isArray(v) ? v[v.length - 1] : v, where);
  if (kind === 'slice') return asArray(v).map(scalar);
  return Array.isArray(v) ? v.map(scalar).join(',') : scalar(v);
}

export interface ResolveInput {
  cmd: Subcommand;
  /** Arguments after the subcommand. */
  args: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Config files in merge order (main file, then drop-ins). */
  files: readonly ConfigFile[];
}

export interface Resolved {
  values: FlagMap;
  /** Log lines K3s prints (warnings about skipped keys). */
  warnings: string[];
  /** Positional arguments left over. */
  positional: string[];
}

/** Parse CLI args into a flag map; unknown flags throw as urfave/cli does. */
export function parseArgs(cmd: Subcommand, args: readonly string[]): { values: FlagMap; positional: string[] } {
  const flags = flagsOf(cmd);
  const values: FlagMap = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    let name = eq >= 0 ? body.slice(0, eq) : body;
    name = ALIASES[name] ?? name;
    const kind = flags[name];
    if (!kind) throw new ConfigError(`flag provided but not defined: -${eq >= 0 ? body.slice(0, eq) : body}`);
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (kind === 'bool') {
      values[name] = value === undefined ? true : toBool(value, `--${name}`);
      continue;
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new ConfigError(`flag needs an argument: -${name}`);
    }
    if (kind === 'slice') {
      const prev = values[name];
      values[name] = [...(Array.isArray(prev) ? prev : []), value];
    } else values[name] = value;
  }
  return { values, positional };
}

/** Resolve the effective flags: CLI > config files > environment. */
export function resolveConfig(input: ResolveInput): Resolved {
  const flags = flagsOf(input.cmd);
  const warnings: string[] = [];
  const merged = mergeConfigFiles(input.files);
  const values: FlagMap = {};
  for (const [key, raw] of merged) {
    const kind = flags[key];
    if (!kind) {
      warnings.push(`Unknown flag --${key} found in config.yaml, skipping`);
      continue;
    }
    values[key] = coerce(kind, key, raw, `${key} in config`);
  }
  const cli = parseArgs(input.cmd, input.args);
  Object.assign(values, cli.values);
  for (const [env, flag] of Object.entries(ENV_FLAGS)) {
    const v = input.env[env];
    const kind = flags[flag];
    if (v === undefined || v === '' || !kind || values[flag] !== undefined) continue;
    values[flag] = coerce(kind, flag, v, env);
  }
  for (const key of Object.keys(values)) {
    const v = values[key];
    if (COMMA_SPLIT.has(key) && Array.isArray(v)) values[key] = v.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  }
  return { values, warnings, positional: cli.positional };
}

/** The config file path K3s uses: --config / -c, else K3S_CONFIG_FILE, else the default. */
export function configPath(args: readonly string[], env: Readonly<Record<string, string | undefined>>): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--?(?:config|c)(?:=(.*))?$/.exec(a);
    if (m) return m[1] ?? args[i + 1] ?? DEFAULT_CONFIG;
  }
  return env.K3S_CONFIG_FILE || DEFAULT_CONFIG;
}

/** Read the config file and its drop-ins (<path>.d/*.yaml, alphabetical) from disk. */
export function readConfigFiles(path: string): ConfigFile[] {
  const files: ConfigFile[] = [];
  if (existsSync(path)) files.push({ path, text: readFileSync(path, 'utf8') });
  const dir = `${path}.d`;
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) files.push({ path: `${dir}/${name}`, text: readFileSync(`${dir}/${name}`, 'utf8') });
  }
  return files;
}

/** Typed access with K3s's defaults. */
export class Flags {
  constructor(readonly values: FlagMap) {}
  str(key: string, dflt = ''): string {
    const v = this.values[key];
    if (v === undefined) return dflt;
    return Array.isArray(v) ? v.join(',') : String(v);
  }
  bool(key: string): boolean {
    return this.values[key] === true;
  }
  list(key: string): string[] {
    const v = this.values[key];
    if (v === undefined) return [];
    return Array.isArray(v) ? v : [String(v)];
  }
  has(key: string): boolean {
    return this.values[key] !== undefined;
  }
}
