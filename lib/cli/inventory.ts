// `drover inventory`: the inventory as Drover resolved it, in ansible-inventory's shapes.
//   drover inventory -i SRC [-i SRC2 ...] --list | --host HOST | --graph [GROUP]
//                    [-e VARS] [--raw]
// Values are the merged variables with Jinja evaluated per host (--raw: templates shown
// unevaluated, as ansible-inventory shows them). A template that needs a fact cannot be
// evaluated without the host: it is shown as written and named on stderr. Secrets
// (ansible_password, ...) are shown as ******** like everywhere in Drover.
import { EXIT, UsageError } from '../errors.ts';
import { describeUnresolved, Unresolved } from '../inventory/jinja-resolve.ts';
import { ansibleGraph, ansibleList, hostVars, sortedJson } from '../inventory/listing/ansible-shape.ts';
import { loadInventory } from '../inventory/load.ts';
import type { OutStream } from '../report/format.ts';
import { redact } from '../secrets/redact.ts';
import { parseCommandArgs, reportCommandError } from './command-error.ts';
import { parseExtraVars } from './extra-vars.ts';

export const INVENTORY_USAGE = `Usage: drover inventory -i INVENTORY (--list | --host HOST | --graph [GROUP]) [options]

Show the inventory as Drover resolved it, in ansible-inventory's shapes.

  -i, --inventory SRC    inventory file/dir, "h1,h2," list, or terraform output JSON (repeatable)
      --list             every group and host with its variables (JSON, ansible-inventory --list)
      --host HOST        one host's variables (JSON)
      --graph [GROUP]    the group tree under GROUP (default all)
  -e, --extra-vars VARS  KEY=VALUE, JSON or @file: extra vars, also seen by templates (repeatable)
      --raw              show Jinja templates unevaluated (as ansible-inventory does)
  -h, --help             this help

Exit codes: 0 ok, 64 bad usage, 65 invalid inventory (file:line:col, key and why).
`;

export interface InventoryIO {
  stdout?: OutStream;
  stderr?: OutStream;
  cwd?: string;
}

const OPTIONS = {
  inventory: { type: 'string', short: 'i', multiple: true },
  list: { type: 'boolean' },
  host: { type: 'string' },
  graph: { type: 'boolean' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  raw: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runInventoryCommand(argv: readonly string[], io: InventoryIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const cwd = io.cwd ?? process.cwd();
  try {
    const parsed = parseCommandArgs(argv, OPTIONS);
    const { values, positionals } = parsed;
    if (values.help) {
      stdout.write(INVENTORY_USAGE);
      return EXIT.ok;
    }
    const modes = [values.list && '--list', values.host !== undefined && '--host', values.graph && '--graph'].filter(Boolean);
    if (modes.length !== 1) throw new UsageError(modes.length ? `choose one of ${modes.join(', ')}` : 'say what to show: --list, --host HOST or --graph [GROUP]');
    if (positionals.length > (values.graph ? 1 : 0)) throw new UsageError(`unexpected argument "${positionals.at(-1)}"`);
    if (!values.inventory?.length) throw new UsageError('no inventory: pass -i INVENTORY (a file, a directory, or "host1,host2,")');

    const extra = parseExtraVars(values['extra-vars'] ?? [], cwd);
    const inv = await loadInventory(values.inventory, { cwd, extraVars: extra.vars, templates: values.raw ? 'keep' : 'evaluate' });
    for (const w of inv.warnings ?? []) stderr.write(redact(`warning: ${w}`) + '\n');

    let shown: string[];
    let text: string;
    if (values.host !== undefined) {
      if (!inv.hosts.has(values.host)) throw new UsageError(`no host "${values.host}" in the inventory`);
      shown = [values.host];
      text = sortedJson(hostVars(inv, values.host));
    } else if (values.graph) {
      const group = positionals[0] ?? 'all';
      if (!inv.groups.has(group)) throw new UsageError(`--graph needs a group name; there is no group "${group}"`);
      shown = [];
      text = ansibleGraph(inv, group);
    } else {
      shown = [...inv.hosts.keys()];
      text = sortedJson(ansibleList(inv));
    }
    for (const h of shown) {
      for (const v of Object.values(inv.hosts.get(h)!.vars)) {
        if (v instanceof Unresolved) stderr.write(redact(`warning: not evaluated (shown as written): ${describeUnresolved(v)}`) + '\n');
      }
    }
    stdout.write(redact(text));
    return EXIT.ok;
  } catch (e) {
    return reportCommandError(e, stderr, 'inventory');
  }
}
