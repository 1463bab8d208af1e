// LocalTransport on the controller itself: child processes, same command lines as ssh.
import { readdirSync, readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeoutError } from '../../../lib/errors.ts';
import { ConnectionSchema } from '../../../lib/transport/connection.ts';
import { GetError, PutError } from '../../../lib/transport/file-errors.ts';
import { createTransport } from '../../../lib/transport/index.ts';
import { LocalTransport } from '../../../lib/transport/local.ts';
import { PutValidateError } from '../../../lib/transport/types.ts';

let dir: string;
const t = createTransport(ConnectionSchema.parse({ name: 'controller', kind: 'local', address: 'localhost' }));
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drv-local-'));
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

/** PIDs whose environment holds NAME=value. */
function pidsWithEnv(entry: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(entry)) out.push(Number(d));
    } catch {
      /* gone or not ours */
    }
  }
  return out;
}

describe('LocalTransport', () => {
  it('is what createTransport returns for kind local', () => {
    expect(t).toBeInstanceOf(LocalTransport);
    expect(t.name).toBe('controller');
  });

  it('runs sh with stdin, env and cwd; a non-zero exit is a result, not an error', async () => {
    await t.connect();
    const r = await t.exec('read x; printf "%s|%s|%s" "$x" "$V" "$(pwd)"; echo oops >&2; exit 4', {
      stdin: 'in\n',
      env: { V: `it's "$HOME"` },
      cwd: dir,
    });
    expect(r).toMatchObject({ stdout: `in|it's "$HOME"|${dir}`, stderr: 'oops\n', code: 4 });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a signal death with code null', async () => {
    const r = await t.exec('kill -TERM $$');
    expect(r.code).toBeNull();
    expect(r.signal).toBe('SIGTERM');
  });

  it('times out with TimeoutError and kills the whole process tree', async () => {
    const tag = `DRV_LOCAL_T=${process.pid}-${Date.now()}`;
    const [k, v] = tag.split('=') as [string, string];
    const started = Date.now();
    await expect(t.exec('sleep 30 | cat; sleep 30', { timeoutMs: 300, env: { [k]: v } })).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(pidsWithEnv(tag)).toEqual([]);
  });

  it('bounds a command that gives no timeout by the host default (drover_command_timeout), says so, and kills it; timeoutMs 0 means unbounded', async () => {
    const bounded = new LocalTransport({ name: 'bounded', become: false, becomeUser: 'root', commandTimeoutMs: 300 });
    try {
      const tag = `DRV_LOCAL_B=${process.pid}-${Date.now()}`;
      const [k, v] = tag.split('=') as [string, string];
      const err = await bounded.exec('sleep 30', { env: { [k]: v } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as Error).message).toMatch(/bounded: command still running after 300 ms, the default bound for a command: killed \(.*sleep 30\)\. Give the op or exec a longer timeoutMs \(0 = no bound\), or set drover_command_timeout/);
      await new Promise((r) => setTimeout(r, 200));
      expect(pidsWithEnv(tag)).toEqual([]);
      // Asked for: no bound at all, and an own timeout keeps its own message.
      expect((await bounded.exec('sleep 0.5; echo done', { timeoutMs: 0 })).stdout).toBe('done\n');
      await expect(bounded.exec('sleep 30', { timeoutMs: 200 })).rejects.toThrow(/timed out after 200 ms/);
    } finally {
      await bounded.close();
    }
  });

  it('puts atomically with a mode, rejects validation failures, and gets bytes back', async () => {
    const f = join(dir, 'sub', 'file.bin');
    const bin = Buffer.from([0, 255, 10, 1, 2]);
    await t.put(f, bin, { mode: '0600', mkdirs: true });
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect((await t.get(f)).equals(bin)).toBe(true);
    const err = await t.put(f, 'other', { validate: 'false %s' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PutValidateError);
    expect((await t.get(f)).equals(bin)).toBe(true);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['file.bin']);
  });

  it('rejects put into a missing directory and get of a missing file with clear errors', async () => {
    await expect(t.put(join(dir, 'no', 'x'), 'x')).rejects.toBeInstanceOf(PutError);
    const e = await t.get(join(dir, 'missing')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GetError);
    expect((e as Error).message).toMatch(/controller: get .*missing failed: .*No such file/);
  });
});
