// The probe protocol: one exec prints `key=value` lines, optionally followed by a marker
// line and a file's raw content. Shell snippets here are POSIX sh (dash, busybox).
import { quote } from '../shell/quote.ts';

export const CONTENT_MARK = '__DROVER_CONTENT__';
/** Files up to this size are read back for --diff. */
export const DIFF_MAX_BYTES = 256 * 1024;
/** Files up to this size can be edited in place (lineInFile, blockInFile, ...). */
export const EDIT_MAX_BYTES = 4 * 1024 * 1024;

export interface ProbeOutput {
  kv: Map<string, string>;
  /** Raw text after the content marker, if any. */
  content?: string;
}

export function parseProbe(stdout: string): ProbeOutput {
  let head = stdout;
  let content: string | undefined;
  const mark = `${CONTENT_MARK}\n`;
  const at = stdout.startsWith(mark) ? 0 : stdout.indexOf(`\n${mark}`);
  if (at >= 0) {
    head = stdout.slice(0, at);
    content = stdout.slice(at === 0 ? mark.length : at + 1 + mark.length);
  }
  const kv = new Map<string, string>();
  for (const line of head.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return content === undefined ? { kv } : { kv, content };
}

/** `name=<quoted value>` for the start of a probe script. */
export function setVar(name: string, value: string): string {
  return `${name}=${quote(value)}`;
}

export type FileType = 'absent' | 'file' | 'directory' | 'link' | 'other';

export interface FileState {
  type: FileType;
  mode?: number;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
  size?: number;
  sha256?: string;
  /** Symlink target (readlink), for type 'link'. */
  target?: string;
  /** Resolved path when probed through a symlink (follow mode). */
  realPath?: string;
  /** Current content, when it was read back (diff or edit). */
  content?: string;
}

export interface FileProbeOptions {
  /** Shell variable holding the path (set before the snippet). Default p. */
  pathVar?: string;
  /** Key prefix, to probe several paths in one script. */
  prefix?: string;
  /** Follow a symlink to what it points at (edits of a linked file edit the target). */
  follow?: boolean;
  /** Print the content after the marker when a regular file is at most this big. Last probe only. */
  contentMax?: number | false;
}

/** Shell snippet printing the state of the file at $p. Exits 3 when it cannot read it. */
export function fileProbeScript(o: FileProbeOptions = {}): string {
  const v = `"$${o.pathVar ?? 'p'}"`;
  const k = o.prefix ?? '';
  const lines: string[] = [];
  if (o.follow) {
    lines.push(
      `if [ -d ${v} ]; then t=directory; elif [ -f ${v} ]; then t=file; elif [ -L ${v} ]; then t=link; elif [ -e ${v} ]; then t=other; else t=absent; fi`,
      `if [ -L ${v} ] && [ "$t" != link ]; then printf '${k}real=%s\\n' "$(readlink -f ${v})"; fi`,
      `case $t in absent) ;; link) s=$(stat -c '%a %u %g %s %U %G' ${v}) || exit 3 ;; *) s=$(stat -L -c '%a %u %g %s %U %G' ${v}) || exit 3 ;; esac`,
    );
  } else {
    lines.push(
      `if [ -L ${v} ]; then t=link; elif [ -d ${v} ]; then t=directory; elif [ -f ${v} ]; then t=file; elif [ -e ${v} ]; then t=other; else t=absent; fi`,
      `if [ "$t" != absent ]; then s=$(stat -c '%a %u %g %s %U %G' ${v}) || exit 3; fi`,
    );
  }
  lines.push(
    `printf '${k}type=%s\\n' "$t"`,
    `if [ "$t" != absent ]; then printf '${k}stat=%s\\n' "$s"; fi`,
    `if [ "$t" = link ]; then printf '${k}target=%s\\n' "$(readlink ${v})"; fi`,
    `if [ "$t" = file ]; then h=$(sha256sum < ${v}) || exit 3; printf '${k}sha256=%s\\n' "\${h%% *}"; fi`,
  );
  if (o.contentMax) {
    lines.push(
      `if [ "$t" = file ]; then set -- $s; if [ "$4" -le ${o.contentMax} ]; then echo ${CONTENT_MARK}; cat ${v} || exit 3; fi; fi`,
    );
  }
  return lines.join('\n');
}

/** Probe script for one path: set $p, then the snippet. */
export function singleFileProbe(path: string, o: Omit<FileProbeOptions, 'pathVar' | 'prefix'> = {}): string {
  return `${setVar('p', path)}\n${fileProbeScript(o)}`;
}

export function parseFileState(out: ProbeOutput, prefix = '', withContent = true): FileState {
  const get = (key: string) => out.kv.get(prefix + key);
  const type = (get('type') ?? 'absent') as FileType;
  const st: FileState = { type };
  const stat = get('stat');
  if (stat) {
    const [mode, uid, gid, size, owner, group] = stat.split(' ');
    st.mode = parseInt(mode ?? '0', 8);
    st.uid = Number(uid);
    st.gid = Number(gid);
    st.size = Number(size);
    st.owner = owner;
    st.group = group;
  }
  const sha = get('sha256');
  if (sha) st.sha256 = sha;
  const target = get('target');
  if (target !== undefined) st.target = target;
  const real = get('real');
  if (real) st.realPath = real;
  if (withContent && out.content !== undefined && type === 'file') st.content = out.content;
  return st;
}
