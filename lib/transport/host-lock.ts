// One Drover run per host at a time. Each SSH connection holds a lock on the host for its
// whole life: a session runs `flock` on /run/lock/drover.lock (/tmp when there is no
// writable /run/lock) and then waits for end of input on the channel. The lock is the
// kernel's: it goes when that shell exits, and the shell exits when its stdin ends, which
// is when the connection goes, however it goes (the run closes it, the run is killed -9, the
// network drops and sshd gives up). No stale lock file is ever left to clean up.
// A second run finds the lock taken, prints who holds it (the holder writes a line into the
// file), waits up to its bound (--lock-wait, default 60 s; 0 refuses at once) and then gives
// up on that host without touching it (unreachable, exit 4).
import { userInfo, hostname } from 'node:os';
import { basename } from 'node:path';
import type { Client as SshClient, ClientChannel } from 'ssh2';
import { UnreachableError } from '../errors.ts';
import { quote } from '../shell/quote.ts';

/** The lock file; /tmp/drover.lock on hosts without a writable /run/lock. */
export const HOST_LOCK_FILE = '/run/lock/drover.lock';
export const DEFAULT_LOCK_WAIT_MS = 60_000;

const MARK = 'drover-lock:';

/**
 * Exported into every command of a connection (its pipelined shell and its sessions): the lock
 * holder finds the connection's commands by it. Not carried through sudo (env_reset), so with
 * a non-root login the wait covers only commands that run as the login user.
 */
export const CONN_MARK_VAR = 'DROVER_CONN';

/** The host is held by another run for longer than we were willing to wait. */
export class HostLockError extends UnreachableError {
  constructor(host: string, message: string) {
    super(host, message);
    this.name = 'HostLockError';
  }
}

/** Who we are, as the next run will read it: pid, controller, user, playbook, start time. */
export function lockHolderLine(now: Date = new Date()): string {
  who ??= whoWeAre();
  return `${who}, since ${now.toISOString()}`;
}

/** Read once per process: userInfo() reads the passwd database, ~1 ms a connection. */
let who: string | undefined;
function whoWeAre(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  const script = process.argv[1] ? ` (${basename(process.argv[1])})` : '';
  return `drover pid ${process.pid}${script} on ${hostname()} as ${user}`;
}

/**
 * The script of the lock session: POSIX sh, util-linux flock. The file is opened read-only
 * (flock needs no write access, so a root-made file still locks for another login user).
 * Lines on stdout: `busy <holder>` (then waits), `held <file>`, `timeout <holder>`,
 * `noflock` (no flock on the host: the run goes on without a lock, and says so).
 */
export function hostLockScript(waitSeconds: number, holder: string, file: string = HOST_LOCK_FILE, connMark?: string): string {
  const dir = file.slice(0, file.lastIndexOf('/')) || '/';
  const w = Math.max(0, Math.ceil(waitSeconds));
  return [
    `f=${quote(file)}`,
    `[ -d ${quote(dir)} ] && [ -w ${quote(dir)} ] || f=/tmp/drover.lock`,
    `command -v flock >/dev/null 2>&1 || { echo '${MARK}noflock'; exec cat >/dev/null; }`,
    `[ -e "$f" ] || (umask 022; : >>"$f") 2>/dev/null`,
    `exec 9<"$f" || exit 1`,
    `if ! flock -n 9; then`,
    `  printf '${MARK}busy %s\\n' "$(head -c 400 "$f" | tr -d '\\n')"`,
    `  flock -w ${w} 9 || { printf '${MARK}timeout %s\\n' "$(head -c 400 "$f" | tr -d '\\n')"; exit 0; }`,
    `fi`,
    // Same inode, so truncating does not touch the lock; a non-owner simply cannot write it.
    `printf '%s\\n' ${quote(holder)} 2>/dev/null >"$f" || :`,
    `printf '${MARK}held %s\\n' "$f"`,
    // Held until our stdin ends: the channel closing or the connection dropping.
    `cat >/dev/null 9<&-`,
    // A dropped connection leaves its commands running (sshd sends no HUP without a tty):
    // keep the lock until none is left, so the next run never interleaves with them.
    ...(connMark
      ? [
          `printf '%s\\n' ${quote(`${holder} (its connection is gone; waiting for its commands still running here)`)} 2>/dev/null >"$f" || :`,
          `while grep -qsF ${quote(`${CONN_MARK_VAR}=${connMark}`)} /proc/[0-9]*/environ; do sleep 0.2; done`,
        ]
      : []),
  ].join('\n');
}

export interface HostLockOptions {
  /** Inventory name, for messages. */
  name: string;
  waitMs: number;
  holder?: string;
  /** The connection's CONN_MARK_VAR value: the lock outlives the connection while its commands run. */
  connMark?: string;
  /** Told when the lock is taken by someone else (we wait) or cannot be had (no flock). */
  onNotice?: (message: string) => void;
}

export interface HeldHostLock {
  file: string;
  /** Let go now (closing the connection does it too). */
  release(): void;
}

/** Take the host lock on this connection; resolves once held, rejects with HostLockError. */
export function acquireHostLock(client: SshClient, opts: HostLockOptions): Promise<HeldHostLock> {
  const script = hostLockScript(opts.waitMs / 1000, opts.holder ?? lockHolderLine(), HOST_LOCK_FILE, opts.connMark);
  return new Promise((resolve, reject) => {
    client.exec(script, (err, channel: ClientChannel) => {
      if (err) return reject(new UnreachableError(opts.name, `cannot open the host lock session: ${err.message}`));
      let buf = '';
      let done = false;
      const settle = (e: Error | null, file?: string) => {
        if (done) return;
        done = true;
        if (e) {
          channel.close();
          return reject(e);
        }
        resolve({
          file: file ?? '',
          release: () => {
            try {
              channel.end();
            } catch {
              /* already closed */
            }
          },
        });
      };
      channel.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.startsWith(MARK)) continue;
          const [word, ...rest] = line.slice(MARK.length).split(' ');
          const text = rest.join(' ').trim() || 'another run (no holder line)';
          if (word === 'busy') {
            opts.onNotice?.(`host is locked by ${text}; waiting up to ${Math.round(opts.waitMs / 1000)} s for it (${HOST_LOCK_FILE}; --lock-wait SECONDS to change)`);
          } else if (word === 'held') settle(null, rest.join(' '));
          else if (word === 'noflock') {
            opts.onNotice?.('no flock(1) on this host: running without the host lock (another run at the same time is not kept out)');
            settle(null);
          } else if (word === 'timeout') {
            settle(
              new HostLockError(
                opts.name,
                `host is locked by ${text}: another Drover run is working on it; not touched after waiting ${Math.round(opts.waitMs / 1000)} s (--lock-wait SECONDS to wait longer)`,
              ),
            );
          }
        }
      });
      channel.stderr.on('data', () => {});
      channel.on('close', () => settle(new UnreachableError(opts.name, 'the host lock session ended before the lock was taken')));
    });
  });
}
