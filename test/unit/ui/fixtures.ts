// Event builders and frame normalisation shared by the UI tests.
import type { DroverEvent, EventOf } from '../../../lib/report/events.ts';
import { SPINNER_FRAMES } from '../../../ui/format.ts';

export const T0 = 1_700_000_000_000;

type Without<T> = Omit<T, 'type' | 'ts'> & { ts?: number };

/** Builders that stamp each event `ts` (default: T0 + the given offset in seconds). */
export const ev = {
  runStart: (hosts: string[], extra: Partial<Without<EventOf<'run_start'>>> = {}): DroverEvent => ({
    type: 'run_start',
    ts: T0,
    playbook: 'site.ts',
    check: false,
    diff: false,
    hosts,
    forks: 10,
    ...extra,
  }),
  playStart: (play: string, hosts: string[], at = 0): DroverEvent => ({ type: 'play_start', ts: T0 + at * 1000, play, hosts, strategy: 'linear' }),
  hostState: (host: string, state: EventOf<'host_state'>['state'], at = 0, msg?: string): DroverEvent =>
    msg === undefined ? { type: 'host_state', ts: T0 + at * 1000, host, state } : { type: 'host_state', ts: T0 + at * 1000, host, state, msg },
  taskStart: (host: string, task: string, at = 0, extra: Partial<Without<EventOf<'task_start'>>> = {}): DroverEvent => ({
    type: 'task_start',
    ts: T0 + at * 1000,
    host,
    play: 'site',
    role: 'base',
    task,
    ...extra,
  }),
  taskEnd: (
    host: string,
    task: string,
    status: EventOf<'task_end'>['status'],
    at = 0,
    extra: Partial<Without<EventOf<'task_end'>>> = {},
  ): DroverEvent => ({
    type: 'task_end',
    ts: T0 + at * 1000,
    host,
    play: 'site',
    role: 'base',
    task,
    status,
    durationMs: 1200,
    ...extra,
  }),
  notify: (host: string, handler: string, by: string, at = 0): DroverEvent => ({ type: 'handler_notify', ts: T0 + at * 1000, host, handler, by }),
  log: (level: EventOf<'log'>['level'], msg: string, host?: string): DroverEvent =>
    host === undefined ? { type: 'log', ts: T0, level, msg } : { type: 'log', ts: T0, level, msg, host },
  recap: (hosts: EventOf<'recap'>['hosts'], extra: Partial<Without<EventOf<'recap'>>> = {}): DroverEvent => ({
    type: 'recap',
    ts: T0 + 60_000,
    hosts,
    durationMs: 61_000,
    exitCode: 0,
    ...extra,
  }),
};

export function recapRow(over: Partial<EventOf<'recap'>['hosts'][string]> = {}): EventOf<'recap'>['hosts'][string] {
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, durationMs: 1000, ...over };
}

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const SPIN = new RegExp(`[${SPINNER_FRAMES.join('')}]`, 'g');

/** What a person reads, stable across runs: no colors, digits as #, spinners as *. */
export function normalise(frame: string | undefined): string {
  return (frame ?? '')
    .replace(ANSI, '')
    .replace(SPIN, '*')
    .replace(/\d/g, '#')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

/** Colors off, only text: for assertions on exact numbers. */
export function plain(frame: string | undefined): string {
  return (frame ?? '').replace(ANSI, '');
}
