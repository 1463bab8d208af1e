// A real OpenSSH server for lab tests of the ssh transport.
//
// Where it listens: 127.0.0.1 on a free high port in the root network namespace, not in a
// namespace of its own. The vitest worker cannot enter a network namespace (Node has no
// setns), so a namespaced sshd would force every assertion into a child process under
// `ip netns exec`, far from the test; loopback keeps the client in-process, needs no `ip`,
// and leaves nothing behind if a test dies (no namespace to delete, only a PID to kill).
// Free ports are picked per server, so parallel helpers/tests never collide. Each server
// has its own temp dir: host key, client key, authorized_keys per user, known_hosts, log.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionSchema, type Connection, type ConnectionInput } from '../../lib/transport/connection.ts';

export const SSHD = '/usr/sbin/sshd';

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => d && existsSync(join(d, cmd)));
}

/** Can the ssh lab tests run here? (root, Linux, OpenSSH server and ssh-keygen.) */
export function isLabCapable(): { ok: boolean; why?: string } {
  if (process.platform !== 'linux') return { ok: false, why: `needs Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root (sshd and temporary users)' };
  if (!existsSync(SSHD)) return { ok: false, why: `needs ${SSHD} (apt-get install openssh-server)` };
  if (!onPath('ssh-keygen')) return { ok: false, why: 'needs ssh-keygen (apt-get install openssh-client)' };
  return { ok: true };
}

/** sudo is needed only by the become tests. */
export function hasSudo(): boolean {
  return onPath('sudo');
}

/**
 * When the lab cannot run: under CI=true that is a failure (a missing prerequisite must not
 * pass as green), elsewhere the tests are skipped with the reason printed.
 */
export function labGate(cap: { ok: boolean; why?: string }, what: string): { skip: boolean; failInCi: string | null } {
  if (cap.ok) return { skip: false, failInCi: null };
  if (process.env.CI === 'true') return { skip: true, failInCi: `${what}: lab prerequisite missing under CI: ${cap.why}` };
  console.log(`[lab] skipping ${what}: ${cap.why}`);
  return { skip: true, failInCi: null };
}

export interface KeyPair {
  privateKeyFile: string;
  /** "ssh-ed25519 AAAA... comment" */
  publicKey: string;
}

export function generateKey(dir: string, name: string): KeyPair {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `drover-test-${name}`, '-f', file], { stdio: 'ignore' });
  return { privateKeyFile: file, publicKey: readFileSync(`${file}.pub`, 'utf8').trim() };
}

export interface SshdOptions {
  /** Extra sshd_config lines. */
  config?: string[];
  logLevel?: 'INFO' | 'VERBOSE' | 'DEBUG1' | 'DEBUG2' | 'DEBUG3';
  /** Reuse this client key instead of generating one (e.g. the same key for a bastion). */
  clientKey?: KeyPair;
}

export interface Sshd {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly clientKey: KeyPair;
  /** "ssh-ed25519 AAAA..." (type and base64, no comment) */
  readonly hostKey: { type: string; base64: string };
  /** A known_hosts file holding this server's key as [127.0.0.1]:port. */
  readonly knownHostsFile: string;
  readonly logFile: string;
  /** Allow `publicKey` (default: the client key) to log in as `user`. */
  authorize(user: string, publicKey?: string): void;
  /** A Connection to this server as root with the client key and its known_hosts. */
  connection(overrides?: Partial<ConnectionInput>): Connection;
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves true once the port answers with an SSH banner. */
function probeBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1_000, () => done(false));
    s.once('error', () => done(false));
    s.once('data', (d: Buffer) => done(d.toString('latin1').startsWith('SSH-')));
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Temp dirs of servers whose process is gone (a test process killed before stop()). */
function sweepStaleSshdDirs(): void {
  for (const d of readdirSync(tmpdir())) {
    if (!d.startsWith('drv-sshd-')) continue;
    const dir = join(tmpdir(), d);
    try {
      const pid = Number(readFileSync(join(dir, 'sshd.pid'), 'utf8').trim());
      if (pid > 0 && !alive(pid)) rmSync(dir, { recursive: true, force: true });
    } catch {
      /* no pid file: starting right now, or not ours to judge */
    }
  }
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const cap = isLabCapable();
  if (!cap.ok) throw new Error(`cannot start sshd: ${cap.why}`);
  sweepStaleSshdDirs();
  // Debian's sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'drv-sshd-'));
  try {
    // sshd reads authorized_keys as the logging-in user: let others traverse (not list) it.
    chmodSync(dir, 0o711);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'drover-test-host', '-f', join(dir, 'ssh_host_ed25519_key')], { stdio: 'ignore' });
    const hostPub = readFileSync(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/);
    const hostKey = { type: hostPub[0]!, base64: hostPub[1]! };
    const clientKey = options.clientKey ?? generateKey(dir, 'client_key');
    const akDir = join(dir, 'authorized_keys');
    mkdirSync(akDir, { mode: 0o755 });
    const authorize = (user: string, publicKey: string = clientKey.publicKey) => {
      const f = join(akDir, user);
      const prev = existsSync(f) ? readFileSync(f, 'utf8') : '';
      writeFileSync(f, `${prev}${publicKey}\n`, { mode: 0o644 });
    };
    authorize('root');
    const logFile = join(dir, 'sshd.log');

    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const cfg = join(dir, 'sshd_config');
      writeFileSync(
        cfg,
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
          `PidFile ${join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${akDir}/%u`,
          // The temp dir is not a home directory: skip the ownership checks meant for those.
          'StrictModes no',
          'UsePAM no',
          'PermitRootLogin prohibit-password',
          'PubkeyAuthentication yes',
          'PasswordAuthentication yes',
          'KbdInteractiveAuthentication no',
          'AllowTcpForwarding yes',
          'X11Forwarding no',
          'PrintMotd no',
          'PrintLastLog no',
          'MaxSessions 10',
          'MaxStartups 100:30:200',
          `LogLevel ${options.logLevel ?? 'VERBOSE'}`,
          ...(options.config ?? []),
          '',
        ].join('\n'),
      );
      writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey.type} ${hostKey.base64}\n`);
      const child = spawn(SSHD, ['-D', '-f', cfg, '-E', logFile], { stdio: 'ignore' });
      let ready = false;
      for (let i = 0; i < 100 && !exited(child); i++) {
        if (await probeBanner(port)) {
          ready = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      if (!ready) {
        if (!exited(child)) child.kill('SIGKILL');
        continue; // most likely the port was taken between freePort() and bind: try another
      }
      const pid = child.pid!;
      const sshd: Sshd = {
        host: '127.0.0.1',
        port,
        pid,
        dir,
        clientKey,
        hostKey,
        knownHostsFile: join(dir, 'known_hosts'),
        logFile,
        authorize,
        connection: (overrides = {}) =>
          ConnectionSchema.parse({
            name: `sshd-${port}`,
            address: '127.0.0.1',
            port,
            user: 'root',
            privateKeyFiles: [clientKey.privateKeyFile],
            knownHostsFiles: [join(dir, 'known_hosts')],
            connectTimeoutMs: 5_000,
            // Every test sshd is this machine: many transports at once would share its host lock.
            hostLock: false,
            ...overrides,
          }),
        log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
        stop: async () => {
          // Only the listener, by PID. Sessions end with their connections (close the
          // transports first); killing them here could interrupt a login shell's rc files
          // half-way and leave their lock files behind.
          if (!exited(child)) {
            const gone = new Promise<void>((r) => child.once('exit', () => r()));
            child.kill('SIGTERM');
            await Promise.race([gone, new Promise((r) => setTimeout(r, 3_000))]);
            if (!exited(child)) child.kill('SIGKILL');
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
      return sshd;
    }
    throw new Error(`sshd did not start; log:\n${existsSync(logFile) ? readFileSync(logFile, 'utf8') : '(none)'}`);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Name for a throwaway user owned by this process: `drvt<pid>` (see sweepStaleTestUsers). */
export function tempUserName(): string {
  return `drvt${process.pid}`;
}

/**
 * Remove users (and their sudoers rules) left by test processes that were killed before
 * their clean-up ran: `drvt<pid>` whose pid is no longer alive.
 */
export function sweepStaleTestUsers(): void {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return;
  }
  for (const line of passwd.split('\n')) {
    const m = /^drvt(\d+):/.exec(line);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(`/etc/sudoers.d/drover-test-drvt${m[1]}`, { force: true });
    try {
      execFileSync('userdel', ['-r', '-f', `drvt${m[1]}`], { stdio: 'ignore' });
    } catch {
      /* raced with another sweep */
    }
  }
}

export interface TempUser {
  name: string;
  home: string;
  remove(): void;
}

/**
 * A throwaway local user with a password (set through chpasswd's stdin, never argv) and a
 * sudoers.d rule that requires it. remove() deletes both.
 */
export function createTempUser(name: string, password: string, sudo: 'password' | 'nopasswd' | 'none' = 'password'): TempUser {
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(name)) throw new Error(`bad user name ${name}`);
  const sudoers = `/etc/sudoers.d/drover-test-${name}`;
  const remove = () => {
    rmSync(sudoers, { force: true });
    try {
      execFileSync('userdel', ['-r', '-f', name], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  };
  sweepStaleTestUsers();
  remove(); // a leftover of this very name
  execFileSync('useradd', ['-m', '-s', '/bin/sh', name], { stdio: 'ignore' });
  try {
    execFileSync('chpasswd', [], { input: `${name}:${password}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
    if (sudo !== 'none') {
      const rule = sudo === 'password' ? `${name} ALL=(ALL:ALL) ALL` : `${name} ALL=(ALL:ALL) NOPASSWD: ALL`;
      writeFileSync(sudoers, `Defaults:${name} !lecture\n${rule}\n`, { mode: 0o440 });
    }
  } catch (e) {
    remove();
    throw e;
  }
  return { name, home: `/home/${name}`, remove };
}
