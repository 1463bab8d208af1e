// The ssh transport against a real OpenSSH server (test/support/sshd.ts: 127.0.0.1, free
// high port, its own host key, client key and known_hosts). The server runs on this very
// machine, so the tests can also look at /proc to see what the remote side really ran.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyError, TimeoutError, UnreachableError } from '../../lib/errors.ts';
import { clearSecrets, redact } from '../../lib/secrets/redact.ts';
import { createTransport } from '../../lib/transport/index.ts';
import { hashHostId } from '../../lib/transport/known-hosts.ts';
import { SshTransport } from '../../lib/transport/ssh.ts';
import { PutValidateError, type Transport } from '../../lib/transport/types.ts';
import { createTempUser, tempUserName, hasSudo, isLabCapable, labGate, startSshd, type Sshd, type TempUser } from '../support/sshd.ts';

const cap = isLabCapable();
const gate = labGate(cap, 'ssh transport lab tests');
if (gate.failInCi) {
  it('has the lab prerequisites', () => {
    throw new Error(gate.failInCi!);
  });
}

const USER_PASSWORD = `pw-${process.pid}-'"$x\`;|&`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Every process's command line and environment, to prove a secret is in none of them. */
function processTextsContaining(needle: string): string[] {
  const hits: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    for (const f of ['cmdline', 'environ']) {
      try {
        if (readFileSync(`/proc/${d}/${f}`, 'latin1').includes(needle)) hits.push(`${d}/${f}`);
      } catch {
        /* exited */
      }
    }
  }
  return hits;
}

function pidsWithEnv(entry: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(entry);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** SIGKILL sshd's per-connection processes for `user` (they run as / for the user); how many there were. */
function killConnectionsOf(user: string): number {
  const owned = execFileSync('sh', ['-c', `pgrep -f '^sshd: ${user}' || true`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  for (const p of owned) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      /* already gone with its parent */
    }
  }
  return owned.length;
}

const countAccepted = (s: Sshd, user: string) => s.log().split('\n').filter((l) => l.includes(`Accepted publickey for ${user} `)).length;

describe.skipIf(gate.skip)('ssh transport (real sshd)', () => {
  let sshd: Sshd;
  let user: TempUser;
  let root: Transport;
  /** A user whose login shell is /bin/sh: generic exec tests do not depend on root's rc files. */
  let u: Transport;
  const opened: Transport[] = [];
  const open = (t: Transport) => (opened.push(t), t);

  beforeAll(async () => {
    sshd = await startSshd();
    user = createTempUser(tempUserName(), USER_PASSWORD, 'password');
    sshd.authorize(user.name);
    root = open(createTransport(sshd.connection({ name: 'target' })));
    u = open(createTransport(sshd.connection({ name: 'target-user', user: user.name })));
  });

  afterAll(async () => {
    await Promise.allSettled(opened.map((t) => t.close()));
    user?.remove();
    await sshd?.stop();
    clearSecrets();
  });

  describe('exec', () => {
    it('returns stdout, stderr and the exit code; a non-zero exit is a result, not an error', async () => {
      const r = await u.exec('echo out; echo err >&2; exit 3');
      expect(r).toMatchObject({ stdout: 'out\n', stderr: 'err\n', code: 3 });
      expect((await u.exec('false')).code).toBe(1);
    });

    it('feeds stdin, runs in cwd, and passes env values with tricky quoting untouched', async () => {
      const tricky = `'$HOME' "dq" \\ \`x\` $(id) ;|& \n second line\n`;
      const r = await u.exec('cat; printf "[%s][%s]" "$T" "$(pwd)"', { stdin: 'from stdin\n', env: { T: tricky }, cwd: '/tmp' });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`from stdin\n[${tricky}][/tmp]`);
    });

    it('runs POSIX sh, not the login shell, whatever that is', async () => {
      const r = await root.exec('readlink /proc/$$/exe');
      expect(r.stdout.trim()).toBe(execFileSync('readlink', ['-f', '/bin/sh'], { encoding: 'utf8' }).trim());
    });

    it('times out with TimeoutError, kills the remote command tree, and the connection stays usable', async () => {
      const tag = `DRV_TIMEOUT_T=${process.pid}-${Date.now()}`;
      const [k, v] = tag.split('=') as [string, string];
      const started = Date.now();
      const err = await u.exec('sleep 30 | cat; sleep 30', { timeoutMs: 700, env: { [k]: v } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(Date.now() - started).toBeLessThan(5_000);
      // While it ran, the tree carried the tag; after the timeout nothing with it is left.
      let left = pidsWithEnv(tag);
      for (let i = 0; i < 40 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = pidsWithEnv(tag);
      }
      expect(left).toEqual([]);
      expect((await u.exec('echo still here')).stdout).toBe('still here\n');
    });

    it('runs 30 execs in parallel over one connection with maxSessions 10', async () => {
      const before = countAccepted(sshd, user.name);
      const t = open(createTransport(sshd.connection({ name: 'parallel', user: user.name, maxSessions: 10 })));
      const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => t.exec(`echo ${i}; sleep 0.05`)));
      expect(rs.map((r) => r.code)).toEqual(Array(30).fill(0));
      expect(rs.map((r) => r.stdout)).toEqual(Array.from({ length: 30 }, (_, i) => `${i}\n`));
      expect(countAccepted(sshd, user.name) - before).toBe(1); // one connection for all 30
    });

    it('shares one connection attempt between concurrent connect() calls', async () => {
      const before = countAccepted(sshd, 'root');
      const t = open(createTransport(sshd.connection({ name: 'concurrent-connect' })));
      await Promise.all([t.connect(), t.connect(), t.connect()]);
      await t.connect();
      expect(countAccepted(sshd, 'root') - before).toBe(1);
    });

    it('reconnects once when the connection was dropped', async () => {
      const t = open(createTransport(sshd.connection({ name: 'reconnect', user: user.name })));
      expect((await t.exec('echo one')).stdout).toBe('one\n');
      const before = countAccepted(sshd, user.name);
      // Kill the server side of this connection.
      expect(killConnectionsOf(user.name)).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 300));
      expect((await t.exec('echo two')).stdout).toBe('two\n');
      expect(countAccepted(sshd, user.name) - before).toBe(1);
    });

    it('pipelines commands without stdin through one shell (on by default), and not when drover_pipelining is false', async () => {
      // "$$ $PPID comm": a pipelined command runs in a subshell of the connection's long-lived
      // sh, where $$ is that shell; each session (and each `sh -c`) is a process of its own.
      const ids = async (t: Transport, o: { stdin?: string; timeoutMs?: number } = {}) =>
        (await t.exec('cat >/dev/null; printf "%s %s %s" "$$" "$PPID" "$(cat /proc/$$/comm)"', o)).stdout.split(' ');
      const p = open(createTransport(sshd.connection({ name: 'pipelined', user: user.name })));
      const [a, b] = [await ids(p), await ids(p)];
      expect(a![2]).toBe('sh');
      expect(b).toEqual(a);
      const s = open(createTransport(sshd.connection({ name: 'sessions', user: user.name, pipelining: false })));
      const [c, d] = [await ids(s), await ids(s)];
      expect(c![0]).not.toBe(d![0]);
      // stdin still gets a session of its own; a command with a timeout is pipelined too, in
      // the shell's subshell like any other (its kill marker is exported there, and on a
      // timeout the subshell is killed as the shell's child: lib/transport/README.md).
      expect((await ids(p, { stdin: 'in\n' }))[0]).not.toBe(a![0]);
      expect(await ids(p, { timeoutMs: 5_000 })).toEqual(a);
    });

    it('a pipelined command that times out is killed, and the same shell runs the next commands', async () => {
      const t = open(createTransport(sshd.connection({ name: 'pipelined-timeout', user: user.name })));
      const shell = (await t.exec('echo $PPID')).stdout;
      const tag = `DRV_PTIMEOUT_T=${process.pid}-${Date.now()}`;
      const [k, v] = tag.split('=') as [string, string];
      const err = await t.exec('sleep 30 | cat; sleep 30', { timeoutMs: 700, env: { [k]: v } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      let left = pidsWithEnv(tag);
      for (let i = 0; i < 40 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = pidsWithEnv(tag);
      }
      expect(left).toEqual([]);
      await t.exec('true'); // may still get a session while the killed subshell's end marker is on its way
      expect((await t.exec('echo $PPID')).stdout).toBe(shell);
    });

    it('reports a connection dropped under a pipelined command as UnreachableError, then reconnects', async () => {
      const t = open(createTransport(sshd.connection({ name: 'pipelined-drop', user: user.name })));
      expect((await t.exec('echo one')).stdout).toBe('one\n');
      const running = t.exec('sleep 20');
      await new Promise((r) => setTimeout(r, 300));
      expect(killConnectionsOf(user.name)).toBeGreaterThan(0);
      const e = await running.catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UnreachableError);
      expect((e as Error).message).toMatch(/connection lost while running: sleep 20/);
      expect((await t.exec('echo two')).stdout).toBe('two\n');
    });

    it('reports a closed port as UnreachableError', async () => {
      const t = open(createTransport(sshd.connection({ name: 'nowhere', port: 1, connectTimeoutMs: 2_000 })));
      const e = await t.exec('true').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UnreachableError);
      expect((e as Error).message).toMatch(/^nowhere: cannot connect to root@127\.0\.0\.1:1/);
    });

    it('measures the round trip of a trivial exec (printed, not asserted)', async () => {
      const sample = async (t: Transport) => {
        await t.exec('true');
        const xs: number[] = [];
        for (let i = 0; i < 15; i++) {
          const t0 = performance.now();
          await t.exec('true');
          xs.push(performance.now() - t0);
        }
        return median(xs);
      };
      const us = await sample(u);
      const r = await sample(root);
      console.log(
        `[lab] median exec round trip over one connection: ${us.toFixed(1)} ms as a user whose login shell is /bin/sh; ` +
          `${r.toFixed(1)} ms as root (sshd runs the login shell's rc files on every exec: root's bash here sources ~/.bashrc)`,
      );
      expect(us).toBeGreaterThan(0);
    });
  });

  describe('put and get', () => {
    it('writes atomically with mode and owner, and get returns the same bytes', async () => {
      const f = `${user.home}/drv put.bin`;
      const bin = Buffer.from([0, 1, 2, 250, 255, 10, 13, 0]);
      await root.put(f, bin, { mode: '0640', owner: user.name, group: user.name });
      const st = statSync(f);
      expect(st.mode & 0o777).toBe(0o640);
      expect(st.uid).toBe(Number(execFileSync('id', ['-u', user.name], { encoding: 'utf8' })));
      expect((await root.get(f)).equals(bin)).toBe(true);
    });

    it('on validate failure leaves the target untouched and no temp file behind', async () => {
      const dir = `${user.home}/cfg`;
      await root.put(`${dir}/app.conf`, 'good=1\n', { mkdirs: true, mode: 0o644 });
      const err = await root.put(`${dir}/app.conf`, 'bad\n', { validate: 'grep -q "=" %s' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PutValidateError);
      expect((err as PutValidateError).result.code).toBe(1);
      expect(readFileSync(`${dir}/app.conf`, 'utf8')).toBe('good=1\n');
      expect(readdirSync(dir)).toEqual(['app.conf']);
    });
  });

  describe.skipIf(!hasSudo() && process.env.CI !== 'true')('sudo', () => {
    it('runs as root with the password on stdin only: never on any command line or environment', async () => {
      expect(hasSudo()).toBe(true); // under CI a missing sudo fails here instead of skipping
      const t = open(new SshTransport(sshd.connection({ name: 'sudoer', user: user.name, becomePassword: USER_PASSWORD })));
      await t.connect();
      const seen = new Set<string>();
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          for (const h of processTextsContaining(USER_PASSWORD)) seen.add(h);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const r = await t.exec('cat; id -u; sleep 1', { sudo: true, stdin: 'stdin for the command\n' });
      watching = false;
      await watcher;
      expect(r).toMatchObject({ code: 0, stdout: 'stdin for the command\n0\n', stderr: '' });
      expect([...seen]).toEqual([]);
      expect(sshd.log()).not.toContain(USER_PASSWORD);
    });

    it('becomes another user than root', async () => {
      const t = open(createTransport(sshd.connection({ name: 'sudo-nobody', user: user.name, becomePassword: USER_PASSWORD })));
      const r = await t.exec('id -un', { sudo: { user: 'nobody' } });
      expect(r.stdout.trim()).toBe('nobody');
    });

    it('fails clearly on a wrong password without echoing it', async () => {
      const wrong = `wrong-${process.pid}-pass`;
      const t = open(createTransport(sshd.connection({ name: 'sudo-wrong', user: user.name, becomePassword: wrong })));
      const r = await t.exec('echo SHOULD-NOT-RUN', { sudo: true });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/drover: sudo -u root as drvt\d+ failed: wrong become password/);
      expect(r.stderr).not.toContain(wrong);
      expect(redact(wrong)).not.toContain(wrong); // registered as a secret for every reporter
    });

    it('says a password is needed when none is configured', async () => {
      const t = open(createTransport(sshd.connection({ name: 'sudo-none', user: user.name })));
      const r = await t.exec('id -u', { sudo: true });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/needs a password/);
    });

    it('puts and gets with sudo as a non-root user with a password', async () => {
      const t = open(createTransport(sshd.connection({ name: 'sudo-put', user: user.name, becomePassword: USER_PASSWORD })));
      const f = `/root/drv-sudo-put-${process.pid}`;
      try {
        await t.put(f, 'secret content\n', { sudo: true, mode: '0600' });
        expect(statSync(f).uid).toBe(0);
        expect(statSync(f).mode & 0o777).toBe(0o600);
        await expect(t.get(f)).rejects.toThrow(/Permission denied/);
        expect((await t.get(f, { sudo: true })).toString()).toBe('secret content\n');
      } finally {
        execFileSync('rm', ['-f', f]);
      }
    });

    it('needs no sudo for root: become as root runs the command directly', async () => {
      const r = await root.exec('id -u', { sudo: true });
      expect(r.stdout).toBe('0\n');
    });
  });

  describe('authentication', () => {
    it('logs in with a password when no key is given', async () => {
      const t = open(
        createTransport(sshd.connection({ name: 'pw-login', user: user.name, privateKeyFiles: [`${sshd.dir}/no-such-key`], password: USER_PASSWORD })),
      );
      expect((await t.exec('id -un')).stdout.trim()).toBe(user.name);
    });

    it('logs in through ssh-agent when the key is only in the agent', async () => {
      const sock = join(sshd.dir, 'agent.sock');
      const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
      try {
        for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
        execFileSync('ssh-add', ['-q', sshd.clientKey.privateKeyFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
        const t = open(createTransport(sshd.connection({ name: 'agent-login', user: user.name, privateKeyFiles: [`${sshd.dir}/no-such-key`], agent: sock })));
        expect((await t.exec('id -un')).stdout.trim()).toBe(user.name);
        await t.close();
      } finally {
        agent.kill('SIGTERM');
      }
    });

    it('reports an authentication failure as UnreachableError without the password', async () => {
      const bad = `bad-${process.pid}-pw`;
      const t = open(createTransport(sshd.connection({ name: 'pw-bad', user: user.name, privateKeyFiles: [`${sshd.dir}/no-such-key`], password: bad })));
      const e = await t.connect().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UnreachableError);
      expect((e as Error).message).toMatch(/authentication failed for drvt\d+@127\.0\.0\.1/);
      expect((e as Error).message).not.toContain(bad);
    });
  });

  describe('host keys', () => {
    const hostLine = () => `[127.0.0.1]:${sshd.port} ${sshd.hostKey.type} ${sshd.hostKey.base64}`;

    it('refuses an unknown host, naming it, the file and the opt-in', async () => {
      const kh = join(sshd.dir, 'kh-empty');
      writeFileSync(kh, '');
      const t = open(createTransport(sshd.connection({ name: 'hk-unknown', knownHostsFiles: [kh] })));
      const e = await t.connect().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HostKeyError);
      expect((e as Error).message).toContain(`[127.0.0.1]:${sshd.port}`);
      expect((e as Error).message).toContain(kh);
      expect((e as Error).message).toContain('acceptNewHostKeys');
      expect(readFileSync(kh, 'utf8')).toBe('');
    });

    it('accepts and records an unknown host with acceptNewHostKeys, then knows it', async () => {
      const kh = join(sshd.dir, 'kh-new');
      const notices: string[] = [];
      const t = open(
        new SshTransport(sshd.connection({ name: 'hk-accept', user: user.name, knownHostsFiles: [kh], acceptNewHostKeys: true }), { onNotice: (m) => notices.push(m) }),
      );
      expect((await t.exec('echo ok')).stdout).toBe('ok\n');
      expect(readFileSync(kh, 'utf8')).toBe(`${hostLine()}\n`);
      expect(notices.join('\n')).toMatch(/recorded new host key/);
      const again = open(createTransport(sshd.connection({ name: 'hk-known', knownHostsFiles: [kh] })));
      await expect(again.connect()).resolves.toBeUndefined();
    });

    it('refuses a changed key even with acceptNewHostKeys, and leaves the file alone', async () => {
      const kh = join(sshd.dir, 'kh-mismatch');
      const other = `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`;
      writeFileSync(kh, other);
      const t = open(createTransport(sshd.connection({ name: 'hk-mismatch', knownHostsFiles: [kh], acceptNewHostKeys: true })));
      const e = await t.connect().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HostKeyError);
      expect((e as Error).message).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
      expect(readFileSync(kh, 'utf8')).toBe(other);
    });

    it('accepts a hashed known_hosts entry (as ssh-keygen -H writes them)', async () => {
      const kh = join(sshd.dir, 'kh-hashed');
      writeFileSync(kh, `${hostLine()}\n`);
      execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
      expect(readFileSync(kh, 'utf8')).toMatch(/^\|1\|/);
      const t = open(createTransport(sshd.connection({ name: 'hk-hashed', knownHostsFiles: [kh] })));
      await expect(t.connect()).resolves.toBeUndefined();
      // and our own hashing agrees with OpenSSH's
      const ours = join(sshd.dir, 'kh-ours');
      writeFileSync(ours, `${hashHostId(`[127.0.0.1]:${sshd.port}`)} ${sshd.hostKey.type} ${sshd.hostKey.base64}\n`);
      await expect(open(createTransport(sshd.connection({ name: 'hk-ours', knownHostsFiles: [ours] }))).connect()).resolves.toBeUndefined();
    });

    it('refuses a key marked @revoked', async () => {
      const kh = join(sshd.dir, 'kh-revoked');
      writeFileSync(kh, `@revoked * ${sshd.hostKey.type} ${sshd.hostKey.base64}\n${hostLine()}\n`);
      const e = await open(createTransport(sshd.connection({ name: 'hk-revoked', knownHostsFiles: [kh] }))).connect().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HostKeyError);
      expect((e as Error).message).toMatch(/@revoked/);
    });
  });

  describe('ProxyJump', () => {
    let bastion: Sshd;
    beforeAll(async () => {
      bastion = await startSshd({ clientKey: sshd.clientKey, logLevel: 'DEBUG1' });
    });
    afterAll(async () => {
      await bastion?.stop();
    });

    it('reaches the target through the bastion, verifying both host keys', async () => {
      const kh = join(sshd.dir, 'kh-both');
      writeFileSync(kh, readFileSync(sshd.knownHostsFile, 'utf8') + readFileSync(bastion.knownHostsFile, 'utf8'));
      const t = open(createTransport(sshd.connection({ name: 'jumped', user: user.name, proxyJump: `root@127.0.0.1:${bastion.port}`, knownHostsFiles: [kh] })));
      const r = await t.exec('echo "$SSH_CONNECTION"');
      expect(r.code).toBe(0);
      // The target saw a connection, and the bastion forwarded a channel to the target's port.
      expect(r.stdout).toMatch(new RegExp(` 127\\.0\\.0\\.1 ${sshd.port}\\n$`));
      expect(bastion.log()).toMatch(new RegExp(`direct[-_]tcpip.*target 127\\.0\\.0\\.1 port ${sshd.port}`));
      // 12 parallel execs through the tunnel work too
      const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => t.exec(`echo ${i}`)));
      expect(rs.every((x, i) => x.stdout === `${i}\n`)).toBe(true);
    });

    it('refuses a jump host whose key is unknown, naming the jump host', async () => {
      const t = open(createTransport(sshd.connection({ name: 'jump-unknown', proxyJump: `root@127.0.0.1:${bastion.port}` })));
      const e = await t.connect().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HostKeyError);
      expect((e as Error).message).toContain(`[127.0.0.1]:${bastion.port}`);
    });
  });
});
