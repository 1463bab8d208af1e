import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../../lib/transport/semaphore.ts';

describe('Semaphore', () => {
  it('never lets more than limit run at once, and runs everyone in FIFO order', async () => {
    const sem = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sem.use(async () => {
          started.push(i);
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 2));
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(started).toEqual([...Array(20).keys()]);
    expect(sem.inUse).toBe(0);
    expect(sem.waiting).toBe(0);
  });

  it('releases on failure, and a double release does not free two slots', async () => {
    const sem = new Semaphore(1);
    await expect(sem.use(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const release = await sem.acquire();
    release();
    release();
    expect(sem.inUse).toBe(0);
    const r1 = await sem.acquire();
    let second = false;
    const p = sem.acquire().then((r) => {
      second = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(second).toBe(false);
    r1();
    (await p)();
    expect(second).toBe(true);
  });

  it('rejects a non-positive limit', () => {
    expect(() => new Semaphore(0)).toThrow();
  });
});
