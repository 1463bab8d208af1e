// A Transport that runs commands in the local /bin/sh (dash here), for unit tests that
// check the generated POSIX scripts against a real shell on temp files. No host, no network.
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { envPrefix, quote } from '../../../lib/shell/quote.ts';
import { PutValidateError, type ExecOptions, type ExecResult, type PutOptions, type Transport } from '../../../lib/transport/types.ts';

export class LocalShell implements Transport {
  readonly name = 'local-test';
  readonly commands: string[] = [];
  puts = 0;

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.commands.push(command);
    const start = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', envPrefix(options.env) + command], { cwd: options.cwd });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', reject);
      const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          code,
          ...(signal ? { signal } : {}),
          durationMs: Date.now() - start,
        });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(options.stdin ?? '');
    });
  }

  async put(path: string, content: string | Buffer, o: PutOptions = {}): Promise<void> {
    this.puts++;
    if (o.mkdirs) await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, content);
    if (o.mode !== undefined) await chmod(tmp, typeof o.mode === 'number' ? o.mode : parseInt(String(o.mode), 8));
    if (o.owner !== undefined || o.group !== undefined) {
      await chown(tmp, o.owner !== undefined ? Number(o.owner) : -1, o.group !== undefined ? Number(o.group) : -1);
    }
    if (o.validate) {
      const r = await this.exec(o.validate.replace('%s', quote(tmp)));
      if (r.code !== 0) {
        await rm(tmp, { force: true });
        throw new PutValidateError(path, r);
      }
    }
    await rename(tmp, path);
  }

  async get(path: string): Promise<Buffer> {
    return readFile(path);
  }
}
