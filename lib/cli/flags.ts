// A playbook's own flags (`main({ flags: { force: { type: 'boolean', description: '...' } } })`):
// parsed together with the common ones (one strict parse: an unknown flag is still exit 64),
// shown in --help, and handed to the playbook typed (ctx.flags.force is a boolean).
import { UsageError } from '../errors.ts';

interface FlagBase {
  /** One line for --help. */
  description: string;
  /** A one-letter alias (-x). */
  short?: string;
}

export type FlagSpec =
  | (FlagBase & { type: 'boolean' })
  | (FlagBase & { type: 'string'; /** --help's name for the value (default VALUE). */ placeholder?: string; default?: string; multiple?: false })
  | (FlagBase & { type: 'string'; placeholder?: string; multiple: true })
  | (FlagBase & { type: 'number'; placeholder?: string; default?: number });

/** Flag name (as typed after --, e.g. 'force' or 'new-primary') -> its spec. */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** What a playbook gets for its flags: a boolean, a string (list) or a number, by each spec. */
export type FlagValues<F extends FlagSpecs> = {
  readonly [K in keyof F]: F[K] extends { type: 'boolean' }
    ? boolean
    : F[K] extends { multiple: true }
      ? string[]
      : F[K] extends { type: 'number'; default: number }
        ? number
        : F[K] extends { type: 'number' }
          ? number | undefined
          : F[K] extends { default: string }
            ? string
            : string | undefined;
};

type ParseArgsOption = { type: 'boolean' | 'string'; short?: string; multiple?: boolean };

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * parseArgs options for a playbook's flags. A flag that clashes with a common one (or with
 * another's short letter) is the playbook author's mistake: an Error naming it, at once.
 */
export function flagOptions(flags: FlagSpecs, common: Readonly<Record<string, { readonly type: string; readonly short?: string }>>): Record<string, ParseArgsOption> {
  const shorts = new Set(Object.values(common).flatMap((o) => (o.short ? [o.short] : [])));
  const out: Record<string, ParseArgsOption> = {};
  for (const [name, spec] of Object.entries(flags)) {
    if (!NAME.test(name)) throw new Error(`playbook flag "${name}": use lower-case words joined by "-" (e.g. "new-primary")`);
    if (name in common) throw new Error(`playbook flag "--${name}" clashes with the common flag of that name`);
    if (spec.short !== undefined) {
      if (!/^[A-Za-z]$/.test(spec.short)) throw new Error(`playbook flag "--${name}": short must be one letter, got "${spec.short}"`);
      if (shorts.has(spec.short)) throw new Error(`playbook flag "--${name}": -${spec.short} is already taken`);
      shorts.add(spec.short);
    }
    out[name] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.type === 'string' && spec.multiple ? { multiple: true } : {}),
    };
  }
  return out;
}

/** The values parseArgs returned for a playbook's flags, converted and defaulted by their specs. */
export function flagValues<F extends FlagSpecs>(flags: F, raw: Readonly<Record<string, unknown>>): FlagValues<F> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(flags)) {
    const v = raw[name];
    switch (spec.type) {
      case 'boolean':
        out[name] = v === true;
        break;
      case 'number': {
        if (v === undefined) {
          out[name] = spec.default;
          break;
        }
        const n = Number(v);
        if (typeof v !== 'string' || !v.trim() || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number, got "${String(v)}"`);
        out[name] = n;
        break;
      }
      case 'string':
        out[name] = spec.multiple ? ((v as string[] | undefined) ?? []) : ((v as string | undefined) ?? spec.default);
        break;
    }
  }
  return out as FlagValues<F>;
}

/** The --help section for a playbook's flags ('' when it has none). */
export function flagsUsage(flags: FlagSpecs | undefined): string {
  const entries = Object.entries(flags ?? {});
  if (entries.length === 0) return '';
  const lines = entries.map(([name, spec]) => {
    const value = spec.type === 'boolean' ? '' : ` ${spec.placeholder ?? (spec.type === 'number' ? 'N' : 'VALUE')}`;
    const left = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${value}`;
    const def = 'default' in spec && spec.default !== undefined ? ` (default ${spec.default})` : '';
    const rep = spec.type === 'string' && spec.multiple ? ' (repeatable)' : '';
    return `  ${left.padEnd(23)}  ${spec.description}${def}${rep}`;
  });
  return `This playbook's options\n${lines.join('\n')}\n\n`;
}
