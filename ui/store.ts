// Holds the view model and tells React about it at most once per `throttleMs`: events are
// folded into the state as they arrive (cheap), but a 100-host run emitting hundreds of
// events a second re-renders only a few times a second.
//
// In the runner the UI has a process of its own (ui/remote/) and is paced by everything that
// process spends (paceBy 'process'). In-process (createTui used directly: tests, ui/demo.ts)
// rendering shares the caller's thread, and every millisecond Ink spends drawing delays it by
// about as much. A frame's cost grows with what is on screen (Ink
// rebuilds and tokenizes the whole live area each time; measured on 2 shared cores: ~20 ms
// CPU for 36 rows, ~100 ms when it also prints ~50 finished-task lines, as <Static> makes Ink
// draw twice), so the fixed 80 ms pace that is cheap for 12 hosts took a 100-host run a
// quarter of a core. Publishing is therefore also paced by its measured cost: the CPU time
// from publishing until React has rendered and Ink has drawn (a microtask later) is kept under
// `budget` of the wall clock, with at least one frame per `maxIntervalMs`. CPU time, not wall
// time: on a loaded machine a frame's wall time counts the waits for a core too.
import { initialState, reduce, type UiInput, type UiState } from './state.ts';

export interface UiStore {
  /** Fold one event or action into the state; a render follows within throttleMs. */
  dispatch(input: UiInput): void;
  /** The latest state (possibly not rendered yet). */
  getState(): UiState;
  /** The state React renders: the latest one as of the last flush. */
  getSnapshot(): UiState;
  subscribe(listener: () => void): () => void;
  /** Publish the latest state now (keyboard feedback, final frame). */
  flush(): void;
  /** Cancel any pending timer (on unmount). */
  dispose(): void;
  /** States published so far (each one a frame, unless nothing on screen changed). */
  published(): number;
}

export interface UiStoreOptions {
  /** Minimum ms between renders; 0 renders on every dispatch (tests). Default 80. */
  throttleMs?: number;
  /** Largest share of wall time spent publishing (rendering); default 0.05. Ignored when throttleMs is 0. */
  budget?: number;
  /** Longest wait between renders however costly they are, in ms (default 1000). */
  maxIntervalMs?: number;
  initial?: UiState;
  /** Monotonic wall clock in ms (tests). */
  clock?: () => number;
  /** CPU time of this process in ms (tests). */
  cpuClock?: () => number;
  /**
   * What counts against the budget. 'frame' (default): the CPU from publishing until React and
   * Ink have drawn, for a UI sharing its thread with the engine. 'process': all CPU the process
   * used since the previous publish, for a process that does nothing but draw (ui/remote):
   * folding events and printing the scroll-back count too, and nothing escapes the measure.
   */
  paceBy?: 'frame' | 'process';
}

export const DEFAULT_THROTTLE_MS = 80;
export const DEFAULT_BUDGET = 0.05;
const DEFAULT_MAX_INTERVAL_MS = 1000;
// Weight of the newest frame in the cost average: one slow frame (GC, a busy machine) slows
// the pace a little, a run of them a lot.
const COST_SMOOTHING = 0.3;

function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function createUiStore(opts: UiStoreOptions = {}): UiStore {
  const throttleMs = opts.throttleMs ?? DEFAULT_THROTTLE_MS;
  const budget = opts.budget ?? DEFAULT_BUDGET;
  const maxIntervalMs = Math.max(throttleMs, opts.maxIntervalMs ?? DEFAULT_MAX_INTERVAL_MS);
  const clock = opts.clock ?? (() => performance.now());
  const cpuClock = opts.cpuClock ?? processCpuMs;
  const paceBy = opts.paceBy ?? 'frame';
  let publishes = 0;
  let lastCpu: number | undefined;
  let state = opts.initial ?? initialState();
  let published = state;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const listeners = new Set<() => void>();
  /** Smoothed ms one publish costs, and when the last one started. */
  let cost = 0;
  let lastAt: number | undefined;

  const flush = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (published === state) return;
    published = state;
    publishes++;
    lastAt = clock();
    const cpu = cpuClock();
    if (paceBy === 'process') {
      if (lastCpu !== undefined) cost += COST_SMOOTHING * (cpu - lastCpu - cost);
      lastCpu = cpu;
      for (const l of listeners) l();
      return;
    }
    for (const l of listeners) l();
    // React renders (and Ink draws) on a microtask the listeners queued; this one runs after it.
    queueMicrotask(() => {
      cost += COST_SMOOTHING * (cpuClock() - cpu - cost);
    });
  };

  /** How long to wait before publishing: the throttle, or longer when frames are costly. */
  const delay = (): number => {
    const interval = Math.min(maxIntervalMs, Math.max(throttleMs, budget > 0 ? cost / budget : 0));
    const since = lastAt === undefined ? interval : clock() - lastAt;
    // At least throttleMs from now, so a burst of events is still folded into one frame.
    return Math.max(throttleMs, interval - since);
  };

  return {
    dispatch(input) {
      const next = reduce(state, input);
      if (next === state) return;
      state = next;
      if (throttleMs <= 0) flush();
      else timer ??= setTimeout(flush, delay());
    },
    getState: () => state,
    getSnapshot: () => published,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    flush,
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
    published: () => publishes,
  };
}
