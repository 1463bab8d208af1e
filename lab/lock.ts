// One lab per machine: up/down/reset take this lock so two runs never interleave.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCK_FILE, RUN_DIR } from './paths.ts';
import { isAlive, refOf, type ProcRef } from './procs.ts';

function holder(): ProcRef | undefined {
  try {
    return JSON.parse(readFileSync(LOCK_FILE, 'utf8')) as ProcRef;
  } catch {
    return undefined;
  }
}

export async function withLabLock<T>(what: string, fn: () => Promise<T>, log: (m: string) => void): Promise<T> {
  mkdirSync(RUN_DIR, { recursive: true });
  const me = refOf(process.pid);
  if (!me) throw new Error('cannot read own /proc entry');
  let warned = false;
  for (;;) {
    try {
      writeFileSync(LOCK_FILE, JSON.stringify(me), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const h = holder();
      if (!h || !isAlive(h) || h.pid === process.pid) {
        // Left by a process that died (or by us, after an interrupted call): take it over.
        rmSync(LOCK_FILE, { force: true });
        continue;
      }
      if (!warned) log(`${what}: waiting for the lab lock held by pid ${h.pid}`);
      warned = true;
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK_FILE, { force: true });
  }
}
