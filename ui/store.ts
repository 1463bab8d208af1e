// Holds the view model and tells React about it at most once per `throttleMs`: events are
// folded into the state as they arrive (cheap), but a 100-host run emitting hundreds of
// events a second re-renders only a few times a second.
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
}

export interface UiStoreOptions {
  /** Minimum ms between renders; 0 renders on every dispatch (tests). Default 80. */
  throttleMs?: number;
  initial?: UiState;
}

export const DEFAULT_THROTTLE_MS = 80;

export function createUiStore(opts: UiStoreOptions = {}): UiStore {
  const throttleMs = opts.throttleMs ?? DEFAULT_THROTTLE_MS;
  let state = opts.initial ?? initialState();
  let published = state;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const listeners = new Set<() => void>();

  const flush = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (published === state) return;
    published = state;
    for (const l of listeners) l();
  };

  return {
    dispatch(input) {
      const next = reduce(state, input);
      if (next === state) return;
      state = next;
      if (throttleMs <= 0) flush();
      else timer ??= setTimeout(flush, throttleMs);
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
  };
}
