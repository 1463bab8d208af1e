// The one interface every transport implements (ssh on ssh2, local for the controller).
// exec never throws for a non-zero exit code: operations read the code and decide.
// It throws UnreachableError when the connection fails/breaks and TimeoutError on timeout.
import type { RoundTrips } from './round-trips.ts';

export type { RoundTrips };

export interface BecomeOptions {
  /** Target user for sudo; default root. */
  user?: string;
  /** sudo password; fed on stdin (sudo -S), never on argv. Registered as a secret. */
  password?: string;
}

export interface ExecOptions {
  stdin?: string | Buffer;
  /** Inlined as `export K='v';` (sshd drops client env). */
  env?: Readonly<Record<string, string>>;
  /** Run through sudo. true = the transport's default become settings. */
  sudo?: boolean | BecomeOptions;
  timeoutMs?: number;
  cwd?: string;
  /**
   * The command only reads state and changes nothing on the host: it may be answered by a
   * result read ahead (batched with other probes) as long as nothing was changed since.
   */
  probe?: boolean;
  /**
   * With probe: a read that must look at the host now (a poll waiting for a state): it still
   * runs in --check, but is never answered from a result read ahead.
   */
  fresh?: boolean;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when killed by a signal. */
  code: number | null;
  signal?: string;
  durationMs: number;
}

export interface PutOptions {
  /** Octal string ('0644') or number. Applied to the temp file before the rename. */
  mode?: string | number;
  owner?: string;
  group?: string;
  sudo?: boolean | BecomeOptions;
  /**
   * Command run on the temp file before it replaces the real one; `%s` is replaced by the
   * temp path (as Ansible's `validate`). A non-zero exit aborts: temp removed, target untouched,
   * and put() rejects with PutValidateError carrying the command's output.
   */
  validate?: string;
  /** Create missing parent directories. */
  mkdirs?: boolean;
}

export class PutValidateError extends Error {
  constructor(
    readonly path: string,
    readonly result: ExecResult,
  ) {
    super(`validation of ${path} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim()}`);
    this.name = 'PutValidateError';
  }
}

export interface Transport {
  /** Inventory name of the host. */
  readonly name: string;
  /** Open (or reuse) the connection. Idempotent. */
  connect(): Promise<void>;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Atomic write: temp file in the same directory, mode/owner set, then rename. */
  put(path: string, content: string | Buffer, options?: PutOptions): Promise<void>;
  get(path: string, options?: { sudo?: boolean | BecomeOptions }): Promise<Buffer>;
  close(): Promise<void>;
  /** Network round trips this host has cost so far, for transports that count them (ssh). */
  roundTrips?(): RoundTrips | undefined;
}
