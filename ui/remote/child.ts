// The UI process: draws a run whose events arrive from the playbook process over IPC (see
// parent.ts for why it is a process of its own). It owns the terminal while it runs: stdout for
// the frames, stdin for the keys.
import { writeFileSync } from 'node:fs';
import { createTui } from '../index.ts';
import { type FromUi, parseToUi, parseUiProcessOptions } from './protocol.ts';

const send = (m: FromUi) => {
  if (process.connected) process.send?.(m);
};

const parsed = parseUiProcessOptions(process.argv[2]);
if (!parsed.ok) {
  process.stderr.write(`drover UI: ${parsed.error}\n`);
  process.exit(64);
}
const opts = parsed.value;

// Ctrl-C reaches us as a key (raw mode) and is sent as 'abort'. A SIGINT from elsewhere (kill,
// a terminal not in raw mode) reaches the playbook process too, which decides; we keep drawing
// until it says close, so the recap still shows.
process.on('SIGINT', () => {});

// This process only draws: everything it spends counts against the render budget.
const tui = createTui({ ...opts, paceBy: 'process', onAbort: () => send({ t: 'abort' }) });
const startedAt = performance.now();

/** For bench/tui.ts: what drawing the run cost, written where DROVER_UI_STATS says. */
function writeStats(): void {
  const path = process.env.DROVER_UI_STATS;
  if (!path) return;
  const cpu = process.cpuUsage();
  writeFileSync(path, JSON.stringify({ ...tui.stats(), cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - startedAt, uptimeMs: process.uptime() * 1000 }));
}

let finishing: Promise<void> | undefined;
function finish(code: number): Promise<void> {
  finishing ??= Promise.resolve(tui.close()).then(
    () => {
      writeStats();
      if (process.connected) process.disconnect();
      // Frames are written synchronously to a terminal, a pipe or a file: nothing is lost.
      process.exit(code);
    },
    () => process.exit(1),
  );
  return finishing ?? Promise.resolve();
}

tui.ready.then(
  () => send({ t: 'ready' }),
  (e: unknown) => {
    process.stderr.write(`drover UI: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);

process.on('message', (raw) => {
  const m = parseToUi(raw);
  if (!m.ok) {
    process.stderr.write(`drover UI: bad message from the playbook process: ${m.error}\n`);
    return;
  }
  switch (m.value.t) {
    case 'events':
      for (const e of m.value.events) tui.emit(e);
      break;
    case 'console':
      // Ink patches console in this process: the line goes above the live area.
      console[m.value.level](m.value.text);
      break;
    case 'close':
      void finish(0);
      break;
  }
});

// The playbook process went away without saying close (killed, or exited on a second Ctrl-C):
// put the terminal back and go.
process.on('disconnect', () => void finish(0));
