// What the ssh and local transports share: both run one sh command line with bytes on
// stdin (runLine), and everything else (sudo, env, cwd, put, get, killing a timed-out
// command's tree) is built on that, so the two behave the same.
import { randomBytes } from 'node:crypto';
import { ConnectionLostError, TimeoutError } from '../errors.ts';
import { addSecret, redact } from '../secrets/redact.ts';
import { quote } from '../shell/quote.ts';
import { GetError, PutError } from './file-errors.ts';
import { ShellTimeoutError } from './pipelined-shell.ts';
import { buildPutScript, interpretPutResult } from './put-script.ts';
import { buildCommand, killScript, resolveBecome, sudoFailureHint, type Become, type BecomeDefaults } from './remote-command.ts';
import {
  PutValidateError,
  type BecomeOptions,
  type ExecOptions,
  type ExecResult,
  type PutOptions,
  type Transport,
} from './types.ts';

export interface RawResult {
  stdout: Buffer;
  stderr: Buffer;
  code: number | null;
  signal?: string;
  durationMs: number;
}

interface RawOptions {
  stdin?: string | Buffer;
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  timeoutMs?: number;
}

/** How long the clean-up of a timed-out command may take. */
const KILL_TIMEOUT_MS = 15_000;

/**
 * How long a command may run when neither the exec (timeoutMs) nor the host
 * (drover_command_timeout) says: no command waits forever unless asked to (timeoutMs: 0).
 * Long enough for a slow package install or a base backup; a hung command is killed.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 30 * 60_000;

export interface ShellLimits {
  /** The default bound of a command (ms); 0 = none. Default DEFAULT_COMMAND_TIMEOUT_MS. */
  commandTimeoutMs?: number;
}

/** A command stopped by the default bound (not by a timeout its caller gave). */
export class CommandBoundError extends TimeoutError {
  constructor(host: string, what: string, ms: number) {
    super(`${host}: ${what}`, ms);
    this.message = `${host}: command still running after ${formatMs(ms)}, the default bound for a command: killed (${what}). Give the op or exec a longer timeoutMs (0 = no bound), or set drover_command_timeout (seconds) for the host`;
    this.name = 'TimeoutError';
  }
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export abstract class ShellTransport implements Transport {
  private readonly cleanups = new Set<Promise<unknown>>();

  private readonly commandTimeoutMs: number;

  protected constructor(
    readonly name: string,
    private readonly becomeDefaults: BecomeDefaults,
    limits: ShellLimits = {},
  ) {
    addSecret(becomeDefaults.becomePassword);
    this.commandTimeoutMs = limits.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  }

  /** Whether the login user is root (then becoming root needs no sudo). */
  protected abstract loginIsRoot(): boolean;

  /**
   * Run one line with the login shell, stdin fed then closed. Rejects with TimeoutError
   * after timeoutMs (having stopped waiting for the command), UnreachableError when the
   * connection fails.
   */
  /** inline: the command for a POSIX sh already running as the login user (see BuiltCommand). */
  protected abstract runLine(line: string, stdin: Buffer | undefined, timeoutMs: number | undefined, what: string, inline?: string): Promise<RawResult>;

  abstract connect(): Promise<void>;
  protected abstract disconnect(): Promise<void>;

  async close(): Promise<void> {
    // Let kills of timed-out commands finish first: they need the connection.
    await Promise.allSettled([...this.cleanups]);
    await this.disconnect();
  }

  /** Things worth a line in the run's output (a retry on a new connection). */
  protected notice(_message: string): void {}

  /**
   * Run fn; when the connection breaks under it, run it once more on a new connection if it
   * is safe to repeat (a read-only probe, get, or put: a whole file renamed into place), else
   * fail saying why it was not retried.
   */
  private async onceMore<T>(safe: boolean, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ConnectionLostError)) throw e;
      if (!safe) {
        const msg = e.message.startsWith(`${this.name}: `) ? e.message.slice(this.name.length + 2) : e.message;
        throw new ConnectionLostError(this.name, `${msg}; not retried: it may already have changed the host (only read-only probes and whole-file transfers are retried)`, { cause: e });
      }
      this.notice(`connection lost during ${what}; retrying once on a new connection`);
      return await fn();
    }
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const become = this.become(options.sudo);
    const { raw, viaSudo } = await this.onceMore(options.probe === true, describe(command), () => this.execRaw(command, options, become, true));
    const res: ExecResult = {
      stdout: raw.stdout.toString('utf8'),
      stderr: raw.stderr.toString('utf8'),
      code: raw.code,
      durationMs: raw.durationMs,
      ...(raw.signal ? { signal: raw.signal } : {}),
    };
    if (viaSudo) {
      const hint = sudoFailureHint(res.stderr, res.code, this.name);
      if (hint) res.stderr = `${res.stderr.replace(/\n?$/, '\n')}${hint}\n`;
    }
    // Belt and braces: a remote tool could echo what it was given.
    res.stdout = redact(res.stdout);
    res.stderr = redact(res.stderr);
    return res;
  }

  async put(path: string, content: string | Buffer, options: PutOptions = {}): Promise<void> {
    const become = this.become(options.sudo);
    // A new temp name per attempt: a cut attempt's script may still be cleaning up its own.
    const { raw } = await this.onceMore(true, `put ${path}`, () =>
      this.execRaw(buildPutScript(path, options, undefined, Buffer.byteLength(content)), { stdin: content }, become, true),
    );
    const r: ExecResult = {
      stdout: redact(raw.stdout.toString('utf8')),
      stderr: redact(raw.stderr.toString('utf8')),
      code: raw.code,
      durationMs: raw.durationMs,
    };
    const outcome = interpretPutResult(r);
    if (outcome.kind === 'validate-failed') throw new PutValidateError(path, outcome.result);
    if (outcome.kind === 'failed') throw new PutError(this.name, path, outcome.message);
  }

  async get(path: string, options: { sudo?: boolean | BecomeOptions } = {}): Promise<Buffer> {
    const become = this.become(options.sudo);
    const { raw } = await this.onceMore(true, `get ${path}`, () => this.execRaw(`cat -- ${quote(path)}`, {}, become, true));
    if (raw.code !== 0) {
      const msg = redact(raw.stderr.toString('utf8')).trim() || `exit ${raw.code}`;
      throw new GetError(this.name, path, msg);
    }
    return raw.stdout;
  }

  private become(sudo: boolean | BecomeOptions | undefined): Become | null {
    const b = resolveBecome(sudo, this.becomeDefaults);
    addSecret(b?.password);
    return b;
  }

  private async execRaw(
    command: string,
    options: RawOptions,
    become: Become | null,
    killOnTimeout: boolean,
  ): Promise<{ raw: RawResult; viaSudo: boolean }> {
    // No timeout given: the default bound (0 = none, only when asked for).
    const bounded = options.timeoutMs === undefined && this.commandTimeoutMs > 0;
    const timeoutMs = bounded ? this.commandTimeoutMs : options.timeoutMs;
    // The marker finds a timed-out command's processes to kill them: without a timeout there is nothing to find.
    const timed = timeoutMs !== undefined && timeoutMs > 0 && Number.isFinite(timeoutMs);
    const marker = timed ? randomBytes(8).toString('hex') : undefined;
    const built = buildCommand({
      command,
      ...(options.env ? { env: options.env } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(marker ? { marker } : {}),
      become,
      loginIsRoot: this.loginIsRoot(),
    });
    let stdin: Buffer | undefined = options.stdin === undefined ? undefined : Buffer.from(options.stdin);
    if (built.stdinPrefix) stdin = Buffer.concat([Buffer.from(built.stdinPrefix), stdin ?? Buffer.alloc(0)]);
    try {
      const raw = await this.runLine(built.line, stdin, timed ? timeoutMs : undefined, describe(command), built.inline);
      return { raw, viaSudo: built.viaSudo };
    } catch (e) {
      if (e instanceof TimeoutError && killOnTimeout && marker) this.killTree(marker, become, e instanceof ShellTimeoutError ? e.shellPid : undefined);
      if (e instanceof TimeoutError && bounded) throw new CommandBoundError(this.name, describe(command), e.ms);
      throw e;
    }
  }

  /** Kill everything a timed-out command started (in the background; close() waits for it). */
  private killTree(marker: string, become: Become | null, shellPid: number | undefined): void {
    const p = this.execRaw(killScript(marker, shellPid), { timeoutMs: KILL_TIMEOUT_MS }, become, false).catch(() => undefined);
    this.cleanups.add(p);
    void p.finally(() => this.cleanups.delete(p));
  }
}

/** A short, redacted description of a command for error messages. */
export function describe(command: string): string {
  const one = redact(command).replace(/\s+/g, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 77)}...` : one;
}
