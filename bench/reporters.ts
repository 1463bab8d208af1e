// Part "reporters" (npm run bench -- reporters): the reporting cost: the event stream of a 20-task no-change run on N hosts, replayed into
// each consumer (JSON lines, plain lines, the Ink UI on a fake 120x40 terminal) at the pace of
// a real run, measuring the CPU each one adds to the controller. This is what a user pays for
// watching a run; the scale part's Drover figures use --json.
import { Writable } from 'node:stream';
import type { DroverEvent, EventSink, TaskStatus } from '../lib/report/events.ts';
import { JsonReporter } from '../lib/report/json.ts';
import { PlainReporter } from '../lib/report/plain.ts';
import type { EventInput } from '../lib/run/runner.ts';
import { createTui } from '../ui/index.ts';
import { fmtS, machine, median, table } from './lib/report.ts';

export interface ReportersBenchOptions {
  hosts: number[];
  tasks: number;
  /** Replayed run length per size, ms (the events are spread over it like a real run's). */
  durationMs: number;
  runs: number;
  log: (msg: string) => void;
}

class Sink extends Writable {
  bytes = 0;
  isTTY = true;
  columns = 120;
  rows = 40;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.bytes += chunk.length;
    cb();
  }
}

/** The events of a linear no-change run: facts then `tasks` steps, every host ok. */
export function* runEvents(hosts: number, tasks: number): Generator<{ ev: EventInput; step: number }> {
  const names = Array.from({ length: hosts }, (_, i) => `h${String(i + 1).padStart(4, '0')}`);
  const play = 'checks20';
  yield { ev: { type: 'run_start', playbook: 'checks20', check: false, diff: false, hosts: names, forks: hosts }, step: 0 };
  yield { ev: { type: 'play_start', play, hosts: names, strategy: 'linear' }, step: 0 };
  for (const host of names) yield { ev: { type: 'host_state', host, state: 'waiting' }, step: 0 };
  for (const host of names) yield { ev: { type: 'host_state', host, state: 'connecting' }, step: 0 };
  for (let t = 0; t <= tasks; t++) {
    const task = t === 0 ? 'Gathering Facts' : `task ${t}`;
    const role = t === 0 ? undefined : 'checks20';
    for (const host of names) yield { ev: { type: 'task_start', host, play, task, ...(role ? { role } : {}) }, step: t + 1 };
    for (const host of names) {
      const status: TaskStatus = 'ok';
      yield { ev: { type: 'task_end', host, play, task, ...(role ? { role } : {}), status, durationMs: 40, msg: `${task} is up to date` }, step: t + 1 };
      if (t === 0) yield { ev: { type: 'host_state', host, state: 'running' }, step: t + 1 };
    }
  }
  for (const host of names) yield { ev: { type: 'host_state', host, state: 'done' }, step: tasks + 2 };
  yield { ev: { type: 'play_end', play, durationMs: 1000 }, step: tasks + 2 };
  const recap = Object.fromEntries(names.map((h) => [h, { ok: tasks + 1, changed: 0, failed: 0, skipped: 0, unreachable: 0, durationMs: 1000 }]));
  yield { ev: { type: 'recap', hosts: recap, durationMs: 1000, exitCode: 0 }, step: tasks + 2 };
}

type Kind = 'json' | 'plain' | 'tui';

async function replay(kind: Kind, hosts: number, o: ReportersBenchOptions): Promise<{ cpuMs: number; bytes: number; events: number }> {
  const out = new Sink();
  let sink: EventSink & { close?: () => Promise<void> | void; ready?: Promise<void> };
  if (kind === 'json') sink = new JsonReporter({ out });
  else if (kind === 'plain') sink = new PlainReporter({ out });
  else {
    const tui = createTui({ stdout: out as unknown as NodeJS.WriteStream, verbose: false, diff: false, onAbort: () => undefined, patchConsole: false });
    await tui.ready;
    sink = tui;
  }
  const steps = o.tasks + 3;
  const perStep = o.durationMs / steps;
  const c0 = process.cpuUsage();
  const t0 = Date.now();
  let events = 0;
  let current = 0;
  for (const { ev, step } of runEvents(hosts, o.tasks)) {
    if (step !== current) {
      current = step;
      // Wait for this step's slot: the UI's timers (throttle, spinner) run as in a real run.
      const due = t0 + step * perStep;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    sink.emit({ ts: Date.now(), ...ev } as DroverEvent);
    events++;
  }
  await sink.close?.();
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000, bytes: out.bytes, events };
}

export async function runReportersBench(o: ReportersBenchOptions): Promise<string> {
  const rows: string[][] = [];
  for (const hosts of o.hosts) {
    for (const kind of ['json', 'plain', 'tui'] as const) {
      const cpu: number[] = [];
      let last = { bytes: 0, events: 0 };
      for (let r = 0; r < o.runs; r++) {
        const res = await replay(kind, hosts, o);
        cpu.push(res.cpuMs);
        last = res;
      }
      const med = median(cpu);
      o.log(`reporters: ${hosts} hosts, ${kind}: ${fmtS(med)} cpu over a ${fmtS(o.durationMs)} run`);
      rows.push([String(hosts), kind, String(last.events), fmtS(med), `${((med / o.durationMs) * 100).toFixed(1)}%`, `${((med * 1000) / last.events).toFixed(1)} µs`, `${(last.bytes / 1024).toFixed(0)} KiB`]);
    }
  }
  return [
    '## Reporting cost: the same event stream into each reporter',
    '',
    `Machine: ${machine()}`,
    '',
    table(['hosts', 'reporter', 'events', 'CPU, median', 'of one core', 'per event', 'output'], rows),
    '',
    `A ${o.tasks}-task no-change run's events (facts, then every task ok on every host) replayed over ${fmtS(o.durationMs)}, as a`,
    'run spreads them, into the JSON reporter (--json), the plain reporter (non-TTY) and the Ink UI on a fake 120x40 TTY',
    `(its default 80 ms render throttle and spinner tick included). CPU is the controller process's, median of ${o.runs} runs.`,
  ].join('\n');
}
