// Entry point for the runner: an EventSink that draws the Ink UI. Chosen by the runner only
// when stdout is a TTY and CI is unset; the plain and JSON reporters cover everything else.
//
// React and Ink are loaded on the first createTui() call, not on import: a non-TTY run never
// pays for them, and React can be told to load its production build first (below).
import type { DroverEvent, EventSink } from '../lib/report/events.ts';
import { redactDeep } from '../lib/secrets/registry.ts';
import { initialState } from './state.ts';
import { createUiStore, DEFAULT_THROTTLE_MS } from './store.ts';
import { loadInk } from './load-ink.ts';

export interface TuiOptions {
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  /** Show ok/skipped task lines for every host (v toggles it per host). */
  verbose: boolean;
  /** Show diffs of changed tasks. */
  diff: boolean;
  /** Called once, when the user presses q or Ctrl-C; the runner stops gracefully. */
  onAbort: () => void;
  /** Lines for host rows, the "... and N more" line included; default from terminal height. */
  maxRows?: number;
  /** Minimum ms between renders (default 80); 0 renders every event (tests). */
  throttleMs?: number;
  /** Spinner/elapsed clock tick in ms (default 100); 0 disables (tests). */
  tickMs?: number;
  /** Write every frame in full instead of redrawing in place (tests). */
  debug?: boolean;
  /** Route stray console.* output above the live area (default true, off in debug). */
  patchConsole?: boolean;
  /** What the render budget counts (ui/store.ts): 'process' when this process only draws. */
  paceBy?: 'frame' | 'process';
  /** Longest wait between frames however costly they are (ui/store.ts; default 1000 ms). */
  maxIntervalMs?: number;
}

export type Tui = EventSink & {
  /** Draw the final frame (the recap) and unmount. Safe to call twice. */
  close(): Promise<void>;
  /** Settles when the UI has unmounted (after close()). */
  done: Promise<void>;
  /** Settles once the UI is mounted and drawing (events before it are kept, not lost). */
  ready: Promise<void>;
  /** What drawing has cost so far. */
  stats(): DrawStats;
};

interface Mounted {
  unmount(): void;
  exited: Promise<void>;
}

/** What drawing has cost so far (bench/tui.ts reports it). */
export interface DrawStats {
  /** States the store published. */
  published: number;
  /** Frames Ink rendered (layout + output), and the ms they took. */
  renders: number;
  renderMs: number;
}

async function mount(store: ReturnType<typeof createUiStore>, opts: TuiOptions, stats: DrawStats): Promise<Mounted> {
  // React picks its build when first loaded; without NODE_ENV it takes the development one,
  // several times slower to render (owner stacks and timings for every element). A playbook
  // run is not a React dev session. An explicit NODE_ENV (vitest sets "test") is kept.
  process.env.NODE_ENV ??= 'production';
  // Ink first: loadInk() sets up its cheaper import before anything (App.tsx too) imports it.
  const { render } = await loadInk();
  const [react, { App }] = await Promise.all([import('react'), import('./components/App.tsx')]);
  // Bundled (ui/remote/child-bundle.ts), React's CommonJS comes as the default export only.
  const createElement = react.createElement ?? react.default.createElement;
  const debug = opts.debug ?? false;
  const instance = render(createElement(App, { store, onAbort: opts.onAbort, maxRows: opts.maxRows, tickMs: opts.tickMs, inlineScrollback: debug }), {
    // Only when given: an explicit undefined would replace Ink's process.stdout/stdin default.
    ...(opts.stdout ? { stdout: opts.stdout } : {}),
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
    // Ctrl-C is ours: it asks the runner to stop gracefully instead of killing the app.
    exitOnCtrlC: false,
    // Stray console output goes above the live area instead of tearing it.
    patchConsole: opts.patchConsole ?? !debug,
    debug,
    onRender: ({ renderTime }) => {
      stats.renders++;
      stats.renderMs += renderTime;
    },
  });
  const exited = instance.waitUntilExit().then(
    () => undefined,
    () => undefined,
  );
  return { unmount: () => instance.unmount(), exited };
}

export function createTui(opts: TuiOptions): Tui {
  const store = createUiStore({
    throttleMs: opts.throttleMs ?? DEFAULT_THROTTLE_MS,
    ...(opts.paceBy ? { paceBy: opts.paceBy } : {}),
    ...(opts.maxIntervalMs !== undefined ? { maxIntervalMs: opts.maxIntervalMs } : {}),
    initial: initialState({ verbose: opts.verbose, diff: opts.diff }),
  });
  let closed = false;
  const stats: DrawStats = { published: 0, renders: 0, renderMs: 0 };
  const mounted = mount(store, opts, stats);
  const ready = mounted.then(() => undefined);
  const done = mounted.then((m) => m.exited);
  // If the UI cannot load, the caller learns it from ready/close(); never an unhandled rejection.
  ready.catch(() => {});
  done.catch(() => {});
  return {
    emit(event: DroverEvent) {
      if (closed) return;
      // Reporters redact before printing; the UI is one of them.
      store.dispatch(redactDeep(event));
    },
    async close() {
      if (closed) return done;
      closed = true;
      const m = await mounted;
      store.flush();
      store.dispose();
      // React commits the flushed state on a microtask: let it land so the final frame
      // (the recap) is drawn before unmounting.
      await new Promise<void>((resolve) => setImmediate(resolve));
      m.unmount();
      return done;
    },
    done,
    ready,
    stats: () => ({ ...stats, published: store.published() }),
  };
}
