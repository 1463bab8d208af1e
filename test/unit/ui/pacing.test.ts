// Findings from running the UI in a real terminal (test/lab/tui-tmux.test.ts, bench/tui.ts):
// rendering is paced by its measured cost, and a failed host's message is printed once.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { initialState, reduce, type UiInput } from '../../../ui/state.ts';
import { createUiStore } from '../../../ui/store.ts';
import { ev } from './fixtures.ts';

afterEach(() => {
  vi.useRealTimers();
});

/** Dispatch a clock tick every 100 ms for `seconds`; each publish costs `frameMs` of (simulated) clock. */
async function simulate(frameMs: number, seconds: number, opts: { budget?: number; maxIntervalMs?: number } = {}) {
  vi.useFakeTimers();
  let spent = 0;
  const clock = () => Date.now() + spent;
  const store = createUiStore({ throttleMs: 80, clock, cpuClock: clock, ...opts });
  const publishedAt: number[] = [];
  store.subscribe(() => {
    publishedAt.push(clock());
    spent += frameMs;
  });
  store.dispatch(ev.runStart(['a']));
  for (let t = 0; t < seconds * 10; t++) {
    // Async: the cost is read on a microtask after each publish, as React renders on one.
    await vi.advanceTimersByTimeAsync(100);
    store.dispatch({ type: 'ui:tick', now: Date.now() + t });
  }
  store.dispose();
  const gaps = publishedAt.slice(1).map((at, i) => at - publishedAt[i]!);
  return { frames: publishedAt.length, gaps, busy: (publishedAt.length * frameMs) / (seconds * 1000 + spent) };
}

describe('ui store: pacing by render cost', () => {
  it('keeps the throttle pace when frames are cheap', async () => {
    const { frames, gaps } = await simulate(0, 20);
    // One frame per 100 ms tick.
    expect(frames).toBeGreaterThanOrEqual(195);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(200);
  });

  it('slows down when frames are costly, keeping rendering under its budget', async () => {
    // 20 ms frames (36 rows on a busy machine) at 10 per second would take 20% of the thread.
    const { frames, gaps, busy } = await simulate(20, 20, { budget: 0.05 });
    expect(busy).toBeLessThanOrEqual(0.06);
    // ~20 / 0.05 = 400 ms apart once the cost average has settled; still a live screen.
    expect(frames).toBeGreaterThanOrEqual(40);
    expect(gaps.slice(10).every((g) => g >= 380 && g <= 520)).toBe(true);
  });

  it('never waits longer than maxIntervalMs, however slow a frame is', async () => {
    const { gaps } = await simulate(500, 20, { budget: 0.05, maxIntervalMs: 1000 });
    expect(gaps.length).toBeGreaterThan(5);
    expect(Math.max(...gaps.slice(5))).toBeLessThanOrEqual(1100 + 500);
  });
});

describe('ui reducer: a failed host is explained once', () => {
  const fold = (inputs: UiInput[]) => inputs.reduce(reduce, initialState());
  const lines = (inputs: UiInput[]) => fold(inputs).staticItems.map((i) => (i.kind === 'host' ? `host:${i.host}:${i.msg}` : i.kind));

  it('prints no host line when the runner repeats the failed task message', () => {
    const msg = 'exit 3 failed (rc 3): deliberate failure';
    expect(
      lines([ev.runStart(['w2']), ev.taskStart('w2', 'fail', 1), ev.taskEnd('w2', 'fail', 'failed', 2, { msg, stderr: 'deliberate failure\n' }), ev.hostState('w2', 'failed', 2, msg)]),
    ).toEqual(['task']);
  });

  it('still prints a host line with a reason of its own', () => {
    expect(
      lines([
        ev.runStart(['w2']),
        ev.taskStart('w2', 'fail', 1),
        ev.taskEnd('w2', 'fail', 'failed', 2, { msg: 'rc 3' }),
        ev.hostState('w2', 'failed', 2, 'max_fail_percentage 10% exceeded'),
      ]),
    ).toEqual(['task', 'host:w2:max_fail_percentage 10% exceeded']);
    expect(lines([ev.runStart(['m1']), ev.hostState('m1', 'failed', 1, 'fact gathering failed')])).toEqual(['host:m1:fact gathering failed']);
  });
});
