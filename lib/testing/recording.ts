// A host's recorded run: every exec a host was asked (a read-ahead batch split back into its
// probes) with its answer, every get with its content, and the facts as gathered. Written by
// RecordingTransport (recording-transport.ts), answered by ReplayTransport (replay-transport.ts)
// so a unit test can replay a converged host without the host, e.g. to count its round trips.
//
// A command is stored by a key (a hash of the command and what else changes its answer: sudo,
// stdin, env, cwd) plus its first line for a reader: recordings stay small, and a command that
// carries a secret (a password in a SQL statement, a config's content) does not put it in the
// file. Answers and file contents are stored as they came (the transport has already redacted
// registered secrets in exec output); whoever writes a recording replaces the rest with
// placeholders (`{{...}}`) that the replay substitutes back (ReplayOptions.substitute).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { BecomeOptions, ExecOptions } from '../transport/types.ts';

export const answerSchema = z.object({
  stdout: z.string(),
  stderr: z.string(),
  code: z.number().int().nullable(),
});
export type RecordedAnswer = z.infer<typeof answerSchema>;

export const recordedExecSchema = z.object({
  key: z.string(),
  /** The command's first line (shortened), only for a reader. */
  cmd: z.string(),
  sudo: z.union([z.boolean(), z.string()]).optional(),
  /** Marked a read (probe: true) when it ran, alone or in a read-ahead batch. */
  probe: z.boolean().optional(),
  /** Each answer in the order given; replayed in that order, the last one repeating. */
  answers: z.array(answerSchema).min(1),
});
export type RecordingExec = z.infer<typeof recordedExecSchema>;

export const recordedGetSchema = z.object({
  key: z.string(),
  path: z.string(),
  content: z.string(),
});
export type RecordedGet = z.infer<typeof recordedGetSchema>;

/** What the host was asked during the recorded run, counted as it happened. */
export const seenSchema = z.object({
  /** Every exec, read-ahead batches included. */
  execs: z.number().int(),
  batches: z.number().int(),
  /** Probes carried by those batches. */
  batchedProbes: z.number().int(),
  /** Execs not marked probe (a converged host should have none but the facts probe). */
  nonProbeExecs: z.number().int(),
  stdinExecs: z.number().int(),
  puts: z.number().int(),
  gets: z.number().int(),
});
export type Seen = z.infer<typeof seenSchema>;

export const hostRecordingSchema = z.object({
  host: z.string(),
  /** Facts as gathered (lib/facts), given back by the replay instead of probing. */
  facts: z.record(z.string(), z.unknown()),
  execs: z.array(recordedExecSchema),
  gets: z.array(recordedGetSchema),
  seen: seenSchema,
  /** Round trips the ssh transport counted on the wire during the recorded run, if it did. */
  wire: z.object({ roundTrips: z.number(), connectRoundTrips: z.number() }).optional(),
});
export type HostRecording = z.infer<typeof hostRecordingSchema>;

type Sudo = boolean | BecomeOptions | undefined;

/** sudo as recorded: true/false, or the target user; never a password. */
export function sudoShown(sudo: Sudo): boolean | string | undefined {
  if (sudo === undefined || typeof sudo === 'boolean') return sudo;
  return sudo.user ?? true;
}

const hash = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** The key of an exec: same key, same answer from a host that does not change. */
export function execKey(command: string, options: Pick<ExecOptions, 'sudo' | 'stdin' | 'env' | 'cwd'> = {}): string {
  const parts = [
    sudoShown(options.sudo) ?? null,
    command,
    options.stdin === undefined ? null : hash(options.stdin),
    options.env ?? null,
    options.cwd ?? null,
  ];
  return hash(JSON.stringify(parts)).slice(0, 32);
}

export function getKey(path: string, sudo: Sudo): string {
  return hash(JSON.stringify(['get', sudoShown(sudo) ?? null, path])).slice(0, 32);
}

/** The first line of a command, at most 100 characters, for a reader of the recording. */
export function preview(command: string): string {
  const line = command.trimStart().split('\n')[0] ?? '';
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}
