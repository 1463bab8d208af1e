#!/usr/bin/env node
// The `drover` command. Its first job is running a playbook file:
//   drover run playbooks/site.ts -i inventory.yaml [--check] [the playbook's own flags]
// A .js/.mjs playbook is imported as it is; a .ts one through tsx's register API, from the
// tsx the playbook's project has installed (or the one beside drover): nothing is compiled
// by drover itself. The playbook's main() then parses the flags that follow its path, exactly
// as under `npx tsx playbook.ts ...`.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { droverVersion, setProgramName } from '../lib/cli/playbook.ts';
import { EXIT } from '../lib/errors.ts';

const HELP = `Usage: drover run PLAYBOOK [playbook options]
       drover --help | --version

Commands
  run PLAYBOOK   run a playbook file (.js/.mjs with node; .ts/.mts through tsx, which the
                 playbook's project must have installed: npm install --save-dev tsx).
                 Everything after PLAYBOOK goes to the playbook: -i INVENTORY, --check,
                 --diff, --limit, -e ..., its own flags; \`drover run PLAYBOOK --help\` lists them.
  inventory      the inventory as Drover resolves it, in ansible-inventory's shapes:
                 drover inventory -i INVENTORY --list | --host HOST | --graph [GROUP]
  wait-for-hosts wait until the hosts accept SSH and cloud-init is done (fresh VMs):
                 drover wait-for-hosts -i INVENTORY [PATTERN] [--timeout 300]

Options
  -h, --help     this help
      --version  print drover's version

Exit codes: the playbook's (0 ok, 2 failed hosts, 4 unreachable, 6 both, 64 bad usage,
65 invalid inventory/vars, 130 interrupted).
`;

const TS = new Set(['.ts', '.mts', '.cts', '.tsx']);

function usageError(msg: string): number {
  process.stderr.write(`drover: ${msg}\n(drover --help shows the usage)\n`);
  return EXIT.usage;
}

/** tsx's register(), from the playbook's project if it has tsx, else from beside drover. */
async function registerTsx(playbook: string): Promise<boolean> {
  for (const from of [playbook, resolve('package.json'), import.meta.url]) {
    let api: string;
    try {
      // The ES module build of tsx/esm/api (require.resolve would give the CommonJS one).
      const pkgFile = createRequire(from).resolve('tsx/package.json');
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { exports?: Record<string, { import?: { default?: string } }> };
      const rel = pkg.exports?.['./esm/api']?.import?.default;
      if (!rel) continue;
      api = new URL(rel, pathToFileURL(pkgFile)).href;
    } catch {
      continue;
    }
    const { register } = (await import(api)) as { register: () => unknown };
    register();
    return true;
  }
  return false;
}

async function runFile(file: string, rest: readonly string[]): Promise<number | undefined> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) return usageError(`no playbook file ${file}`);
  if (TS.has(extname(path)) && !(await registerTsx(path))) {
    return usageError(`${file} is TypeScript and tsx is not installed: npm install --save-dev tsx (or compile it with tsc and run the .js)`);
  }
  // The playbook reads its flags from process.argv, as when node or tsx runs it directly.
  process.argv = [process.argv[0]!, path, ...rest];
  setProgramName(`drover run ${file}`);
  await import(pathToFileURL(path).href);
  // main() has set process.exitCode.
  return undefined;
}

async function cli(argv: readonly string[]): Promise<number | undefined> {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP);
      return first === undefined ? EXIT.usage : EXIT.ok;
    case '--version':
      process.stdout.write(`drover ${droverVersion()}\n`);
      return EXIT.ok;
    case 'run':
      if (!rest[0] || rest[0].startsWith('-')) return usageError('run needs a playbook file: drover run PLAYBOOK [options]');
      return runFile(rest[0], rest.slice(1));
    case 'inventory':
      return (await import('../lib/cli/inventory.ts')).runInventoryCommand(rest);
    case 'wait-for-hosts':
      return (await import('../lib/cli/wait.ts')).runWaitCommand(rest);
    default:
      return usageError(`unknown command "${first}"`);
  }
}

cli(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`drover: ${e instanceof Error && e.stack ? e.stack : String(e)}\n`);
    process.exitCode = EXIT.internal;
  },
);
