import type { BecomeOptions } from './transport/types.ts';

// Exit codes (Ansible-compatible where Ansible has one; bit-or of 2 and 4 when a run
// has both failed and unreachable hosts, as ansible-playbook does).
export const EXIT = {
  ok: 0,
  internal: 1,
  failedHosts: 2,
  unreachable: 4,
  /** Bad command-line usage: unknown flag, missing value. (sysexits EX_USAGE) */
  usage: 64,
  /** Inventory, vars or playbook input that does not parse or validate. (sysexits EX_DATAERR) */
  invalidInput: 65,
  /** Stopped by the user (q / Ctrl-C). */
  interrupted: 130,
  /** Stopped by SIGTERM (128 + 15), the same graceful stop as SIGINT. */
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT] | 6;

/** Where in an input file a problem is. line/col are 1-based. */
export interface SourcePos {
  file: string;
  line?: number;
  col?: number;
}

export function formatPos(p: SourcePos): string {
  return p.line ? `${p.file}:${p.line}:${p.col ?? 1}` : p.file;
}

/** Bad input (inventory, vars files, -e, role variables): always names file:line:col and key. */
export class InputError extends Error {
  readonly exitCode = EXIT.invalidInput;
  constructor(
    readonly detail: string,
    readonly pos?: SourcePos,
    readonly key?: string,
  ) {
    super(`${pos ? formatPos(pos) + ': ' : ''}${key ? `key "${key}": ` : ''}${detail}`);
    this.name = 'InputError';
  }
}

export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The host could not be reached or the connection broke (Ansible's UNREACHABLE). */
export class UnreachableError extends Error {
  constructor(
    readonly host: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${host}: ${message}`, options);
    this.name = 'UnreachableError';
  }
}

/**
 * The connection broke while a command or transfer was running: it may or may not have
 * reached the host. Only operations safe to repeat (probes, get, put) are retried on it.
 */
export class ConnectionLostError extends UnreachableError {
  constructor(host: string, message: string, options?: { cause?: unknown }) {
    super(host, message, options);
    this.name = 'ConnectionLostError';
  }
}

/** Host key missing from or mismatching known_hosts. */
export class HostKeyError extends UnreachableError {
  constructor(host: string, message: string) {
    super(host, message);
    this.name = 'HostKeyError';
  }
}

export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** A probe a task would run: its command and sudo, as given to exec. */
export interface CapturedProbe {
  command: string;
  sudo: boolean | BecomeOptions | undefined;
}

/**
 * Ends a task's run() early when the runner only wants to learn the task's first probe
 * (see lib/run/probe-ahead.ts). Ops let it through like UnreachableError; it is never a result.
 */
export class ProbeCaptured extends Error {
  constructor(
    /**
     * The probes learnt, in order: the first call's, or (ops.seq) the first of each part.
     * Empty when the first call is not a batchable probe.
     */
    readonly probes: readonly CapturedProbe[],
  ) {
    super('probe captured');
    this.name = 'ProbeCaptured';
  }
}
