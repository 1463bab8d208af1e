// The whole screen: finished lines written once above (use-scrollback.tsx: they scroll back),
// and below them the live area (header, host rows, verbose panel, keys) until the recap arrives.
import { useEffect, useState, useSyncExternalStore } from 'react';
import { Box, Text, useInput, useStdin, useStdout } from 'ink';
import { hostNameWidth, isHostVerbose, selectedHost } from '../state.ts';
import type { UiStore } from '../store.ts';
import { Header } from './Header.tsx';
import { HostTable } from './HostTable.tsx';
import { DETAIL_HEIGHT, HostDetail } from './HostDetail.tsx';
import { Footer } from './Footer.tsx';
import { useScrollback } from './use-scrollback.tsx';
import { scrollbackLines } from '../scrollback.ts';
import { wantsColors } from '../style.ts';

export interface AppProps {
  store: UiStore;
  /** Called once, on the first q or Ctrl-C. */
  onAbort: () => void;
  /** Lines for host rows (the "... and N more" line included); default from the terminal. */
  maxRows?: number;
  /** Clock tick for spinner and elapsed times; 0 disables (tests). Default 100 ms. */
  tickMs?: number;
  clock?: () => number;
  /**
   * Draw the scroll-back inline, above the live area, in every frame instead of writing it out
   * once: Ink's debug mode (tests, ink-testing-library) writes whole frames and keeps no
   * last frame to re-print under a write().
   */
  inlineScrollback?: boolean;
}

export const MIN_ROWS = 5;
// Host rows shown at most, however tall the terminal: running, failed and selected hosts keep
// theirs (at most forks are running), the rest is one summary line. Each row is redrawn every
// frame, so a 100-host run on a tall terminal would pay for rows nobody needs to watch.
export const MAX_LIVE_ROWS = 24;
const DEFAULT_TERMINAL_ROWS = 24;
// Header, column titles, footer and the line Ink leaves under the frame.
const CHROME_LINES = 4;

function useTerminalRows(): number {
  const { stdout } = useStdout();
  const [rows, setRows] = useState(stdout.rows || DEFAULT_TERMINAL_ROWS);
  useEffect(() => {
    const onResize = () => setRows(stdout.rows || DEFAULT_TERMINAL_ROWS);
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return rows;
}

function useTick(store: UiStore, tickMs: number, clock: () => number, active: boolean): void {
  useEffect(() => {
    if (!active || tickMs <= 0) return;
    store.dispatch({ type: 'ui:tick', now: clock() });
    const timer = setInterval(() => store.dispatch({ type: 'ui:tick', now: clock() }), tickMs);
    // The run, not the spinner, decides when the process may exit.
    timer.unref?.();
    return () => clearInterval(timer);
  }, [store, tickMs, clock, active]);
}

export function App({ store, onAbort, maxRows, tickMs = 100, clock = Date.now, inlineScrollback = false }: AppProps) {
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const { isRawModeSupported } = useStdin();
  const terminalRows = useTerminalRows();
  const { stdout } = useStdout();
  const finished = state.recap !== undefined;
  const keys = isRawModeSupported === true && !finished;
  useTick(store, tickMs, clock, !finished);
  useScrollback(store, !inlineScrollback);

  useInput(
    (input, key) => {
      if (input === 'q' || (key.ctrl && input === 'c')) {
        // The latest state, not the rendered one: two quick presses of q still abort once;
        // Ctrl-C while stopping is the "stop now" of a second Ctrl-C (the playbook decides).
        if (store.getState().aborting) {
          if (key.ctrl && input === 'c') onAbort();
          return;
        }
        store.dispatch({ type: 'ui:abort' });
        store.flush();
        onAbort();
      } else if (input === 'v') {
        store.dispatch({ type: 'ui:toggleVerbose' });
        store.flush();
      } else if (key.upArrow || input === 'k') {
        store.dispatch({ type: 'ui:select', delta: -1 });
        store.flush();
      } else if (key.downArrow || input === 'j') {
        store.dispatch({ type: 'ui:select', delta: 1 });
        store.flush();
      }
    },
    { isActive: keys },
  );

  const host = selectedHost(state);
  const hostView = host !== undefined ? state.hosts[host] : undefined;
  const detail = keys && hostView !== undefined && isHostVerbose(state, hostView.name) ? hostView : undefined;
  const rows = maxRows ?? Math.max(MIN_ROWS, Math.min(MAX_LIVE_ROWS, terminalRows - CHROME_LINES) - (detail ? DETAIL_HEIGHT : 0) - (state.aborting ? 1 : 0));

  // The scroll-back (finished lines) is written out by useScrollback; this is the live area.
  const live = finished ? null : (
    <Box flexDirection="column">
      <Header state={state} />
      {state.order.length > 0 && <HostTable state={state} maxRows={rows} showMarker={keys} />}
      {detail && <HostDetail host={detail} />}
      <Footer state={state} keys={keys} />
    </Box>
  );
  if (!inlineScrollback || state.staticItems.length === 0) return live;
  return (
    <>
      <Text>{scrollbackLines(state.staticItems, hostNameWidth(state), wantsColors(stdout)).join('\n')}</Text>
      {live}
    </>
  );
}
