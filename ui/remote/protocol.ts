// Messages between a playbook process and the UI process that draws its run (over Node's IPC
// channel). What the UI process reads is still input: a malformed message is named and
// dropped, not allowed to crash the screen half-drawn.
//
// Checked by hand, not with zod: this is on the UI process's start-up path, and zod is ~95
// modules to load under tsx (a few hundred ms of CPU on a core the playbook needs too).
import type { DroverEvent } from '../../lib/report/events.ts';

/** What the UI process needs to start; passed as its one argument (JSON). */
export interface UiProcessOptions {
  verbose: boolean;
  diff: boolean;
  maxRows?: number;
  throttleMs?: number;
  tickMs?: number;
  debug?: boolean;
}

/** Playbook -> UI. Events arrive already redacted: secrets never cross the pipe. */
export type ToUi =
  /** Events as the engine emitted them (typed on the sending side, not re-checked per event). */
  | { t: 'events'; events: DroverEvent[] }
  /** A console.* call in the playbook process, shown above the live area. */
  | { t: 'console'; level: ConsoleLevel; text: string }
  /** The run is over: draw the final frame, restore the terminal, exit. */
  | { t: 'close' };

/** UI -> playbook: Ink is loaded and drawing; the user pressed q or Ctrl-C. */
export type FromUi = { t: 'ready' } | { t: 'abort' };

export const CONSOLE_LEVELS = ['log', 'info', 'warn', 'error', 'debug'] as const;
export type ConsoleLevel = (typeof CONSOLE_LEVELS)[number];

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optNumber = (o: Record<string, unknown>, k: string) => o[k] === undefined || (typeof o[k] === 'number' && Number.isFinite(o[k]) && o[k] >= 0);

export function parseUiProcessOptions(text: string | undefined): Parsed<UiProcessOptions> {
  let v: unknown;
  try {
    v = JSON.parse(text ?? '');
  } catch {
    return { ok: false, error: 'options: not JSON' };
  }
  if (!isObject(v)) return { ok: false, error: 'options: not an object' };
  for (const k of ['verbose', 'diff'] as const) if (typeof v[k] !== 'boolean') return { ok: false, error: `options.${k}: expected a boolean` };
  if (v.debug !== undefined && typeof v.debug !== 'boolean') return { ok: false, error: 'options.debug: expected a boolean' };
  for (const k of ['maxRows', 'throttleMs', 'tickMs']) if (!optNumber(v, k)) return { ok: false, error: `options.${k}: expected a number >= 0` };
  return { ok: true, value: v as unknown as UiProcessOptions };
}

export function parseToUi(v: unknown): Parsed<ToUi> {
  if (!isObject(v)) return { ok: false, error: 'message: not an object' };
  switch (v.t) {
    case 'events':
      if (!Array.isArray(v.events) || !v.events.every((e) => isObject(e) && typeof e.type === 'string')) return { ok: false, error: 'events: expected an array of events' };
      return { ok: true, value: v as ToUi };
    case 'console':
      if (!CONSOLE_LEVELS.includes(v.level as ConsoleLevel) || typeof v.text !== 'string') return { ok: false, error: 'console: expected level and text' };
      return { ok: true, value: v as ToUi };
    case 'close':
      return { ok: true, value: { t: 'close' } };
    default:
      return { ok: false, error: `message: unknown type ${JSON.stringify(v.t)}` };
  }
}

export function parseFromUi(v: unknown): Parsed<FromUi> {
  if (isObject(v) && (v.t === 'ready' || v.t === 'abort')) return { ok: true, value: { t: v.t } };
  return { ok: false, error: 'message: expected ready or abort' };
}
