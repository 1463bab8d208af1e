// Starting the UI process in a test: its stdout and stderr piped and collected, killed after.
import { vi } from 'vitest';
import { startUiProcess, type UiProcess, type UiProcessStartOptions } from '../../../ui/remote/parent.ts';
import { plain } from './fixtures.ts';

const started: UiProcess[] = [];

/** The UI process with test defaults (no throttle, no clock tick), plus what it printed. */
export async function startTestUi(over: Partial<UiProcessStartOptions> = {}) {
  const ui = await startUiProcess({
    verbose: false,
    diff: false,
    onAbort: vi.fn(),
    throttleMs: 0,
    tickMs: 0,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...over,
  });
  started.push(ui);
  let out = '';
  let err = '';
  ui.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  ui.child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { ui, out: () => plain(out), err: () => err };
}

/** For afterEach: stop every UI process a test started. */
export async function stopTestUis(): Promise<void> {
  for (const p of started.splice(0)) {
    p.child.kill('SIGKILL');
    await Promise.resolve(p.close()).catch(() => {});
  }
}
