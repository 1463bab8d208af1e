// The layer above lib/ and ui/: main() and runPlaybook() as the package exports them, with the
// Ink terminal UI as the reporter on a TTY outside CI (lib/cli decides when; plain lines
// otherwise). lib/ never imports ui/: the UI is passed in here.
import { main as mainWith, runPlaybook as runPlaybookWith, type PlaybookIO, type PlaybookMeta, type TuiHookOptions } from '../lib/cli/index.ts';
import type { FlagSpecs } from '../lib/cli/flags.ts';
import type { EventSink } from '../lib/report/events.ts';

// The UI draws in a process of its own (ui/remote/parent.ts: why), so this one loads no React;
// the module itself is loaded only when a terminal UI is wanted.
async function inkUi(opts: TuiHookOptions): Promise<EventSink> {
  const { startUiProcess } = await import('../ui/remote/parent.ts');
  return startUiProcess(opts);
}

const withUi = (io: PlaybookIO = {}): PlaybookIO => ('createTui' in io ? io : { ...io, createTui: inkUi });

/** Run a playbook's plays with the command line's flags; returns the exit code (see README). */
export function runPlaybook<const F extends FlagSpecs = FlagSpecs>(meta: PlaybookMeta<F>, argv?: readonly string[], io?: PlaybookIO): Promise<number> {
  return runPlaybookWith(meta, argv, withUi(io));
}

/** The entry point a playbook file calls: `await main({ name: 'site', plays })`; sets process.exitCode. */
export function main<const F extends FlagSpecs = FlagSpecs>(meta: PlaybookMeta<F>, argv?: readonly string[], io?: PlaybookIO): Promise<number> {
  return mainWith(meta, argv, withUi(io));
}
