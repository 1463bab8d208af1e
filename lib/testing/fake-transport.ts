// An in-memory Transport for unit tests: scripted exec responses, recorded commands,
// a virtual file map for put/get. No host needed.
import type { ExecOptions, ExecResult, PutOptions, Transport } from '../transport/types.ts';

export type Responder = (command: string, options: ExecOptions | undefined) => Partial<ExecResult> | undefined;

export interface RecordedExec {
  command: string;
  options?: ExecOptions;
}

export class FakeTransport implements Transport {
  readonly execs: RecordedExec[] = [];
  readonly files = new Map<string, { content: Buffer; options?: PutOptions }>();
  connected = false;
  closed = false;
  private responders: Array<{ match: RegExp | string; reply: Partial<ExecResult> | ((cmd: string, o?: ExecOptions) => Partial<ExecResult>) }> = [];

  constructor(
    readonly name: string,
    private fallback: Responder = () => ({ code: 0 }),
  ) {}

  /** First matching rule wins; a string matches as a substring. */
  on(match: RegExp | string, reply: Partial<ExecResult> | ((cmd: string, o?: ExecOptions) => Partial<ExecResult>)): this {
    this.responders.push({ match, reply });
    return this;
  }

  async connect(): Promise<void> {
    this.connected = true;
  }

  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    this.execs.push({ command, options });
    let partial: Partial<ExecResult> | undefined;
    for (const r of this.responders) {
      const hit = typeof r.match === 'string' ? command.includes(r.match) : r.match.test(command);
      if (hit) {
        partial = typeof r.reply === 'function' ? r.reply(command, options) : r.reply;
        break;
      }
    }
    partial ??= this.fallback(command, options) ?? { code: 0 };
    return { stdout: '', stderr: '', code: 0, durationMs: 0, ...partial };
  }

  async put(path: string, content: string | Buffer, options?: PutOptions): Promise<void> {
    this.files.set(path, { content: Buffer.from(content), options });
  }

  async get(path: string): Promise<Buffer> {
    const f = this.files.get(path);
    if (!f) throw new Error(`${this.name}: no such file ${path}`);
    return f.content;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Commands run so far, for assertions. */
  get commands(): string[] {
    return this.execs.map((e) => e.command);
  }
}
