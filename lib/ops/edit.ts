// Shared by the ops that edit part of a text file (lineInFile, blockInFile): the probe reads
// the whole file back in the same exec, the edit is pure, the write is one put of the result.
import { mustFail, noChange, type Decision } from './decision.ts';
import type { EditResult } from './lines.ts';
import { EDIT_MAX_BYTES, singleFileProbe, type FileState } from './probe.ts';
import { decideWrite } from './write.ts';

export interface EditArgs {
  path: string;
  /** Create the file when missing (state present). */
  create?: boolean;
  /** The edit removes something: a missing file is already fine. */
  removing: boolean;
  mode?: number;
  owner?: string;
  group?: string;
  validate?: string;
  diff: boolean;
  preserveOwner: boolean;
  /** Message for a content change, from the edit's action. */
  describe: (action: NonNullable<EditResult['action']>) => string;
}

/** Probe for an edit: follow symlinks (edit the target) and always read the content. */
export function editProbe(path: string): string {
  return singleFileProbe(path, { follow: true, contentMax: EDIT_MAX_BYTES });
}

export function decideEdit(state: FileState, edit: (content: string) => EditResult, a: EditArgs): Decision {
  let current: string;
  if (state.type === 'absent') {
    if (a.removing) return noChange(`${a.path} does not exist`);
    if (!a.create) return mustFail(`${a.path} does not exist (set create: true to create it)`);
    current = '';
  } else if (state.type !== 'file') {
    return mustFail(`${a.path} is not a regular file (${state.type})`);
  } else if (state.content === undefined) {
    return mustFail(`${a.path} is too large to edit (over ${EDIT_MAX_BYTES} bytes)`);
  } else if (state.content.includes('\uFFFD')) {
    // Decoding was lossy: writing it back would corrupt the file.
    return mustFail(`${a.path} is not UTF-8 text`);
  } else {
    current = state.content;
  }
  const res = edit(current);
  const what = res.action ? a.describe(res.action) : undefined;
  return decideWrite(state, {
    path: a.path,
    content: res.content,
    mode: a.mode,
    owner: a.owner,
    group: a.group,
    validate: a.validate,
    mkdirs: false,
    diff: a.diff,
    preserveOwner: a.preserveOwner,
    what,
  });
}
