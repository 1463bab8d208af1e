// What runPlays() takes and returns. Everything that touches the outside world
// (connecting, fact probing, host patterns) is injectable so unit tests never load ssh2.
import type { SourcePos } from '../errors.ts';
import type { Facts } from '../facts/types.ts';
import type { Inventory, InventoryHost } from '../inventory/types.ts';
import type { EventSink, RecapEvent } from '../report/events.ts';
import type { ConnectionInput } from '../transport/connection.ts';
import type { Transport } from '../transport/types.ts';

export type SelectHosts = (inv: Inventory, pattern: string) => { hosts: string[]; warnings: string[] };
export type ConnectHost = (host: InventoryHost) => Transport | Promise<Transport>;
export type GatherFacts = (t: Transport) => Promise<Facts>;

export interface RunOptions {
  inventory: Inventory;
  sink: EventSink;
  /** Name shown in run_start (the playbook). */
  playbook?: string;
  check?: boolean;
  diff?: boolean;
  /** --limit host pattern, intersected with each play's hosts. */
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  /** Max hosts worked on at once (default 10). */
  forks?: number;
  /** -e variables: the highest precedence. */
  extraVars?: Record<string, unknown>;
  /** Where each -e key came from (for validation errors). */
  extraVarOrigins?: Record<string, SourcePos>;
  /** Connection settings below the inventory's (-u, --private-key, --known-hosts ...). */
  connectionDefaults?: Partial<ConnectionInput>;
  /** Graceful stop: no new task starts once aborted; in-flight tasks finish. */
  signal?: AbortSignal;
  /** Injectable: open a transport for a host (default: inventory connectionFor + createTransport). */
  connect?: ConnectHost;
  /** Injectable: probe facts (default: lib/facts gatherFacts). */
  gatherFacts?: GatherFacts;
  /** Injectable: resolve a host pattern (default: lib/inventory selectHosts). */
  selectHosts?: SelectHosts;
}

export type HostRecap = RecapEvent['hosts'][string];

export interface SlowTask {
  host: string;
  role?: string;
  task: string;
  durationMs: number;
  handler?: boolean;
}

/** The recap event's content plus the slowest tasks (for the PLAY RECAP table). */
export interface Recap {
  hosts: Record<string, HostRecap>;
  durationMs: number;
  exitCode: number;
  aborted?: boolean;
  /** Slowest task runs of the whole run, longest first (at most 5). */
  slowest: SlowTask[];
}
