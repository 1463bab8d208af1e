// Public surface of the runner.
export { runPlays } from './runner.ts';
export type { RunOptions, Recap, HostRecap, SlowTask, SelectHosts, ConnectHost, GatherFacts } from './options.ts';
export { defineRole } from './types.ts';
export type { Play, Role, Task, Handler, HostCtx } from './types.ts';
export { shouldRunTags } from './tags.ts';
export { serialBatches } from './batches.ts';
export { exitCodeFor } from './recap.ts';
