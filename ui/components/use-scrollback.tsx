// Finished lines (play titles, changed and failed tasks, the recap) go to the scroll-back:
// formatted as strings (ui/scrollback.ts) and written once above the live area with Ink's
// write(), not kept in a <Static>. With <Static>, each frame that prints anything made Ink
// render and lay out the whole screen twice (its layout effect commits again) and measure and
// tokenize every new line character by character: measured on a 100-host run, most of the UI's
// cost. write() re-prints the last live frame, which Ink keeps as a string.
import { useEffect, useRef } from 'react';
import { useStdout } from 'ink';
import { hostNameWidth } from '../state.ts';
import type { UiStore } from '../store.ts';
import { scrollbackLines } from '../scrollback.ts';
import { wantsColors } from '../style.ts';

/** Write the store's new scroll-back items each time it publishes a state. */
export function useScrollback(store: UiStore, active = true): void {
  const { stdout, write } = useStdout();
  const written = useRef(0);
  useEffect(() => {
    if (!active) return;
    const colors = wantsColors(stdout);
    let scheduled = false;
    const drain = () => {
      scheduled = false;
      const state = store.getSnapshot();
      if (state.staticItems.length <= written.current) return;
      const fresh = state.staticItems.slice(written.current);
      written.current = state.staticItems.length;
      write(`${scrollbackLines(fresh, hostNameWidth(state), colors).join('\n')}\n`);
    };
    // Not inside the listener: that runs within the store's publish; a macrotask later React
    // has drawn the live frame, and write() re-prints that one under the new lines.
    const schedule = () => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(drain);
    };
    schedule();
    const unsubscribe = store.subscribe(schedule);
    return () => {
      unsubscribe();
      // The last items (the recap) are written even when unmounting right after publishing.
      drain();
    };
  }, [store, stdout, write, active]);
}
