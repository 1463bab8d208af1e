// Builds the one command line a transport runs for exec(): POSIX sh, env inlined, cwd,
// and privilege escalation. Shared by the ssh and local transports so both behave alike.
//
// The sudo password never goes on argv (it would show in ps and /proc/*/cmdline): it is
// the first line of stdin, read by the wrapper script with the `read` builtin and handed
// to `sudo -S` through a pipe from the `printf` builtin.
import { envPrefix, quote } from '../shell/quote.ts';
import type { BecomeOptions } from './types.ts';

/** Exported into every command's environment so a timed-out command's whole tree can be found and killed. */
export const EXEC_MARKER_VAR = 'DROVER_EXEC';

export interface Become {
  user: string;
  password?: string;
}

export interface BecomeDefaults {
  become: boolean;
  becomeUser: string;
  becomePassword?: string;
}

/** Resolve an exec/put `sudo` option against the host's defaults. undefined = the host default. */
export function resolveBecome(sudo: boolean | BecomeOptions | undefined, d: BecomeDefaults): Become | null {
  const on = sudo === undefined ? d.become : sudo !== false;
  if (!on) return null;
  const o = typeof sudo === 'object' ? sudo : {};
  const password = o.password ?? d.becomePassword;
  return { user: o.user ?? d.becomeUser, ...(password !== undefined ? { password } : {}) };
}

export interface CommandSpec {
  command: string;
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Unique id of this exec, put in the environment as DROVER_EXEC (see killScript); only needed to kill it on a timeout. */
  marker?: string;
  become: Become | null;
  /** The login user is root: no sudo needed for root. */
  loginIsRoot: boolean;
}

export interface BuiltCommand {
  /** The line handed to the login shell (sshd runs `$SHELL -c <line>`). */
  line: string;
  /** Bytes to send on stdin before the caller's stdin (the sudo password line). */
  stdinPrefix?: string;
  /** Set when this command goes through sudo (for clearer failure messages). */
  viaSudo: boolean;
  /**
   * The same command for a POSIX sh that already runs as the right user (the pipelined
   * shell): no `sh -c`, so one exec less on the host. The kill marker, if any, is exported
   * first, so every process the command starts carries it (the subshell itself is found as
   * the pipelined shell's child, see killScript).
   */
  inline?: string;
}

/** The script run by the target user: env, cwd, then the command. */
export function innerScript(spec: Pick<CommandSpec, 'command' | 'env' | 'cwd'>): string {
  let s = envPrefix(spec.env);
  if (spec.cwd) s += `cd ${quote(spec.cwd)} || exit 1\n`;
  else if (s) s += '\n';
  return s + spec.command;
}

/**
 * `sh -c <inner>` with the marker already in its environment, so the shell itself (not only
 * its children) is found by killScript: a shell running a loop whose child was killed would
 * otherwise go on. Run by the login shell, an assignment prefix exports it (one exec less
 * than env(1) per command: ~1 ms of the host's CPU, measured); through sudo or su the
 * command is an argv, not shell syntax (and sudo refuses VAR=value), so env(1) sets it.
 */
function shellInvocation(inner: string, marker: string | undefined, byLoginShell: boolean): string {
  const sh = `sh -c ${quote(inner)}`;
  if (!marker) return sh;
  // `exec` too: without it dash forks for a command with an assignment prefix, and the
  // shell's exit status would stand in for a signal death. dash, bash and busybox export
  // the prefix to the exec'd command.
  return byLoginShell ? `${EXEC_MARKER_VAR}=${quote(marker)} exec ${sh}` : `env ${EXEC_MARKER_VAR}=${quote(marker)} ${sh}`;
}

/** For a runner that wants `exec <line>` (the local transport): a line that starts with the marker assignment already execs. */
export function execLine(line: string): string {
  return line.startsWith(`${EXEC_MARKER_VAR}=`) ? line : `exec ${line}`;
}

const PW = '__drover_pw';

/** The wrapper that feeds the password line to sudo only when sudo asks for one. */
function sudoWithPasswordScript(user: string, target: string): string {
  const u = quote(user);
  const run = `-H -u ${u} -- ${target}`;
  const probe = `sudo -n -u ${u} -- true 2>/dev/null`;
  // 1. Read the password line ourselves (the `read` builtin reads byte by byte, so the
  //    caller's stdin after it stays intact for the command).
  // 2. If sudo needs no password (NOPASSWD, cached), run directly.
  // 3. Else check the password once with only that line on sudo's stdin, so a wrong one
  //    fails here with a clear message instead of sudo eating the command's stdin as retries.
  // 4. Run, either with the now cached credentials or by prepending the password line.
  return [
    `IFS= read -r ${PW} || :`,
    `if ${probe}; then unset ${PW}; exec sudo -n ${run}; fi`,
    `if ! __drover_err=$(printf '%s\\n' "$${PW}" | sudo -S -p '' -u ${u} -- true 2>&1); then`,
    `  unset ${PW}`,
    `  printf 'drover: sudo -u %s as %s failed: wrong become password or not allowed by sudoers (sudo said: %s)\\n' ${u} "$(id -un)" "$(printf '%s' "$__drover_err" | tr -s '\\n' ' ')" >&2`,
    `  exit 1`,
    `fi`,
    `if ${probe}; then unset ${PW}; exec sudo -n ${run}; fi`,
    `{ printf '%s\\n' "$${PW}"; unset ${PW}; exec cat; } | sudo -S -p '' ${run}`,
  ].join('\n');
}

export function buildCommand(spec: CommandSpec): BuiltCommand {
  const b = spec.become;
  if (!b || (spec.loginIsRoot && b.user === 'root')) {
    const inner = innerScript(spec);
    const inline = spec.marker ? `${EXEC_MARKER_VAR}=${quote(spec.marker)}; export ${EXEC_MARKER_VAR}\n${inner}` : inner;
    return { line: shellInvocation(inner, spec.marker, true), viaSudo: false, inline };
  }
  const target = shellInvocation(innerScript(spec), spec.marker, false);
  if (spec.loginIsRoot) {
    // root needs no password to become anyone; su is present where sudo may not be.
    return { line: `su -s /bin/sh -c ${quote(`exec ${target}`)} ${quote(b.user)}`, viaSudo: false };
  }
  if (b.password === undefined) {
    return { line: `sudo -n -H -u ${quote(b.user)} -- ${target}`, viaSudo: true };
  }
  if (/[\r\n]/.test(b.password)) throw new Error('a become password cannot contain a newline');
  return {
    line: `sh -c ${quote(sudoWithPasswordScript(b.user, target))}`,
    stdinPrefix: `${b.password}\n`,
    viaSudo: true,
  };
}

/** sudo's own failure lines (as opposed to the command's), for a clearer message. */
const SUDO_FAILURE = /^sudo: (a password is required|a terminal is required|\d+ incorrect password attempts?|.*is not in the sudoers file|.*not allowed to execute)/m;

export function sudoFailureHint(stderr: string, code: number | null, host: string): string | null {
  if (code !== 1 || !SUDO_FAILURE.test(stderr) || stderr.includes('drover: sudo')) return null;
  if (/a password is required|a terminal is required/.test(stderr)) {
    return `drover: sudo on ${host} needs a password: set the become password (ansible_become_password)`;
  }
  return `drover: sudo on ${host} refused the command (wrong become password or sudoers rule)`;
}

/**
 * Kill every process that carries this exec's marker in its environment (the whole tree
 * of a timed-out command, including children that a signal to the session would miss).
 * Matches /proc/<pid>/environ; grep prints the file names of binary matches with -l.
 */
export function killScript(marker: string, shellPid?: number): string {
  const needle = `${EXEC_MARKER_VAR}=${marker}`;
  // A pipelined command runs in a subshell of the pipelined shell (its only child while the
  // command runs), forked without an exec: its environment shows no marker. Killed first, so
  // it starts nothing more; then everything that carries the marker.
  const children =
    shellPid !== undefined && Number.isInteger(shellPid) && shellPid > 1
      ? [
          `for __s in /proc/[0-9]*/stat; do`,
          `  { IFS= read -r __l < "$__s"; } 2>/dev/null || continue`,
          `  __r=\${__l##*) }; set -- $__r`,
          `  if [ "$2" = ${shellPid} ]; then __p=\${__s#/proc/}; kill -KILL "\${__p%/stat}" 2>/dev/null; fi`,
          `done`,
        ]
      : [];
  return [
    ...children,
    `for __f in $(grep -l -F ${quote(needle)} /proc/[0-9]*/environ 2>/dev/null); do`,
    `  __p=\${__f#/proc/}; __p=\${__p%/environ}`,
    `  [ "$__p" = "$$" ] || kill -KILL "$__p" 2>/dev/null`,
    `done; exit 0`,
  ].join('\n');
}
