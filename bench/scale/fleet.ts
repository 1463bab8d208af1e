// Light SSH hosts for the scale benchmark: one sshd per "host" (no systemd, no container),
// each listening on its own loopback address 127.20.X.Y, all logging in a dedicated user
// whose shell is /bin/sh (root's rc files here run pyenv on every exec). Each host gets its
// own directory under that user's home (the `bench_root` inventory variable), so the hosts
// share a kernel and a user but not their managed state.
//
// Everything the fleet starts is tracked by PID (and lives in one cgroup): stopFleet() and the
// exit/signal hooks stop exactly those processes, and a crashed earlier run's leftovers are
// found through the PID file in the state directory and stopped before a new fleet starts.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Cgroup, sleep } from '../lib/measure.ts';

export const BENCH_USER = 'drover-bench';
export const STATE_DIR = '/run/drover-bench';
/**
 * The key exchange for the OpenSSH clients (floor, Ansible): the one Drover's ssh2 uses.
 * OpenSSH 9's default, sntrup761x25519, costs ~160 ms of client CPU per connection on this
 * machine (measured: 0.17 s vs 0.01 s), which would measure the crypto, not the tools.
 */
export const KEX = 'curve25519-sha256';

export interface FleetHost {
  name: string;
  address: string;
  port: number;
  /** Where this host's managed files live. */
  root: string;
}

export interface Fleet {
  dir: string;
  user: string;
  home: string;
  key: string;
  knownHosts: string;
  hosts: FleetHost[];
  /** The sshd processes' cgroup: their CPU is the "targets" side of a run. */
  cgroup: Cgroup;
  /** INI inventory read by drover and ansible alike. */
  inventory(hosts: readonly FleetHost[], file: string, vars?: Record<string, string>): string;
  /** ssh(1) options for the floor and ansible: this fleet's key and known_hosts only. */
  sshOptions: string[];
}

export function hostAddress(i: number): string {
  return `127.20.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export function hostName(i: number): string {
  return `h${String(i + 1).padStart(4, '0')}`;
}

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });
}

function userExists(user: string): boolean {
  try {
    sh('id', ['-u', user]);
    return true;
  } catch {
    return false;
  }
}

const PIDS_FILE = join(STATE_DIR, 'pids');

/** Our sshd (or anything started with our config): safe to stop. */
function isOurs(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(STATE_DIR, 'sshd_config'));
  } catch {
    return false;
  }
}

let started: number[] = [];
let fleetCgroup: Cgroup | null = null;
let hooked = false;

function killOurs(signal: NodeJS.Signals): void {
  for (const pid of started) {
    if (!isOurs(pid)) continue;
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Last resort on any exit: synchronous, so only signals; the state dir and the user are
  // cleaned by the next run's startFleet() (or `npm run bench -- cleanup`).
  process.on('exit', () => {
    killOurs('SIGTERM');
    fleetCgroup?.kill();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping the light hosts\n`);
      void stopFleet().finally(() => process.exit(130));
    });
  }
}

/** Stop what a crashed earlier run left: PIDs from the state dir, the cgroup, the user. */
export async function cleanupStale(): Promise<void> {
  if (existsSync(PIDS_FILE)) {
    for (const pid of readFileSync(PIDS_FILE, 'utf8').split('\n').filter(Boolean).map(Number)) {
      if (!isOurs(pid)) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
  }
  const cg = new Cgroup('fleet');
  await cg.remove();
  rmSync(STATE_DIR, { recursive: true, force: true });
  if (userExists(BENCH_USER)) removeUser();
}

function removeUser(): void {
  for (let i = 0; i < 3; i++) {
    try {
      sh('userdel', ['--remove', BENCH_USER]);
      return;
    } catch (e) {
      // userdel refuses while a process of the user runs (a session closing): retry shortly.
      if (i === 2) process.stderr.write(`bench: userdel ${BENCH_USER} failed: ${(e as { stderr?: string }).stderr ?? e}\n`);
      execFileSync('sleep', ['0.5']);
    }
  }
}

const SSHD_CONFIG = (dir: string, user: string) => `# drover bench light host (one sshd per host; ListenAddress given with -o)
HostKey ${dir}/host_ed25519
PidFile none
UsePAM no
AuthorizedKeysFile ${dir}/authorized_keys
AllowUsers ${user}
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UseDNS no
PrintMotd no
PrintLastLog no
MaxSessions 10
MaxStartups 100:30:200
# Each light host takes one connection per run, but at 1000 hosts the floor starts 1000
# handshakes at once on 2 shared cores: sshd's default 120 s grace would drop the last ones
# (the run would measure a failure, not a tool). 0 = no limit; the clients' own timeouts hold.
LoginGraceTime 0
LogLevel ERROR
Subsystem sftp internal-sftp
`;

export interface StartOptions {
  port?: number;
  /** How many sshd to start at once. */
  parallel?: number;
  log?: (msg: string) => void;
}

export async function startFleet(count: number, o: StartOptions = {}): Promise<Fleet> {
  if (process.getuid?.() !== 0) throw new Error('the scale bench needs root (it starts sshd on loopback addresses and adds a user)');
  const log = o.log ?? (() => undefined);
  const port = o.port ?? 22;
  await cleanupStale();
  hookExit();
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
  const dir = STATE_DIR;
  const home = `/home/${BENCH_USER}`;
  // Password '*': no password login, but not "locked" ('!'), which sshd without PAM refuses.
  sh('useradd', ['--create-home', '--home-dir', home, '--shell', '/bin/sh', '--user-group', '--password', '*', BENCH_USER]);
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'drover-bench', '-f', join(dir, 'id_ed25519')]);
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'drover-bench-host', '-f', join(dir, 'host_ed25519')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id_ed25519.pub')), { mode: 0o644 });
  const cfg = join(dir, 'sshd_config');
  writeFileSync(cfg, SSHD_CONFIG(dir, BENCH_USER), { mode: 0o644 });
  sh('/usr/sbin/sshd', ['-t', '-f', cfg]);
  const hostKey = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const hosts: FleetHost[] = [];
  for (let i = 0; i < count; i++) {
    const name = hostName(i);
    hosts.push({ name, address: hostAddress(i), port, root: `${home}/hosts/${name}` });
  }
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, hosts.map((h) => `${port === 22 ? h.address : `[${h.address}]:${port}`} ${hostKey}\n`).join(''));
  mkdirSync(join(home, 'hosts'), { recursive: true });
  sh('chown', ['-R', `${BENCH_USER}:${BENCH_USER}`, home]);

  const cgroup = new Cgroup('fleet');
  fleetCgroup = cgroup;
  const logFd = openSync(join(dir, 'sshd.log'), 'a');
  const procs = join(cgroup.dir, 'cgroup.procs');
  started = [];
  for (const h of hosts) {
    const child = spawn('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', procs, '/usr/sbin/sshd', '-D', '-e', '-f', cfg, '-o', `ListenAddress=${h.address}:${h.port}`], {
      stdio: ['ignore', 'ignore', logFd],
    });
    child.unref();
    if (child.pid) started.push(child.pid);
  }
  closeSync(logFd);
  writeFileSync(PIDS_FILE, started.join('\n') + '\n');
  log(`started ${started.length} sshd, waiting for them to answer`);
  // 1000 sshd starting at once on 2 loaded cores take a while (~140 s measured at load ~100):
  // 60 s plus 0.3 s per host.
  await waitAll(hosts, o.parallel ?? 50, 60_000 + 300 * hosts.length);
  log(`all ${hosts.length} sshd answer`);
  const sshOptions = [
    '-F', '/dev/null',
    '-i', join(dir, 'id_ed25519'),
    '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', `KexAlgorithms=${KEX}`,
  ];
  return {
    dir,
    user: BENCH_USER,
    home,
    key: join(dir, 'id_ed25519'),
    knownHosts,
    hosts,
    cgroup,
    sshOptions,
    inventory(list, file, vars = {}) {
      const lines = ['[bench]'];
      for (const h of list) lines.push(`${h.name} ansible_host=${h.address}${h.port !== 22 ? ` ansible_port=${h.port}` : ''} bench_root=${h.root}`);
      lines.push('', '[bench:vars]');
      lines.push(`ansible_user=${BENCH_USER}`);
      lines.push(`ansible_ssh_private_key_file=${join(dir, 'id_ed25519')}`);
      lines.push(`drover_known_hosts=${knownHosts}`);
      // Hundreds of handshakes on 2 shared cores: 10 s (both tools' default) is not enough for
      // the last ones; the floor's ssh has no connect timeout at all.
      lines.push('ansible_ssh_timeout=120');
      lines.push(`ansible_ssh_common_args='-F /dev/null -o IdentitiesOnly=yes -o UserKnownHostsFile=${knownHosts} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o KexAlgorithms=${KEX}'`);
      for (const [k, v] of Object.entries(vars)) lines.push(`${k}=${v}`);
      writeFileSync(file, lines.join('\n') + '\n');
      return file;
    },
  };
}

/** Wait until every sshd answers with its banner. */
async function waitAll(hosts: readonly FleetHost[], parallel: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const h = hosts[next++]!;
      while (!(await banner(h))) {
        if (Date.now() > deadline) throw new Error(`light host ${h.name} (${h.address}:${h.port}) did not answer within ${Math.round(withinMs / 1000)} s (see ${STATE_DIR}/sshd.log)`);
        await sleep(50);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, hosts.length) }, worker));
}

function banner(h: FleetHost): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: h.address, port: h.port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2_000, () => done(false));
    s.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
    s.once('error', () => done(false));
  });
}

export async function stopFleet(): Promise<void> {
  killOurs('SIGTERM');
  for (let i = 0; i < 30 && started.some(isOurs); i++) await sleep(100);
  killOurs('SIGKILL');
  started = [];
  if (fleetCgroup) await fleetCgroup.remove();
  fleetCgroup = null;
  rmSync(STATE_DIR, { recursive: true, force: true });
  if (userExists(BENCH_USER)) removeUser();
}
