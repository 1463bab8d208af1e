import { afterEach, describe, expect, it, vi } from 'vitest';
import { createUiStore } from '../../../ui/store.ts';
import { ev } from './fixtures.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('ui store: throttled publishing', () => {
  it('folds every event at once but publishes at most once per throttle window', () => {
    vi.useFakeTimers();
    const store = createUiStore({ throttleMs: 80 });
    const seen: number[] = [];
    store.subscribe(() => seen.push(store.getSnapshot().hosts.h0?.counts.ok ?? -1));
    store.dispatch(ev.runStart(['h0']));
    for (let i = 0; i < 500; i++) store.dispatch(ev.taskEnd('h0', `t${i}`, 'ok', 1));
    // Folded already, not yet published.
    expect(store.getState().hosts.h0?.counts.ok).toBe(500);
    expect(store.getSnapshot().hosts.h0).toBeUndefined();
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(80);
    expect(seen).toEqual([500]);
    for (let i = 0; i < 10; i++) store.dispatch(ev.taskEnd('h0', `u${i}`, 'ok', 2));
    vi.advanceTimersByTime(79);
    expect(seen).toEqual([500]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([500, 510]);
  });

  it('flush publishes immediately and cancels the pending timer', () => {
    vi.useFakeTimers();
    const store = createUiStore({ throttleMs: 80 });
    let calls = 0;
    store.subscribe(() => calls++);
    store.dispatch(ev.runStart(['a']));
    store.flush();
    expect(calls).toBe(1);
    expect(store.getSnapshot().order).toEqual(['a']);
    vi.advanceTimersByTime(500);
    expect(calls).toBe(1);
    // Nothing new: no publish.
    store.flush();
    expect(calls).toBe(1);
  });

  it('with throttleMs 0 publishes on every dispatch that changes something', () => {
    const store = createUiStore({ throttleMs: 0 });
    let calls = 0;
    const off = store.subscribe(() => calls++);
    store.dispatch(ev.runStart(['a']));
    store.dispatch({ type: 'ui:select', delta: -1 }); // no change
    store.dispatch({ type: 'ui:abort' });
    expect(calls).toBe(2);
    off();
    store.dispatch(ev.taskStart('a', 'x', 1));
    expect(calls).toBe(2);
  });
});
