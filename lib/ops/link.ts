// link: `dest` is a symlink pointing at `src` (as `ln -s src dest`).
import { quote } from '../shell/quote.ts';
import { applyDecision, mustFail, noChange, type Decision } from './decision.ts';
import { defineOp, mustProbe } from './exec.ts';
import { parseFileState, parseProbe, singleFileProbe, type FileState } from './probe.ts';
import type { Op } from './types.ts';

export interface LinkOptions {
  /** Replace a regular file at dest (never a directory). */
  force?: boolean;
}

export function decideLink(state: FileState, src: string, dest: string, o: LinkOptions = {}): Decision {
  const ln = (flags: string) => `ln ${flags} ${quote(src)} ${quote(dest)}`;
  switch (state.type) {
    case 'link':
      if (state.target === src) return noChange(`${dest} -> ${src}`);
      return { change: true, commands: [ln('-sfn')], msg: `repoint ${dest} -> ${src} (was -> ${state.target ?? '?'})` };
    case 'absent':
      return { change: true, commands: [ln('-s')], msg: `link ${dest} -> ${src}` };
    case 'directory':
      return mustFail(`${dest} is a directory, not a symlink`);
    default:
      if (!o.force) return mustFail(`${dest} exists and is not a symlink (set force: true to replace it)`);
      return { change: true, commands: [ln('-sfn')], msg: `replace ${dest} with a link -> ${src}` };
  }
}

export function link(src: string, dest: string, opts: LinkOptions = {}): Op {
  return defineOp(async (ctx) => {
    const r = await mustProbe(ctx, `probe ${dest}`, singleFileProbe(dest));
    return applyDecision(ctx, decideLink(parseFileState(parseProbe(r.stdout)), src, dest, opts));
  });
}
