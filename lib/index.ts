// The library's public surface (the package entry `drover` adds main() and runPlaybook() with
// the terminal UI wired in: see ../index.ts). Everything a role or playbook author needs comes
// from here, so nothing imports by deep path:
//   import { defineRole, ops, secret, z, type HostCtx } from 'drover';
// zod is re-exported as `z`: in the built package it is bundled with the engine, so schemas
// made with it are the engine's own zod (the one `secret()` and the vars helpers use).
export { z } from 'zod';

// Roles, plays and the runner
export { defineRole, runPlays, exitCodeFor, shouldRunTags, serialBatches } from './run/index.ts';
export type { Play, Role, Task, Handler, HostCtx, RunOptions, Recap, HostRecap, SlowTask, SelectHosts, ConnectHost, GatherFacts } from './run/index.ts';
export { inventoryLookup, peerAddress, PEER_ADDRESS_VARS, type InventoryLookup } from './run/lookup.ts';

// Operations: `ops.file(...)`, the result helpers (ok, changed, skipped, failed), defineOp
// and the probe/run helpers for writing an op of your own.
export * from './ops/index.ts';
export { mustProbe, mustRun, run as runCommand, errText, sudoOf } from './ops/exec.ts';

// Commands on a host: `await ctx.$\`systemctl is-active ${unit}\``
export { hostShell, HostCommand, sh, buildCommand as buildHostCommand, describeFailure, type HostShell, type ShellArg, type ShellContext } from './ops/shell.ts';
export type { ProcessOutput } from 'zx/core';

// Variables: zod helpers for role schemas (INI-friendly booleans, ports, CIDRs, durations)
export * from './vars/index.ts';

// Secrets: redacted from every output
export { secret, addSecret, redact, redactDeep, REDACTED, SECRET_VAR_NAMES } from './secrets/redact.ts';

// Shell quoting (POSIX sh): for a command built outside `$`
export { quote, quoteArgs, envPrefix } from './shell/quote.ts';

// Errors and exit codes
export { EXIT, InputError, UsageError, UnreachableError, ConnectionLostError, HostKeyError, TimeoutError, formatPos, type ExitCode, type SourcePos } from './errors.ts';

// Inventory
export { loadInventory, parseInventoryText, selectHosts, connectionFor, type Inventory, type InventoryGroup, type InventoryHost, type Selection } from './inventory/index.ts';

// Fresh machines: wait until hosts accept SSH and cloud-init is done, before a playbook
export { waitForHosts, sshConnector, type WaitOptions, type WaitResult } from './wait/wait-for-hosts.ts';

// Facts
export { gatherFacts, FactsError, FactsNotGathered, FactsSchema, type Facts, type InterfaceFact } from './facts/index.ts';

// Transports
export { createTransport, SshTransport, LocalTransport, PutError, GetError, type SshTransportOptions, type TransportOptions } from './transport/index.ts';
export type { Transport, ExecOptions, ExecResult, PutOptions, BecomeOptions, Connection } from './transport/index.ts';

// Events and reporters
export { PlainReporter, JsonReporter, EventSchema, EVENT_SCHEMA_VERSION, redactingSink, teeSink, type DroverEvent, type EventSink, type PlainReporterOptions, type OutStream } from './report/index.ts';

// The playbook command line (main() and runPlaybook() come from the package entry)
export { parsePlaybookArgs, usage, listHosts, listTasks, type CliOptions, type PlaybookMeta, type PlaybookContext, type PlaybookIO, type TuiHookOptions, type SignalSource } from './cli/index.ts';
export type { FlagSpec, FlagSpecs, FlagValues } from './cli/flags.ts';
