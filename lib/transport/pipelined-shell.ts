// Pipelining: one long-lived `sh` per connection that runs command lines sent on its stdin,
// instead of one SSH session per command. A session costs the target ~3 ms of CPU (sshd forks
// a session process and execs the login shell) and the controller ~9 packets; a pipelined
// command costs a subshell fork and 2 packets (measured on this project's light hosts: see
// bench/RESULTS.md). Ansible calls its similar option "pipelining" too.
//
// Each command is the exact line the login shell would have run (so sudo, env, cwd and the
// kill marker behave the same), run by `eval` of its single-quoted text in a subshell with
// stdin from /dev/null, followed by an end marker on stdout (with the exit status and the
// shell's pid) and on stderr. The quoted text is always balanced, whatever the user wrote:
// a typo such as an unterminated quote is a syntax error of that eval (exit 2, sh's own
// message on stderr) instead of a shell waiting for the rest of the quote forever, and
// nothing the command holds can swallow the marker. eval costs no exec (measured in
// lib/transport/README.md).
// Only commands without stdin come here (the caller checks); they run one at a time: a busy
// shell sends the next command to a session of its own instead. A timeout is the caller's:
// it kills the command's tree by its marker, and the subshell's end frees the shell.
// On by default; drover_pipelining: false (inventory) or DROVER_PIPELINING=0 turn it off.
import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { TimeoutError } from '../errors.ts';
import { quote } from '../shell/quote.ts';

/**
 * A pipelined command ran out of time. shellPid is the pipelined shell's pid (when known):
 * the command's subshell is that shell's only child, which the kill script ends too (a
 * subshell looping on builtins has no process carrying the exec marker).
 */
export class ShellTimeoutError extends TimeoutError {
  constructor(
    what: string,
    ms: number,
    readonly shellPid: number | undefined,
  ) {
    super(what, ms);
    this.name = 'TimeoutError';
  }
}

/** The text the pipelined shell gets for one command line (exported for tests). */
export function pipelinedText(line: string, id: string): string {
  return `( eval ${quote(line)} ) </dev/null; __drover_rc=$?; printf '%s %s %s\\n' '${id}' "$__drover_rc" "$$"; printf '%s\\n' '${id}' >&2\n`;
}

export interface PipelinedResult {
  stdout: Buffer;
  stderr: Buffer;
  /** Exit status; a command killed by a signal shows 128+n, as $? does. null if the shell died. */
  code: number | null;
  durationMs: number;
}

/** Collects one stream until a marker, wherever chunk boundaries fall. */
class UntilMarker {
  private chunks: Buffer[] = [];
  private size = 0;
  private tail = Buffer.alloc(0);
  /** Bytes after the marker (the exit status line on stdout). */
  rest: Buffer | null = null;

  constructor(private readonly marker: Buffer) {}

  /** Feed data; returns true once the marker has been seen. */
  push(d: Buffer): boolean {
    if (this.rest) {
      this.rest = Buffer.concat([this.rest, d]);
      return true;
    }
    // Search the previous tail plus the new chunk, so a marker split across chunks is found.
    const window = Buffer.concat([this.tail, d]);
    const at = window.indexOf(this.marker);
    if (at < 0) {
      this.chunks.push(d);
      this.size += d.length;
      this.tail = window.subarray(Math.max(0, window.length - this.marker.length + 1));
      return false;
    }
    // Bytes of the window before the marker that were not yet stored: only those from d.
    const beforeInD = at - this.tail.length;
    if (beforeInD >= 0) {
      this.chunks.push(d.subarray(0, beforeInD));
    } else {
      // The marker started inside the stored tail: drop those bytes from what was stored.
      let drop = -beforeInD;
      while (drop > 0 && this.chunks.length) {
        const last = this.chunks[this.chunks.length - 1]!;
        if (last.length <= drop) {
          drop -= last.length;
          this.chunks.pop();
        } else {
          this.chunks[this.chunks.length - 1] = last.subarray(0, last.length - drop);
          drop = 0;
        }
      }
    }
    this.rest = window.subarray(at + this.marker.length);
    return true;
  }

  data(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

interface Pending {
  out: UntilMarker;
  err: UntilMarker;
  outDone: boolean;
  errDone: boolean;
  started: number;
  resolve: (r: PipelinedResult) => void;
}

export class PipelinedShell {
  private pending: Pending | null = null;
  private closed = false;
  /** The shell's pid on the host, learnt from the first command's end marker. */
  pid: number | undefined;

  /** channel: a session running `exec sh` (POSIX sh reading commands from stdin). */
  constructor(private readonly channel: ClientChannel) {
    channel.on('data', (d: Buffer) => this.onData('out', d));
    channel.stderr.on('data', (d: Buffer) => this.onData('err', d));
    channel.on('close', () => this.onClose());
    channel.on('error', () => this.onClose());
  }

  get busy(): boolean {
    return this.pending !== null;
  }

  get alive(): boolean {
    return !this.closed;
  }

  run(line: string): Promise<PipelinedResult> {
    if (this.closed) return Promise.reject(new Error('pipelined shell is closed'));
    if (this.pending) return Promise.reject(new Error('pipelined shell is busy'));
    const id = `__DROVER_END_${randomBytes(8).toString('hex')}__`;
    const marker = Buffer.from(id);
    return new Promise<PipelinedResult>((resolve) => {
      this.pending = { out: new UntilMarker(marker), err: new UntilMarker(marker), outDone: false, errDone: false, started: Date.now(), resolve };
      this.channel.write(pipelinedText(line, id));
    });
  }

  private onData(which: 'out' | 'err', d: Buffer): void {
    const p = this.pending;
    if (!p) return; // nothing runs: stray output (a background job of an earlier command)
    if (which === 'out') p.outDone = p.out.push(d) && /\n/.test(p.out.rest?.toString('latin1') ?? '');
    else p.errDone = p.err.push(d) && /\n/.test(p.err.rest?.toString('latin1') ?? '');
    if (p.outDone && p.errDone) this.finish(p);
  }

  private finish(p: Pending): void {
    this.pending = null;
    const status = /^ (\d+)(?: (\d+))?\n/.exec(p.out.rest?.toString('latin1') ?? '');
    if (status?.[2]) this.pid = Number(status[2]);
    p.resolve({ stdout: p.out.data(), stderr: p.err.data(), code: status ? Number(status[1]) : null, durationMs: Date.now() - p.started });
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    const p = this.pending;
    this.pending = null;
    // The shell ended under a command (one that killed its parent shell, or a dropped
    // connection: the caller tells them apart by the connection's state).
    if (p) {
      const note = Buffer.from('\ndrover: the pipelined shell ended while this command ran\n');
      p.resolve({ stdout: p.out.data(), stderr: Buffer.concat([p.err.data(), note]), code: null, durationMs: Date.now() - p.started });
    }
  }

  close(): void {
    if (this.closed) return;
    try {
      this.channel.end();
    } catch {
      /* closing anyway */
    }
  }
}
