// The shared decision for "this path must hold this content" (file, template, unit files,
// edits, persisted sysctl/module files): compare sha256 and attributes, plan a put or a chmod.
import { createHash } from 'node:crypto';
import { quote } from '../shell/quote.ts';
import { isText } from './text.ts';
import type { Decision } from './decision.ts';
import { formatMode, idMatches } from './mode.ts';
import type { FileState } from './probe.ts';

export interface WriteArgs {
  path: string;
  content: string | Buffer;
  mode?: number;
  owner?: string;
  group?: string;
  validate?: string;
  mkdirs?: boolean;
  /** Include a diff (ctx.diff and not noLog). */
  diff: boolean;
  /** The login may chown (root or become): keep an existing file's owner/group when rewriting. */
  preserveOwner: boolean;
  /** Message for a content change instead of "update <path>" (e.g. "add line to <path>"). */
  what?: string;
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** chmod/chown commands bringing an existing path's attributes to the wanted ones. */
export function attrCommands(
  state: FileState,
  want: { path: string; mode?: number; owner?: string; group?: string },
): { commands: string[]; reasons: string[] } {
  const commands: string[] = [];
  const reasons: string[] = [];
  const q = quote(want.path);
  if (want.mode !== undefined && state.mode !== want.mode) {
    commands.push(`chmod ${formatMode(want.mode)} ${q}`);
    reasons.push(`mode ${formatMode(want.mode)}`);
  }
  const owner = want.owner !== undefined && !idMatches(want.owner, state.owner, state.uid) ? want.owner : undefined;
  const group = want.group !== undefined && !idMatches(want.group, state.group, state.gid) ? want.group : undefined;
  if (owner !== undefined && group !== undefined) commands.push(`chown ${quote(`${owner}:${group}`)} ${q}`);
  else if (owner !== undefined) commands.push(`chown ${quote(owner)} ${q}`);
  else if (group !== undefined) commands.push(`chgrp ${quote(group)} ${q}`);
  if (owner !== undefined) reasons.push(`owner ${owner}`);
  if (group !== undefined) reasons.push(`group ${group}`);
  return { commands, reasons };
}

export function decideWrite(state: FileState, a: WriteArgs): Decision {
  if (state.type === 'directory') return { change: false, commands: [], msg: `${a.path} is a directory`, fail: `${a.path} is a directory` };
  if (state.type === 'other') {
    const fail = `${a.path} exists and is not a regular file`;
    return { change: false, commands: [], msg: fail, fail };
  }
  const target = state.realPath ?? a.path;
  const exists = state.type === 'file';
  if (exists && state.sha256 === sha256(a.content)) {
    const { commands, reasons } = attrCommands(state, { ...a, path: target });
    if (!commands.length) return { change: false, commands: [], msg: `${a.path} is up to date` };
    return { change: true, commands, msg: `update ${a.path} (${reasons.join(', ')})` };
  }
  const extra = exists ? attrCommands(state, { ...a, path: target }).reasons : [];
  const msg =
    a.what ??
    (exists
      ? `update ${a.path} (${['content', ...extra].join(', ')})`
      : state.type === 'link'
        ? `replace symlink ${a.path} with a file`
        : `create ${a.path}`);
  const d: Decision = {
    change: true,
    commands: [],
    msg,
    put: {
      path: target,
      content: a.content,
      // Rewriting keeps the existing file's mode and owner unless told otherwise (as Ansible's atomic move).
      mode: a.mode ?? (exists ? state.mode : undefined),
      // Numeric ids: they survive a name that does not resolve (stat prints UNKNOWN).
      owner: a.owner ?? (exists && a.preserveOwner && state.uid !== undefined ? String(state.uid) : undefined),
      group: a.group ?? (exists && a.preserveOwner && state.gid !== undefined ? String(state.gid) : undefined),
      validate: a.validate,
      mkdirs: a.mkdirs,
    },
  };
  const before = exists ? state.content : '';
  if (a.diff && before !== undefined && isText(a.content)) {
    d.diff = [{ path: a.path, before, after: a.content.toString() }];
  }
  return d;
}
