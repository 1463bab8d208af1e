// absent: nothing exists at a path (file, link or whole directory tree).
import { quote } from '../shell/quote.ts';
import { applyDecision, mustFail, noChange, type Decision } from './decision.ts';
import { defineOp, mustProbe } from './exec.ts';
import { parseFileState, parseProbe, singleFileProbe, type FileState } from './probe.ts';
import type { Op } from './types.ts';

export function decideAbsent(state: FileState, path: string): Decision {
  // A typo here costs a system: refuse the root and relative paths outright.
  if (!path.startsWith('/') || /^\/+$/.test(path) || /(^|\/)\.\.?(\/|$)/.test(path)) {
    return mustFail(`absent: refusing to remove ${JSON.stringify(path)} (needs an absolute path below /, without . or ..)`);
  }
  if (state.type === 'absent') return noChange(`${path} is absent`);
  const cmd = state.type === 'directory' ? `rm -rf ${quote(path)}` : `rm -f ${quote(path)}`;
  return { change: true, commands: [cmd], msg: `remove ${state.type === 'directory' ? 'directory ' : ''}${path}` };
}

export function absent(path: string): Op {
  return defineOp(async (ctx) => {
    const early = decideAbsent({ type: 'file' }, path);
    if (early.fail) return applyDecision(ctx, early);
    const r = await mustProbe(ctx, `probe ${path}`, singleFileProbe(path));
    return applyDecision(ctx, decideAbsent(parseFileState(parseProbe(r.stdout)), path));
  });
}
