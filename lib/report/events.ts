// The typed event stream: the runner emits these, every reporter (plain, JSON, recap,
// Ink UI) consumes them. The schema is versioned: JSON lines carry `v`. Adding optional
// fields is compatible; renaming/removing bumps EVENT_SCHEMA_VERSION.
import { z } from 'zod';

export const EVENT_SCHEMA_VERSION = 1;

const Status = z.enum(['ok', 'changed', 'skipped', 'failed', 'unreachable']);
export type TaskStatus = z.infer<typeof Status>;

const DiffSchema = z.object({ path: z.string(), before: z.string(), after: z.string() });

const base = { ts: z.number().describe('ms since epoch') };

export const EventSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('run_start'), playbook: z.string(), check: z.boolean(), diff: z.boolean(), hosts: z.array(z.string()), forks: z.number() }),
  z.object({ ...base, type: z.literal('play_start'), play: z.string(), hosts: z.array(z.string()), strategy: z.enum(['linear', 'free']), serial: z.union([z.number(), z.string()]).optional() }),
  z.object({ ...base, type: z.literal('host_state'), host: z.string(), state: z.enum(['waiting', 'connecting', 'running', 'done', 'failed', 'unreachable']), msg: z.string().optional() }),
  z.object({ ...base, type: z.literal('task_start'), host: z.string(), play: z.string(), role: z.string().optional(), task: z.string(), handler: z.boolean().optional() }),
  z.object({
    ...base,
    type: z.literal('task_end'),
    host: z.string(),
    play: z.string(),
    role: z.string().optional(),
    task: z.string(),
    handler: z.boolean().optional(),
    status: Status,
    durationMs: z.number(),
    msg: z.string().optional(),
    stderr: z.string().optional(),
    stdout: z.string().optional(),
    rc: z.number().nullable().optional(),
    diff: z.array(DiffSchema).optional(),
    /** Retries used before the final result (retries/until). */
    attempts: z.number().optional(),
    /** Ran on another host on this host's behalf (delegate_to). */
    delegatedTo: z.string().optional(),
  }),
  z.object({ ...base, type: z.literal('handler_notify'), host: z.string(), handler: z.string(), by: z.string() }),
  z.object({ ...base, type: z.literal('log'), host: z.string().optional(), level: z.enum(['debug', 'info', 'warn', 'error']), msg: z.string() }),
  z.object({ ...base, type: z.literal('play_end'), play: z.string(), durationMs: z.number() }),
  z.object({
    ...base,
    type: z.literal('recap'),
    hosts: z.record(
      z.string(),
      z.object({
        ok: z.number(),
        changed: z.number(),
        failed: z.number(),
        skipped: z.number(),
        unreachable: z.number(),
        aborted: z.number().optional(),
        durationMs: z.number(),
        /** Network round trips the host cost (direction turns on its ssh socket), when counted. */
        roundTrips: z.number().optional(),
        /** Of roundTrips: opening the connection (TCP, SSH version, key exchange, auth). */
        connectRoundTrips: z.number().optional(),
      }),
    ),
    durationMs: z.number(),
    exitCode: z.number(),
    aborted: z.boolean().optional(),
  }),
]);

export type DroverEvent = z.infer<typeof EventSchema>;
export type EventOf<T extends DroverEvent['type']> = Extract<DroverEvent, { type: T }>;
export type RecapEvent = EventOf<'recap'>;

/** Anything that consumes events: reporters, the UI, tests. */
export interface EventSink {
  emit(event: DroverEvent): void;
  /** Called once after the recap; flush output. */
  close?(): Promise<void> | void;
}
