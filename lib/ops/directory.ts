// directory: a path is a directory (created with parents), with mode/owner/group when given.
// A symlink to a directory counts as the directory (its target's attributes are checked).
import { quote } from '../shell/quote.ts';
import { applyDecision, mustFail, noChange, type Decision } from './decision.ts';
import { defineOp, mustProbe } from './exec.ts';
import { parseMode } from './mode.ts';
import { parseFileState, parseProbe, singleFileProbe, type FileState } from './probe.ts';
import type { Op } from './types.ts';
import { attrCommands } from './write.ts';

export interface DirectoryOptions {
  mode?: string | number;
  owner?: string;
  group?: string;
}

export interface DirectoryArgs {
  path: string;
  mode?: number;
  owner?: string;
  group?: string;
}

export function decideDirectory(state: FileState, a: DirectoryArgs): Decision {
  if (state.type === 'directory') {
    const { commands, reasons } = attrCommands(state, a);
    if (!commands.length) return noChange(`${a.path} is up to date`);
    return { change: true, commands, msg: `update ${a.path} (${reasons.join(', ')})` };
  }
  if (state.type !== 'absent') return mustFail(`${a.path} exists and is not a directory`);
  const q = quote(a.path);
  // A fresh directory: attrCommands against an empty state gives every wanted attribute.
  const { commands } = attrCommands({ type: 'absent' }, a);
  return { change: true, commands: [`mkdir -p ${q}`, ...commands], msg: `create ${a.path}` };
}

export function directory(path: string, opts: DirectoryOptions = {}): Op {
  return defineOp(async (ctx) => {
    const mode = parseMode(opts.mode);
    const r = await mustProbe(ctx, `probe ${path}`, singleFileProbe(path, { follow: true }));
    const d = decideDirectory(parseFileState(parseProbe(r.stdout)), { path, mode, owner: opts.owner, group: opts.group });
    return applyDecision(ctx, d);
  });
}
