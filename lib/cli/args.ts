// Command-line flags of a playbook (ansible-playbook's names). Strict: an unknown flag or a
// missing value is a UsageError (exit 64), never silently ignored.
import { parseArgs } from 'node:util';
import { UsageError, type SourcePos } from '../errors.ts';
import { parseExtraVars } from './extra-vars.ts';
import { flagOptions, flagValues, type FlagSpecs } from './flags.ts';

export interface CliOptions {
  inventory: string[];
  check: boolean;
  diff: boolean;
  limit?: string;
  tags: string[];
  skipTags: string[];
  forks: number;
  extraVars: Record<string, unknown>;
  extraVarOrigins: Record<string, SourcePos>;
  listHosts: boolean;
  listTasks: boolean;
  json: boolean;
  /** 0, 1 (-v), 2 (-vv) ... */
  verbosity: number;
  acceptNewHostKeys: boolean;
  /** --lock-wait: how long to wait for a host another run holds (lib/transport/host-lock.ts). */
  lockWaitMs?: number;
  knownHosts: string[];
  user?: string;
  privateKeys: string[];
  help: boolean;
  version: boolean;
  /** The playbook's own flags (main({ flags })), converted by their specs. */
  flags: Readonly<Record<string, unknown>>;
}

export const OPTIONS = {
  inventory: { type: 'string', short: 'i', multiple: true },
  check: { type: 'boolean', short: 'C' },
  diff: { type: 'boolean', short: 'D' },
  limit: { type: 'string', short: 'l' },
  tags: { type: 'string', short: 't', multiple: true },
  'skip-tags': { type: 'string', multiple: true },
  forks: { type: 'string', short: 'f' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  'list-hosts': { type: 'boolean' },
  'list-tasks': { type: 'boolean' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
  'accept-new-host-keys': { type: 'boolean' },
  'lock-wait': { type: 'string' },
  'known-hosts': { type: 'string', multiple: true },
  user: { type: 'string', short: 'u' },
  'private-key': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

function commaList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

export function parsePlaybookArgs(argv: readonly string[], opts: { cwd?: string; flags?: FlagSpecs } = {}): CliOptions {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true; allowPositionals: false }>>['values'];
  // The playbook's flags join the common ones in one strict parse (their values are read below).
  const own = opts.flags ? flagOptions(opts.flags, OPTIONS) : {};
  try {
    ({ values } = parseArgs({ args: [...argv], options: { ...own, ...OPTIONS }, strict: true, allowPositionals: false }));
  } catch (e) {
    // node's messages are already precise ("Unknown option '--fork'"); keep them, drop the hint noise.
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(msg);
  }
  let forks = 10;
  if (values.forks !== undefined) {
    forks = Number(values.forks);
    if (!/^\d+$/.test(values.forks.trim()) || forks < 1) throw new UsageError(`--forks needs a positive whole number, got "${values.forks}"`);
  }
  if (values.limit !== undefined && !values.limit.trim()) throw new UsageError('--limit needs a host pattern');
  const lockWait = values['lock-wait'];
  if (lockWait !== undefined && !/^\d+(\.\d+)?$/.test(lockWait.trim())) throw new UsageError(`--lock-wait needs a number of seconds (0 refuses a locked host at once), got "${lockWait}"`);
  const extra = parseExtraVars(values['extra-vars'] ?? [], opts.cwd);
  return {
    inventory: values.inventory ?? [],
    check: values.check ?? false,
    diff: values.diff ?? false,
    ...(values.limit !== undefined ? { limit: values.limit.trim() } : {}),
    tags: commaList(values.tags),
    skipTags: commaList(values['skip-tags']),
    forks,
    extraVars: extra.vars,
    extraVarOrigins: extra.origins,
    listHosts: values['list-hosts'] ?? false,
    listTasks: values['list-tasks'] ?? false,
    json: values.json ?? false,
    verbosity: values.verbose?.length ?? 0,
    acceptNewHostKeys: values['accept-new-host-keys'] ?? false,
    ...(lockWait !== undefined ? { lockWaitMs: Math.round(Number(lockWait) * 1000) } : {}),
    knownHosts: values['known-hosts'] ?? [],
    ...(values.user !== undefined ? { user: values.user } : {}),
    privateKeys: values['private-key'] ?? [],
    help: values.help ?? false,
    version: values.version ?? false,
    flags: opts.flags ? flagValues(opts.flags, values as Record<string, unknown>) : {},
  };
}
