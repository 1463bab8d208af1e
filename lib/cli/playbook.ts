// runPlaybook(): what `npx tsx playbooks/site.ts -i inventory/lab.yaml ...` does. Parses the
// flags, loads the inventory, picks a reporter (JSON, a terminal UI on a TTY outside CI when
// one is given as io.createTui, plain lines otherwise), runs the plays with Ctrl-C as a
// graceful stop, and returns the exit code. The Ink UI lives above lib/ (ui/): the package's
// main() (cli/main.ts) passes it in.
import { readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { EXIT, InputError, UsageError } from '../errors.ts';
import type { Inventory } from '../inventory/types.ts';
import type { EventSink } from '../report/events.ts';
import type { OutStream } from '../report/format.ts';
import { JsonReporter } from '../report/json.ts';
import { PlainReporter } from '../report/plain.ts';
import type { ConnectHost, GatherFacts, SelectHosts } from '../run/options.ts';
import { runPlays } from '../run/runner.ts';
import type { Play } from '../run/types.ts';
import { redact } from '../secrets/redact.ts';
import { parsePlaybookArgs, type CliOptions } from './args.ts';
import type { FlagSpecs, FlagValues } from './flags.ts';
import { listHosts, listTasks } from './list.ts';
import { usage } from './usage.ts';

export interface PlaybookContext<F extends FlagSpecs = FlagSpecs> {
  inventory: Inventory;
  options: CliOptions;
  /** The playbook's own flags, typed by its `flags` specs. */
  flags: FlagValues<F>;
}

export interface PlaybookMeta<F extends FlagSpecs = FlagSpecs> {
  name: string;
  /** The plays, or a function building them from the inventory, options and flags. */
  plays: Play[] | ((ctx: PlaybookContext<F>) => Play[] | Promise<Play[]>);
  version?: string;
  /** The playbook's own flags: parsed with the common ones, listed in --help (lib/cli/flags.ts). */
  flags?: F;
}

export interface TuiHookOptions {
  verbose: boolean;
  diff: boolean;
  /** The UI calls this when the user presses q / Ctrl-C. */
  onAbort: () => void;
}

export interface SignalSource {
  on(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

export interface PlaybookIO {
  stdout?: OutStream & { isTTY?: boolean };
  stderr?: OutStream;
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** Program name for --help. */
  prog?: string;
  /** Build the terminal UI (cli/main.ts passes the Ink UI process); absent or null: plain lines. */
  createTui?: ((opts: TuiHookOptions) => EventSink | Promise<EventSink>) | null;
  loadInventory?: (sources: string[], opts: { cwd?: string; extraVars?: Record<string, unknown> }) => Promise<Inventory>;
  selectHosts?: SelectHosts;
  connect?: ConnectHost;
  gatherFacts?: GatherFacts;
  /** Where SIGINT and SIGTERM come from (default: process). */
  signals?: SignalSource;
  /** Second Ctrl-C: stop now (default: process.exit). */
  exit?: (code: number) => void;
}

/** Drover's version: the nearest package.json named drover above this module (source or dist/). */
export function droverVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'drover') return pkg.version ?? 'unknown';
    } catch {
      // No package.json here: look one directory up.
    }
    if (dir.pathname === '/') return 'unknown';
  }
}

/** How --help names the command when a launcher (the `drover` bin) ran the playbook. */
let launcherProg: string | undefined;
export function setProgramName(prog: string | undefined): void {
  launcherProg = prog;
}

/** CI is "set" unless empty/false/0, as most CI detectors read it. */
function inCi(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

/** How --help names the command: `tsx site.ts` from source, `node dist/playbooks/site.js` prebuilt. */
export function programName(script: string | undefined, fallback: string, cwd = process.cwd()): string {
  if (!script) return fallback;
  if (script.endsWith('.js') || script.endsWith('.mjs')) {
    const rel = relative(cwd, script);
    return `node ${rel.startsWith('..') ? script : rel}`;
  }
  return `tsx ${basename(script)}`;
}

export async function runPlaybook<const F extends FlagSpecs = FlagSpecs>(meta: PlaybookMeta<F>, argv: readonly string[] = process.argv.slice(2), io: PlaybookIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  // A reader that goes away (`| head`) must not crash the run mid-change: stop writing, go on.
  if (!io.stdout) ignoreEpipe(process.stdout);
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  const prog = io.prog ?? launcherProg ?? programName(process.argv[1], meta.name);
  const fail = (prefix: string, e: unknown) => {
    stderr.write(redact(`${prefix}${e instanceof Error ? e.message : String(e)}`) + '\n');
  };

  let sink: EventSink | undefined;
  const signals = io.signals ?? process;
  let onSigint: (() => void) | undefined;
  let onSigterm: (() => void) | undefined;
  try {
    const opts = parsePlaybookArgs(argv, { cwd, ...(meta.flags ? { flags: meta.flags } : {}) });
    if (opts.help) {
      stdout.write(usage(prog, meta.flags));
      return EXIT.ok;
    }
    if (opts.version) {
      stdout.write(`${meta.version ? `${meta.name} ${meta.version}` : meta.name} (drover ${droverVersion()})\n`);
      return EXIT.ok;
    }
    if (opts.inventory.length === 0) throw new UsageError('no inventory: pass -i INVENTORY (a file, a directory, or "host1,host2,")');

    const load = io.loadInventory ?? (await import('../inventory/index.ts')).loadInventory;
    // -e also wins inside the inventory's Jinja templates, as in Ansible.
    const inventory = await load(opts.inventory, { cwd, extraVars: opts.extraVars });
    const plays = typeof meta.plays === 'function' ? await meta.plays({ inventory, options: opts, flags: opts.flags as FlagValues<F> }) : meta.plays;
    const select = io.selectHosts ?? (await import('../inventory/index.ts')).selectHosts;

    if (opts.listHosts || opts.listTasks) {
      if (opts.listHosts) stdout.write(listHosts(inventory, plays, select, opts.limit));
      if (opts.listTasks) stdout.write(listTasks(plays, { tags: opts.tags, skipTags: opts.skipTags }));
      return EXIT.ok;
    }

    const controller = new AbortController();
    const abort = () => controller.abort();
    // Ctrl-C (a SIGINT, or the key in the TUI): the first lets in-flight tasks finish, the
    // second exits now, as ansible-playbook does.
    // SIGTERM (kill, systemd, CI runners) is the same graceful stop, with exit 143.
    let interrupts = 0;
    let stopCode: number = EXIT.interrupted;
    const interrupt = (say: boolean, code: number = EXIT.interrupted) => {
      interrupts++;
      if (interrupts === 1) {
        stopCode = code;
        if (say && code === EXIT.terminated) stderr.write('Terminated (SIGTERM): no new task will start; waiting for running tasks (a second signal stops now)\n');
        else if (say) stderr.write('Interrupted: no new task will start; waiting for running tasks (Ctrl-C again to stop now)\n');
        abort();
      } else (io.exit ?? process.exit)(code);
    };
    if (opts.json) sink = new JsonReporter({ out: stdout });
    else if (stdout.isTTY && !inCi(env) && io.createTui) {
      try {
        // The UI says it on screen; q only ever asks for the graceful stop (the UI sends it once).
        sink = await io.createTui({ verbose: opts.verbosity > 0, diff: opts.diff, onAbort: () => interrupt(false) });
      } catch (e) {
        fail('warning: terminal UI unavailable, using plain output: ', e);
      }
    }
    sink ??= new PlainReporter({ out: stdout, verbosity: opts.verbosity, diff: opts.diff });

    onSigint = () => interrupt(true);
    signals.on('SIGINT', onSigint);
    onSigterm = () => interrupt(true, EXIT.terminated);
    signals.on('SIGTERM', onSigterm);

    const recap = await runPlays(plays, {
      inventory,
      sink,
      playbook: meta.name,
      check: opts.check,
      diff: opts.diff,
      limit: opts.limit,
      tags: opts.tags,
      skipTags: opts.skipTags,
      forks: opts.forks,
      extraVars: opts.extraVars,
      extraVarOrigins: opts.extraVarOrigins,
      connectionDefaults: {
        ...(opts.user ? { user: opts.user } : {}),
        ...(opts.privateKeys.length ? { privateKeyFiles: opts.privateKeys } : {}),
        ...(opts.knownHosts.length ? { knownHostsFiles: opts.knownHosts } : {}),
        ...(opts.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
        ...(opts.lockWaitMs !== undefined ? { hostLockWaitMs: opts.lockWaitMs } : {}),
      },
      signal: controller.signal,
      selectHosts: select,
      ...(io.connect ? { connect: io.connect } : {}),
      ...(io.gatherFacts ? { gatherFacts: io.gatherFacts } : {}),
    });
    return recap.aborted ? stopCode : recap.exitCode;
  } catch (e) {
    await closeQuietly(sink);
    sink = undefined;
    if (e instanceof UsageError) {
      fail('error: ', e);
      stderr.write(`(${prog} --help shows the options)\n`);
      return EXIT.usage;
    }
    if (e instanceof InputError) {
      fail('error: ', e);
      return EXIT.invalidInput;
    }
    fail('internal error: ', e instanceof Error && e.stack ? e.stack : e);
    return EXIT.internal;
  } finally {
    if (onSigint) signals.off('SIGINT', onSigint);
    if (onSigterm) signals.off('SIGTERM', onSigterm);
    await closeQuietly(sink);
  }
}

async function closeQuietly(sink: EventSink | undefined): Promise<void> {
  try {
    await sink?.close?.();
  } catch {
    // Output teardown must not hide the run's result.
  }
}

/** The tiny entry point a playbook file calls: `await main({ name: 'site', plays })`. */
export async function main<const F extends FlagSpecs = FlagSpecs>(meta: PlaybookMeta<F>, argv?: readonly string[], io?: PlaybookIO): Promise<number> {
  const code = await runPlaybook(meta, argv, io);
  process.exitCode = code;
  return code;
}

function ignoreEpipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}
