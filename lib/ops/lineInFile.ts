// lineInFile: one line present (replacing the last regexp match) or absent, as Ansible's
// lineinfile. Probe: one exec reading the file; write: one put of the edited content.
import { applyDecision, type Decision } from './decision.ts';
import { decideEdit, editProbe } from './edit.ts';
import { canChown, defineOp, mustProbe, OpFailure } from './exec.ts';
import { editLine, type LineEdit } from './lines.ts';
import { parseMode } from './mode.ts';
import { parseFileState, parseProbe, type FileState } from './probe.ts';
import type { Op } from './types.ts';

export interface LineInFileOptions extends LineEdit {
  /** Create the file when missing (state present). Default false. */
  create?: boolean;
  mode?: string | number;
  owner?: string;
  group?: string;
  validate?: string;
  noLog?: boolean;
}

export interface LineInFileArgs extends LineEdit {
  path: string;
  create?: boolean;
  mode?: number;
  owner?: string;
  group?: string;
  validate?: string;
  diff: boolean;
  preserveOwner: boolean;
}

export function decideLineInFile(state: FileState, a: LineInFileArgs): Decision {
  const describe = (action: string) =>
    action === 'added' ? `add line to ${a.path}` : action === 'replaced' ? `replace line in ${a.path}` : `remove line(s) from ${a.path}`;
  return decideEdit(state, (c) => editLine(c, a), { ...a, removing: a.state === 'absent', describe });
}

export function lineInFile(path: string, opts: LineInFileOptions): Op {
  return defineOp(async (ctx) => {
    const state = opts.state ?? 'present';
    if (state === 'present' && opts.line === undefined) throw new OpFailure('lineInFile: `line` is required for state present');
    if (state === 'absent' && opts.line === undefined && opts.regexp === undefined) {
      throw new OpFailure('lineInFile: `line` or `regexp` is required for state absent');
    }
    const r = await mustProbe(ctx, `probe ${path}`, editProbe(path));
    const d = decideLineInFile(parseFileState(parseProbe(r.stdout)), {
      ...opts,
      path,
      mode: parseMode(opts.mode),
      diff: ctx.diff && !opts.noLog,
      preserveOwner: canChown(ctx),
    });
    return applyDecision(ctx, d, { noLog: opts.noLog });
  });
}
