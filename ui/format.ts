// Small text helpers shared by the components: durations, glyphs and colors per state.
import type { TaskStatus } from '../lib/report/events.ts';
import type { HostPhase } from './state.ts';

export const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;
const SPINNER_STEP_MS = 80;

/** The spinner glyph for a clock value: every running row turns in step. */
export function spinnerGlyph(now: number): string {
  return SPINNER_FRAMES[Math.floor(now / SPINNER_STEP_MS) % SPINNER_FRAMES.length] ?? SPINNER_FRAMES[0];
}

/** 350ms, 4.2s, 42s, 3m07s, 1h02m, 2d03h: short and fixed-ish width. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  const totalS = Math.floor(s);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m${String(totalS % 60).padStart(2, '0')}s`;
  if (totalS < 86_400) return `${Math.floor(totalS / 3600)}h${String(Math.floor((totalS % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(totalS / 86_400)}d${String(Math.floor((totalS % 86_400) / 3600)).padStart(2, '0')}h`;
}

export type Color = 'gray' | 'cyan' | 'blue' | 'green' | 'yellow' | 'red' | 'magenta' | 'white';

export const PHASE_COLOR: Readonly<Record<HostPhase, Color>> = {
  waiting: 'gray',
  connecting: 'cyan',
  running: 'blue',
  ok: 'green',
  changed: 'yellow',
  failed: 'red',
  unreachable: 'magenta',
};

/** Glyph for a host state; running states use the spinner instead. */
export const PHASE_ICON: Readonly<Record<HostPhase, string>> = {
  waiting: '·',
  connecting: '…',
  running: '▶',
  ok: '✓',
  changed: '●',
  failed: '✗',
  unreachable: '!',
};

export const STATUS_COLOR: Readonly<Record<TaskStatus, Color>> = {
  ok: 'green',
  changed: 'yellow',
  skipped: 'cyan',
  failed: 'red',
  unreachable: 'magenta',
};

/** "role › task", or "handler: task" for handler runs. */
export function taskLabel(t: { role?: string; task?: string; handler?: boolean }): string {
  if (t.task === undefined) return '';
  const name = t.handler ? `handler: ${t.task}` : t.task;
  return t.role ? `${t.role} › ${name}` : name;
}

/** The last `max` non-empty lines of a block, with how many were left out. */
export function tailLines(text: string, max: number): { lines: string[]; omitted: number } {
  const lines = text.replace(/\s+$/, '').split('\n');
  if (lines.length <= max) return { lines, omitted: 0 };
  return { lines: lines.slice(-max), omitted: lines.length - max };
}
