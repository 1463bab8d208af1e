// `ctx.$`: a zx-style tagged template for commands on a host. Every interpolated value is
// quoted for POSIX sh (lib/shell/quote.ts: zx's own quote() emits bash-only $'..', which
// dash, Debian's /bin/sh, does not read), arrays expand to one word per element and a
// ProcessOutput to its trimmed stdout, as in zx. The result is zx's ProcessOutput, so
// `.stdout`, `.exitCode`, `.ok`, `.text()`, `.lines()`, `.json()` behave as zx users expect.
import type { ProcessOutput } from 'zx/core';
import { TimeoutError } from '../errors.ts';
import type { BecomeOptions, ExecOptions, ExecResult } from '../transport/types.ts';
import { quote } from '../shell/quote.ts';
import type { OpContext } from './types.ts';

/** What may stand in `${...}` of a host command. */
export type ShellArg = string | number | bigint | ProcessOutput | ReadonlyArray<string | number | bigint | ProcessOutput>;

/** The part of an op context a host shell needs (so `$` can exist before the context does). */
export type ShellContext = Pick<OpContext, 'transport' | 'become' | 'log'>;

export interface HostShell {
  /** A command that may change the host. Rejects with the ProcessOutput on a non-zero exit. */
  (pieces: TemplateStringsArray, ...args: ShellArg[]): HostCommand;
  /**
   * A read-only probe: it changes nothing, so the runner may answer it from a result read
   * ahead (lib/run/probe-ahead.ts) and it runs in --check.
   */
  read(pieces: TemplateStringsArray, ...args: ShellArg[]): HostCommand;
}

// zx's core module (and its vendored helpers) costs ~50 ms to load; a playbook that never
// runs `$` should not pay it, and one that does loads it while its first command runs.
let zxCore: Promise<typeof import('zx/core')> | undefined;
const loadZx = () => (zxCore ??= import('zx/core'));

function isProcessOutput(v: unknown): v is ProcessOutput {
  return typeof v === 'object' && v !== null && Object.prototype.toString.call(v) === '[object ProcessOutput]';
}

function word(v: unknown, at: number): string {
  if (isProcessOutput(v)) return quote(v.stdout.trim());
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return quote(String(v));
  // undefined/null/objects in a command are a bug in the caller, never an empty word.
  throw new TypeError(`host command: value #${at + 1} is ${v === null ? 'null' : typeof v}, not a string, number or array of them`);
}

/** Build the command line: literal parts as written, every value quoted (arrays: one word each). */
export function buildCommand(pieces: TemplateStringsArray | readonly (string | undefined)[], args: readonly unknown[]): string {
  const piece = (i: number): string => {
    const p = pieces[i];
    // A template piece with an escape JavaScript cannot cook (`\001`) is undefined: dropping
    // it would run another command than the one written.
    if (p === undefined && i < pieces.length) {
      throw new SyntaxError(`host command: the text after value #${i} has an escape JavaScript does not accept (such as \\001); write the backslash twice or pass the text as a \${} value`);
    }
    return p ?? '';
  };
  let out = piece(0);
  args.forEach((a, i) => {
    out += Array.isArray(a) ? a.map((x) => word(x, i)).join(' ') : word(a, i);
    out += piece(i + 1);
  });
  return out;
}

/**
 * The same quoting as `$`, for a command an op takes as a string (ops.command, waitFor.command,
 * a `validate`): `ops.command(sh\`pg_isready -h ${host} -p ${port}\`)`.
 */
export function sh(pieces: TemplateStringsArray, ...args: ShellArg[]): string {
  return buildCommand(pieces, args);
}

/** A command not yet run: options chain as in zx, and it runs when awaited (once). */
export class HostCommand implements PromiseLike<ProcessOutput> {
  private opts: ExecOptions = {};
  private throws = true;
  private logged = true;
  private running: Promise<ProcessOutput> | undefined;

  constructor(
    private readonly ctx: ShellContext,
    readonly command: string,
    probe: boolean,
  ) {
    if (probe) this.opts.probe = true;
  }

  /** Resolve with the output even when the command fails. */
  nothrow(): this {
    this.throws = false;
    return this;
  }
  /** Run through sudo (true: the host's become settings), or not (false), whatever the context says. */
  sudo(become: boolean | BecomeOptions = true): this {
    this.opts.sudo = become;
    return this;
  }
  /** Kill the command after this long; the result is a failure with a timeout message. */
  timeout(ms: number): this {
    this.opts.timeoutMs = ms;
    return this;
  }
  /**
   * For a `$.read` poll that waits for a state: look at the host each time, never at a
   * result read ahead (it still runs in --check).
   */
  fresh(): this {
    this.opts.fresh = true;
    return this;
  }
  /** Keep the command and its output out of the -v debug log. */
  quiet(): this {
    this.logged = false;
    return this;
  }
  stdin(data: string | Buffer): this {
    this.opts.stdin = data;
    return this;
  }
  env(vars: Readonly<Record<string, string>>): this {
    this.opts.env = { ...this.opts.env, ...vars };
    return this;
  }

  private run(): Promise<ProcessOutput> {
    this.running ??= (async () => {
      const zx = loadZx();
      const sudo = this.opts.sudo ?? (this.ctx.become ? this.ctx.become : false);
      if (this.logged) this.ctx.log(`$ ${this.command}`);
      let r: ExecResult;
      try {
        r = await this.ctx.transport.exec(this.command, { ...this.opts, sudo });
      } catch (e) {
        // A timeout is an outcome of this command (nothrow() callers want to see it);
        // an unreachable host is not, and escapes to the runner.
        if (!(e instanceof TimeoutError)) throw e;
        r = { stdout: '', stderr: e.message, code: null, signal: 'SIGKILL', durationMs: this.opts.timeoutMs ?? 0 };
      }
      const { ProcessOutput } = await zx;
      const out = new ProcessOutput({
        code: r.code,
        signal: (r.signal ?? null) as NodeJS.Signals | null,
        duration: r.durationMs,
        error: null,
        from: this.command,
        store: { stdout: [r.stdout], stderr: [r.stderr], stdall: [r.stdout + r.stderr] },
      });
      if (this.logged && r.code !== 0) this.ctx.log(`$ exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      if (this.throws && r.code !== 0) throw out;
      return out;
    })();
    return this.running;
  }

  then<A = ProcessOutput, B = never>(
    onfulfilled?: ((value: ProcessOutput) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.run().then(onfulfilled, onrejected);
  }
  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<ProcessOutput | B> {
    return this.run().catch(onrejected);
  }
  finally(onfinally?: (() => void) | null): Promise<ProcessOutput> {
    return this.run().finally(onfinally);
  }
}

/** The `$` of one host context. */
export function hostShell(ctx: ShellContext): HostShell {
  const $ = ((pieces: TemplateStringsArray, ...args: ShellArg[]) => new HostCommand(ctx, buildCommand(pieces, args), false)) as HostShell;
  $.read = (pieces, ...args) => new HostCommand(ctx, buildCommand(pieces, args), true);
  return $;
}

/** One line for a failed command in a task message: exit code and the last lines of stderr. */
export function describeFailure(e: unknown): string | undefined {
  if (!isProcessOutput(e)) return undefined;
  const tail = (e.stderr.trim() || e.stdout.trim()).split('\n').slice(-5).join('\n');
  const how = e.exitCode === null ? `killed (${e.signal ?? 'signal'})` : `rc ${e.exitCode}`;
  return `command failed (${how})${tail ? `: ${tail}` : ''}`;
}

export { isProcessOutput };
