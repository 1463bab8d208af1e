// blockInFile: a named block between marker lines, as Ansible's blockinfile.
// Markers: `# BEGIN DROVER MANAGED BLOCK <name>` / `# END ...` (the `marker` option changes them).
import { applyDecision, type Decision } from './decision.ts';
import { decideEdit, editProbe } from './edit.ts';
import { canChown, defineOp, mustProbe } from './exec.ts';
import { editBlock, type Pattern } from './lines.ts';
import { parseMode } from './mode.ts';
import { parseFileState, parseProbe, type FileState } from './probe.ts';
import type { Op } from './types.ts';

export interface BlockInFileOptions {
  state?: 'present' | 'absent';
  /** Marker template; `{mark}` becomes BEGIN/END. Default `# {mark} DROVER MANAGED BLOCK <name>`. */
  marker?: string;
  insertAfter?: Pattern | 'EOF';
  insertBefore?: Pattern | 'BOF';
  firstMatch?: boolean;
  create?: boolean;
  mode?: string | number;
  owner?: string;
  group?: string;
  validate?: string;
  noLog?: boolean;
}

export interface BlockInFileArgs extends Omit<BlockInFileOptions, 'mode' | 'noLog'> {
  path: string;
  name: string;
  block: string;
  mode?: number;
  diff: boolean;
  preserveOwner: boolean;
}

export function blockMarkers(name: string, marker?: string): { begin: string; end: string } {
  const tpl = marker ?? `# {mark} DROVER MANAGED BLOCK ${name}`;
  return { begin: tpl.replace('{mark}', 'BEGIN'), end: tpl.replace('{mark}', 'END') };
}

export function decideBlockInFile(state: FileState, a: BlockInFileArgs): Decision {
  const { begin, end } = blockMarkers(a.name, a.marker);
  const describe = (action: string) => `${action === 'added' ? 'add' : action === 'replaced' ? 'update' : 'remove'} block ${a.name} in ${a.path}`;
  return decideEdit(state, (c) => editBlock(c, { ...a, begin, end }), { ...a, removing: a.state === 'absent', describe });
}

export function blockInFile(path: string, name: string, block: string, opts: BlockInFileOptions = {}): Op {
  return defineOp(async (ctx) => {
    const r = await mustProbe(ctx, `probe ${path}`, editProbe(path));
    const d = decideBlockInFile(parseFileState(parseProbe(r.stdout)), {
      ...opts,
      path,
      name,
      block,
      mode: parseMode(opts.mode),
      diff: ctx.diff && !opts.noLog,
      preserveOwner: canChown(ctx),
    });
    return applyDecision(ctx, d, { noLog: opts.noLog });
  });
}
