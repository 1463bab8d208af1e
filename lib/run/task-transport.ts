// The transport a task (or handler) gets: the host's transport with the two run-wide rules
// applied where no task code can forget them.
//
// - become: one explicit value, resolved once per context by the runner (play `become` >
//   the host's drover_become/ansible_become > off; false when logged in as root). An exec,
//   put or get that does not say `sudo` gets that value, so `undefined` never reaches the
//   host transport (where it would mean "the inventory's ansible_become" and override a
//   play's `become: false`).
// - --check: only reads reach the host. An exec marked `probe: true` (ops' probes,
//   `ctx.$.read`) and get() run; any other exec and every put are refused (not sent) and
//   recorded, and the runner reports the task as skipped with what it would have run, as
//   Ansible skips a module that does not support check mode. A task declared
//   `checkModeSafe: true` is trusted to only read and runs as it is.
import { describe } from '../transport/shell-transport.ts';
import type { BecomeOptions, ExecOptions, ExecResult, PutOptions, Transport } from '../transport/types.ts';

/** Thrown by a refused exec or put in check mode; the runner turns the task into skipped. */
export class CheckModeRefusal extends Error {
  constructor(
    host: string,
    readonly would: string,
  ) {
    super(`${host}: check mode: not sent (would ${would}); a task that only reads can say checkModeSafe: true, an op's read should be a probe`);
    this.name = 'CheckModeRefusal';
  }
}

export interface TaskTransportOptions {
  /** The context's become, already resolved: passed explicitly on every call that gives none. */
  become: boolean | BecomeOptions;
  /** --check and the task is not declared checkModeSafe: refuse everything but reads. */
  readOnly: boolean;
}

export class TaskTransport implements Transport {
  /** What was refused (check mode), in order: "run: <cmd>", "write <path>". */
  readonly refused: string[] = [];

  constructor(
    readonly inner: Transport,
    private readonly o: TaskTransportOptions,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.o.readOnly && options.probe !== true) return Promise.reject(this.refuse(`run: ${describe(command)}`));
    return this.inner.exec(command, { ...options, sudo: options.sudo ?? this.o.become });
  }

  put(path: string, content: string | Buffer, options: PutOptions = {}): Promise<void> {
    if (this.o.readOnly) return Promise.reject(this.refuse(`write ${path}`));
    return this.inner.put(path, content, { ...options, sudo: options.sudo ?? this.o.become });
  }

  get(path: string, options: { sudo?: boolean | BecomeOptions } = {}): Promise<Buffer> {
    return this.inner.get(path, { ...options, sudo: options.sudo ?? this.o.become });
  }

  /** The host's connection outlives a task: the runner closes it at the end of the run. */
  async close(): Promise<void> {}

  private refuse(would: string): CheckModeRefusal {
    this.refused.push(would);
    return new CheckModeRefusal(this.inner.name, would);
  }
}

/** The host transport under a task's (possibly wrapped) transport. */
export function unwrapTransport(t: Transport): Transport {
  return t instanceof TaskTransport ? t.inner : t;
}

/** What the task's transport refused in check mode (none for other transports). */
export function refusalsOf(t: Transport): readonly string[] {
  return t instanceof TaskTransport ? t.refused : [];
}
