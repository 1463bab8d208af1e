// The sh script behind put(): one exec, the content on stdin, written to a temp file in the
// target's directory, mode/owner set, optionally validated, then renamed over the target
// (rename(2) within one filesystem is atomic: readers see the old or the new file, never half).
import { randomBytes } from 'node:crypto';
import { quote } from '../shell/quote.ts';
import type { ExecResult, PutOptions } from './types.ts';

/** Printed on stderr when validation fails, followed by the validate command's exit code. */
export const VALIDATE_FAILED_MARK = 'drover-validate-failed:';

export function splitPath(path: string): { dir: string; base: string } {
  const trimmed = path.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  if (!trimmed || i === trimmed.length - 1) throw new Error(`put: not a file path: ${path}`);
  return i < 0 ? { dir: '.', base: trimmed } : { dir: i === 0 ? '/' : trimmed.slice(0, i), base: trimmed.slice(i + 1) };
}

export function tempPathFor(path: string, random: string = randomBytes(6).toString('hex')): string {
  const { dir, base } = splitPath(path);
  return `${dir === '/' ? '' : dir}/.${base}.drover-${random}`;
}

/** '0644', '644', 0o644 (a number is taken as the mode bits) or symbolic 'u=rw,go=r'. */
export function formatMode(mode: string | number): string {
  if (typeof mode === 'number') {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`put: invalid mode ${mode}`);
    return mode.toString(8).padStart(4, '0');
  }
  if (/^0?[0-7]{3,4}$/.test(mode) || /^[ugoa]*[-+=][rwxXst]*([,][ugoa]*[-+=][rwxXst]*)*$/.test(mode)) return mode;
  throw new Error(`put: invalid mode ${JSON.stringify(mode)}`);
}

/**
 * expectedBytes: the content's length. A connection cut mid-upload ends cat's input early
 * (sshd closes the session's stdin), and the script would otherwise go on and rename a
 * truncated file into place: with the length given, a short temp file is removed instead.
 */
export function buildPutScript(path: string, options: PutOptions = {}, tmp: string = tempPathFor(path), expectedBytes?: number): string {
  const { dir } = splitPath(path);
  const t = quote(path);
  const q = quote(tmp);
  const fail = `{ rm -f -- ${q}; exit 1; }`;
  const lines: string[] = [
    // The temp file never outlives the script, whatever stops it.
    `trap ${quote(`rm -f -- ${q}`)} EXIT`,
    `trap 'exit 1' HUP INT TERM`,
  ];
  if (options.mkdirs) lines.push(`mkdir -p -- ${quote(dir)} || exit 1`);
  // Written under umask 077 so the content is never readable by others before chmod.
  lines.push(`__u=$(umask); umask 077`, `cat > ${q} || ${fail}`);
  if (expectedBytes !== undefined) {
    lines.push(
      `__n=$(wc -c < ${q}) || ${fail}`,
      // rm first: with the connection gone, writing the message can kill the shell (SIGPIPE),
      // and a shell killed by a signal runs no EXIT trap.
      `if [ "$__n" -ne ${expectedBytes} ]; then rm -f -- ${q}; printf 'drover: upload cut short: %s of ${expectedBytes} bytes received; target left unchanged\\n' "$__n" >&2; exit 1; fi`,
    );
  }
  if (options.mode !== undefined) {
    lines.push(`chmod ${quote(formatMode(options.mode))} ${q} || ${fail}`);
  } else {
    // Keep an existing file's mode (replacing a 0600 secret with 0644 would leak it);
    // a new file gets the default the umask would have given.
    lines.push(
      `if [ -e ${t} ]; then chmod "$(stat -c %a -- ${t})" ${q} || ${fail}; ` +
        `else chmod "$(printf '%o' $(( 0666 & ~0$__u )))" ${q} || ${fail}; fi`,
    );
  }
  if (options.owner !== undefined || options.group !== undefined) {
    const spec = options.owner !== undefined ? `${options.owner}${options.group !== undefined ? `:${options.group}` : ''}` : `:${options.group}`;
    lines.push(`chown ${quote(spec)} ${q} || ${fail}`);
  } else {
    // Keep an existing file's owner when we are allowed to (root); harmless otherwise.
    lines.push(`if [ -e ${t} ]; then chown "$(stat -c %u:%g -- ${t})" ${q} 2>/dev/null || :; fi`);
  }
  if (options.validate) {
    const cmd = options.validate.includes('%s') ? options.validate.split('%s').join(q) : `${options.validate} ${q}`;
    lines.push(
      `( ${cmd}\n)`,
      `__rc=$?`,
      `if [ "$__rc" -ne 0 ]; then rm -f -- ${q}; printf '\\n${VALIDATE_FAILED_MARK}%s\\n' "$__rc" >&2; exit 1; fi`,
    );
  }
  lines.push(`mv -f -- ${q} ${t} || ${fail}`);
  return lines.join('\n');
}

export type PutOutcome =
  | { kind: 'ok' }
  | { kind: 'validate-failed'; result: ExecResult }
  | { kind: 'failed'; message: string };

export function interpretPutResult(r: ExecResult): PutOutcome {
  if (r.code === 0) return { kind: 'ok' };
  const i = r.stderr.lastIndexOf(VALIDATE_FAILED_MARK);
  if (i >= 0) {
    const code = Number.parseInt(r.stderr.slice(i + VALIDATE_FAILED_MARK.length), 10);
    const stderr = r.stderr.slice(0, i).replace(/\n$/, '');
    return { kind: 'validate-failed', result: { ...r, stderr, code: Number.isNaN(code) ? r.code : code } };
  }
  return { kind: 'failed', message: (r.stderr || r.stdout).trim() || `exit ${r.code}` };
}
