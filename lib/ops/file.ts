// file: a path holds exactly this content (and mode/owner/group when given).
// Probe: one exec (type, stat, sha256, and the content when --diff); write: one atomic put.
import { applyDecision } from './decision.ts';
import { canChown, defineOp, mustProbe } from './exec.ts';
import { parseMode } from './mode.ts';
import { DIFF_MAX_BYTES, parseFileState, parseProbe, singleFileProbe } from './probe.ts';
import type { Op } from './types.ts';
import { decideWrite } from './write.ts';

export interface FileOptions {
  /** Octal '0644' or a number. Unset: kept for an existing file, transport default for a new one. */
  mode?: string | number;
  owner?: string;
  group?: string;
  /** Command run on the temp file before it replaces the target; `%s` is its path. */
  validate?: string;
  /** Create missing parent directories (default true). */
  mkdirs?: boolean;
  /** Secret content: never show a diff or output. */
  noLog?: boolean;
}

/** The pure decision, exported for tests: given the probed state, what to do. */
export { decideWrite as decideFile } from './write.ts';

export function file(path: string, content: string | Buffer, opts: FileOptions = {}): Op {
  return defineOp(async (ctx) => {
    const mode = parseMode(opts.mode);
    const diff = ctx.diff && !opts.noLog;
    const r = await mustProbe(ctx, `probe ${path}`, singleFileProbe(path, { contentMax: diff ? DIFF_MAX_BYTES : false }));
    const state = parseFileState(parseProbe(r.stdout));
    const d = decideWrite(state, {
      path,
      content,
      mode,
      owner: opts.owner,
      group: opts.group,
      validate: opts.validate,
      mkdirs: opts.mkdirs ?? true,
      diff,
      preserveOwner: canChown(ctx),
    });
    return applyDecision(ctx, d, { noLog: opts.noLog });
  });
}
