// Playbook entry points and flag parsing.
export { runPlaybook, main, setProgramName, droverVersion, type PlaybookMeta, type PlaybookContext, type PlaybookIO, type TuiHookOptions, type SignalSource } from './playbook.ts';
export { parsePlaybookArgs, type CliOptions } from './args.ts';
export { flagOptions, flagValues, flagsUsage, type FlagSpec, type FlagSpecs, type FlagValues } from './flags.ts';
export { parseExtraVars, parseExtraVarArg, scalarValue, type ExtraVars } from './extra-vars.ts';
export { usage } from './usage.ts';
export { listHosts, listTasks } from './list.ts';
