// The local transport (ansible_connection=local): the same interface on the controller
// itself, with child processes running the same sh command lines as the ssh transport.
import { spawn } from 'node:child_process';
import { TimeoutError } from '../errors.ts';
import type { Connection } from './connection.ts';
import { execLine } from './remote-command.ts';
import { ShellTransport, type RawResult } from './shell-transport.ts';

export class LocalTransport extends ShellTransport {
  constructor(conn: Pick<Connection, 'name' | 'become' | 'becomeUser' | 'becomePassword'> & Partial<Pick<Connection, 'commandTimeoutMs'>>) {
    super(conn.name, { become: conn.become, becomeUser: conn.becomeUser, ...(conn.becomePassword !== undefined ? { becomePassword: conn.becomePassword } : {}) }, { commandTimeoutMs: conn.commandTimeoutMs });
  }

  protected loginIsRoot(): boolean {
    return process.getuid?.() === 0;
  }

  async connect(): Promise<void> {}

  protected async disconnect(): Promise<void> {}

  protected runLine(line: string, stdin: Buffer | undefined, timeoutMs: number | undefined, what: string): Promise<RawResult> {
    const started = Date.now();
    return new Promise<RawResult>((resolve, reject) => {
      // detached: its own process group, so a timeout can kill the whole tree at once.
      // exec: like a login shell running one command, no extra sh process in between.
      const child = spawn('/bin/sh', ['-c', execLine(line)], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (e: Error | null, r?: RawResult) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        if (e) reject(e);
        else resolve(r!);
      };
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => finish(e));
      child.on('close', (code, signal) =>
        finish(null, {
          stdout: Buffer.concat(out),
          stderr: Buffer.concat(err),
          code,
          ...(signal ? { signal } : {}),
          durationMs: Date.now() - started,
        }),
      );
      // A command that exits without reading its stdin makes our write fail with EPIPE: not an error.
      child.stdin.on('error', () => undefined);
      if (timeoutMs !== undefined && timeoutMs > 0) {
        timer = setTimeout(() => {
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
          finish(new TimeoutError(`${this.name}: ${what}`, timeoutMs));
        }, timeoutMs);
      }
      child.stdin.end(stdin && stdin.length ? stdin : undefined);
    });
  }
}
