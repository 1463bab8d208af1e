// The ssh transport on ssh2: one persistent connection per host (through ProxyJump hops
// when set), opened lazily, Nagle off, keepalive, host keys checked against known_hosts,
// and at most maxSessions channels at once (OpenSSH's MaxSessions is 10).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { homedir } from 'node:os';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, Client as SshClient, ClientChannel } from 'ssh2';
import { ConnectionLostError, HostKeyError, TimeoutError, UnreachableError } from '../errors.ts';
import { addSecret, redact } from '../secrets/redact.ts';
import { hostLockFor, pipeliningFor, type Connection } from './connection.ts';
import { acquireHostLock, CONN_MARK_VAR } from './host-lock.ts';
import { decideHostKey, defaultKnownHostsFiles, loadKnownHosts, preferredHostKeyAlgorithms, type HostKeyPolicy } from './host-key.ts';
import { parseProxyJump, type JumpHop } from './proxy-jump.ts';
import { PipelinedShell, ShellTimeoutError } from './pipelined-shell.ts';
import { observeRoundTrips, RoundTripCounter, type RoundTrips } from './round-trips.ts';
import { Semaphore } from './semaphore.ts';
import { ShellTransport, type RawResult } from './shell-transport.ts';

const { Client, utils } = ssh2;

export interface SshTransportOptions {
  /**
   * Told about things worth a log line about this host (a host key recorded on first use,
   * waiting for the host lock, a retry on a new connection).
   */
  onNotice?: (message: string) => void;
}

interface Live {
  client: SshClient;
  /** Jump host connections, in order; closed with the main one. */
  hops: SshClient[];
  alive: boolean;
  /** The pipelined shell of this connection (opened on first use), or false if it failed. */
  shell?: Promise<PipelinedShell | false>;
}

/** Keepalive probes without an answer before the connection is declared dead. */
const KEEPALIVE_COUNT_MAX = 3;
/** How long to keep retrying a channel the server refused (a slot still being freed). */
const OPEN_RETRY_MS = 5_000;
const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
/**
 * SSH handshakes in flight at once, process-wide. Each costs the controller ~10 ms of CPU
 * and the server more (sshd re-executes itself per connection); hundreds started together
 * all crawl and hit the connect timeout together (measured: 500 hosts at --forks 500, every
 * one timed out at 10 s). Waiting for a slot is outside the timeout; 64 in flight still
 * hide a 200 ms WAN round trip.
 */
const MAX_HANDSHAKES = 64;
const handshakes = new Semaphore(MAX_HANDSHAKES);

/** How long close() waits for sshd to close the socket after our disconnect message. */
const CLOSE_GRACE_MS = 50;

export class SshTransport extends ShellTransport {
  private live: Live | null = null;
  private connecting: Promise<Live> | null = null;
  private readonly sessions: Semaphore;
  private readonly policy: HostKeyPolicy;
  private authCache: { methods: AnyAuthMethod[]; notes: string[] } | null = null;
  private readonly pipelining: boolean;
  private readonly hostLock: boolean;
  /** This transport's DROVER_CONN value: marks its commands for the host lock (host-lock.ts). */
  private readonly connId: string;
  /** `export DROVER_CONN=<connId>; ` before every command line (empty without the lock). */
  private readonly connMark: string;
  /** Direction turns on the socket to the host (or to the first jump host): round-trips.ts. */
  private readonly trips = new RoundTripCounter();

  constructor(
    private readonly conn: Connection,
    private readonly options: SshTransportOptions = {},
  ) {
    super(conn.name, { become: conn.become, becomeUser: conn.becomeUser, ...(conn.becomePassword !== undefined ? { becomePassword: conn.becomePassword } : {}) }, { commandTimeoutMs: conn.commandTimeoutMs });
    addSecret(conn.password);
    this.hostLock = hostLockFor(conn);
    this.connId = randomBytes(8).toString('hex');
    this.connMark = this.hostLock ? `export ${CONN_MARK_VAR}=${this.connId}; ` : '';
    // The host lock's session holds one of the server's session slots for the whole connection.
    this.sessions = new Semaphore(this.hostLock ? Math.max(1, conn.maxSessions - 1) : conn.maxSessions);
    this.pipelining = pipeliningFor(conn);
    this.policy = { files: defaultKnownHostsFiles(conn.knownHostsFiles), acceptNew: conn.acceptNewHostKeys };
  }

  protected loginIsRoot(): boolean {
    return this.conn.user === 'root';
  }

  protected override notice(message: string): void {
    this.options.onNotice?.(message);
  }

  async connect(): Promise<void> {
    await this.getLive();
  }

  /** Network round trips this transport has cost so far (connect = opening its connections). */
  roundTrips(): RoundTrips {
    return this.trips.value;
  }

  protected async disconnect(): Promise<void> {
    const pending = this.connecting;
    if (pending) await pending.catch(() => undefined);
    const live = this.live;
    this.live = null;
    if (!live) return;
    live.alive = false;
    // Nothing after our disconnect is waited for a round trip (at most the grace below).
    this.trips.freeze();
    // end() sends SSH's disconnect; sshd then tears the login session down (PAM, logind: a few
    // hundred ms in the lab's containers) before it closes the socket. Nothing of ours is left
    // to wait for by then (every command has ended), so like OpenSSH's client we do not wait
    // for that: a short grace for a clean close, then the socket goes.
    const closed = new Promise<void>((resolve) => {
      live.client.once('close', () => resolve());
      setTimeout(resolve, CLOSE_GRACE_MS).unref();
    });
    live.client.end();
    await closed;
    live.client.destroy();
    for (const h of [...live.hops].reverse()) h.end();
  }

  private getLive(): Promise<Live> {
    if (this.live?.alive) return Promise.resolve(this.live);
    this.connecting ??= this.trips.during(() => this.openLive()).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async openLive(): Promise<Live> {
    const c = this.conn;
    let hops: JumpHop[];
    try {
      hops = parseProxyJump(c.proxyJump, c.user);
    } catch (e) {
      throw new UnreachableError(this.name, `invalid proxyJump: ${(e as Error).message}`);
    }
    const route: JumpHop[] = [...hops, { user: c.user, host: c.address, port: c.port }];
    const clients: SshClient[] = [];
    let sock: Duplex | undefined;
    this.trips.opened();
    try {
      for (let i = 0; i < route.length; i++) {
        const hop = route[i]!;
        const via = i > 0 ? route[i - 1]! : undefined;
        const label = i < route.length - 1 ? `jump host ${hop.user}@${hop.host}:${hop.port}` : `${hop.user}@${hop.host}:${hop.port}`;
        const client = await this.openClient(hop, sock, label, via);
        clients.push(client);
        if (i < route.length - 1) sock = await this.tunnel(client, route[i + 1]!, label);
      }
    } catch (e) {
      for (const cl of clients.reverse()) cl.end();
      throw e;
    } finally {
      this.trips.ready();
    }
    const client = clients.pop()!;
    if (this.hostLock) {
      // Before anything runs on the host, on every new connection (a reconnect included).
      try {
        await acquireHostLock(client, { name: this.name, waitMs: c.hostLockWaitMs, connMark: this.connId, onNotice: (m) => this.notice(m) });
      } catch (e) {
        client.end();
        for (const cl of clients.reverse()) cl.end();
        throw e;
      }
    }
    const live: Live = { client, hops: clients, alive: true };
    const drop = () => {
      live.alive = false;
      if (this.live === live) this.live = null;
    };
    client.on('close', drop);
    client.on('end', drop);
    for (const h of clients) h.on('close', drop);
    this.live = live;
    return live;
  }

  private tunnel(client: SshClient, to: JumpHop, label: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, to.host, to.port, (err, stream) => {
        if (err) reject(new UnreachableError(this.name, `${label} could not open a tunnel to ${to.host}:${to.port}: ${err.message}`));
        else resolve(stream);
      });
    });
  }

  private async openClient(hop: JumpHop, sock: Duplex | undefined, label: string, via: JumpHop | undefined): Promise<SshClient> {
    const release = await handshakes.acquire();
    try {
      return await this.handshake(hop, sock, label, via);
    } finally {
      release();
    }
  }

  private handshake(hop: JumpHop, sock: Duplex | undefined, label: string, via: JumpHop | undefined): Promise<SshClient> {
    const c = this.conn;
    const entries = loadKnownHosts(this.policy.files);
    const auth = this.authMethods(hop.user);
    if (auth.methods.length === 0) {
      return Promise.reject(
        new UnreachableError(this.name, `no way to authenticate to ${label}: no ssh-agent ($SSH_AUTH_SOCK), no usable private key file, no password${auth.notes.length ? ` (${auth.notes.join('; ')})` : ''}`),
      );
    }
    const viaText = via ? ` via ${via.host}:${via.port}` : '';
    return new Promise((resolve, reject) => {
      const client = new Client();
      // One 'close' listener per running channel (up to maxSessions) plus our own.
      client.setMaxListeners(this.conn.maxSessions + 16);
      let hostKeyError: HostKeyError | undefined;
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(err);
      };
      client.on('ready', () => {
        if (settled) return;
        settled = true;
        resolve(client);
      });
      // After 'ready', errors are followed by 'close', which drops the connection; the
      // listener must stay so an 'error' never goes unhandled.
      client.on('error', (err: Error & { level?: string }) => {
        if (settled) return;
        if (hostKeyError) return fail(hostKeyError);
        fail(this.connectError(err, label + viaText, auth.methods, auth.notes));
      });
      client.on('close', () => fail(hostKeyError ?? new UnreachableError(this.name, `connection to ${label}${viaText} closed during setup`)));
      client.on('connect', () => client.setNoDelay(true)); // Nagle costs ~40 ms per round trip
      // The first hop's socket is ours (not ssh2's) so its turns can be counted: every later
      // hop's bytes go through it too. ssh2 waits for its 'connect' as for its own socket.
      const own = sock ? undefined : observeRoundTrips(new Socket(), this.trips);
      try {
        client.connect({
          host: hop.host,
          port: hop.port,
          username: hop.user,
          sock: sock ?? own,
          readyTimeout: c.connectTimeoutMs,
          keepaliveInterval: c.keepaliveIntervalMs,
          keepaliveCountMax: KEEPALIVE_COUNT_MAX,
          algorithms: { serverHostKey: preferredHostKeyAlgorithms(entries, hop.host, hop.port) as never },
          hostVerifier: (key: Buffer) => {
            const d = decideHostKey(this.name, hop.host, hop.port, key, this.policy);
            if (!d.ok) {
              hostKeyError = d.error;
              return false;
            }
            if (d.recorded) this.notice(`recorded new host key in ${d.recorded}`);
            return true;
          },
          authHandler: auth.methods,
        });
        if (own) {
          own.setMaxListeners(0);
          this.trips.sent(); // the TCP handshake: SYN out, SYN-ACK back ('connect')
          own.connect({ host: hop.host, port: hop.port });
        }
      } catch (e) {
        fail(new UnreachableError(this.name, `cannot connect to ${label}: ${(e as Error).message}`));
      }
    });
  }

  private connectError(err: Error & { level?: string }, label: string, methods: AnyAuthMethod[], notes: string[]): UnreachableError {
    const msg = redact(err.message);
    if (err.level === 'client-authentication') {
      const tried = methods.map((m) => m.type).join(', ');
      return new UnreachableError(this.name, `authentication failed for ${label} (tried: ${tried})${notes.length ? `; ${notes.join('; ')}` : ''}`, { cause: err });
    }
    if (err.level === 'client-timeout') {
      return new UnreachableError(this.name, `timed out connecting to ${label} after ${this.conn.connectTimeoutMs} ms`, { cause: err });
    }
    return new UnreachableError(this.name, `cannot connect to ${label}: ${msg}`, { cause: err });
  }

  /** Auth methods in OpenSSH's order: agent, key files, then password. Built once. */
  private authMethods(user: string): { methods: AnyAuthMethod[]; notes: string[] } {
    if (!this.authCache) {
      const c = this.conn;
      const keys: Buffer[] = [];
      const notes: string[] = [];
      const explicit = c.privateKeyFiles.length > 0;
      const files = explicit ? c.privateKeyFiles : DEFAULT_KEY_FILES.map((f) => `${homedir()}/.ssh/${f}`);
      for (const f of files) {
        let data: Buffer;
        try {
          data = readFileSync(f);
        } catch (e) {
          if (explicit) notes.push(`cannot read key file ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
          continue;
        }
        const parsed = utils.parseKey(data);
        if (parsed instanceof Error) {
          notes.push(`cannot use key file ${f}: ${parsed.message} (load passphrase-protected keys into ssh-agent)`);
          continue;
        }
        keys.push(data);
      }
      const agent = c.agent ?? process.env.SSH_AUTH_SOCK;
      const methods: AnyAuthMethod[] = [];
      if (agent) methods.push({ type: 'agent', username: '', agent });
      for (const key of keys) methods.push({ type: 'publickey', username: '', key });
      if (c.password !== undefined) {
        const password = c.password;
        methods.push({ type: 'password', username: '', password });
        methods.push({
          type: 'keyboard-interactive',
          username: '',
          prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
        });
      }
      this.authCache = { methods, notes };
    }
    // ssh2 walks the array once per connection: hand each connection its own copy.
    return { methods: this.authCache.methods.map((m) => ({ ...m, username: user })), notes: this.authCache.notes };
  }

  protected runLine(line: string, stdin: Buffer | undefined, timeoutMs: number | undefined, what: string, inline?: string): Promise<RawResult> {
    return this.trips.during(() => this.runLineNow(line, stdin, timeoutMs, what, inline));
  }

  private async runLineNow(line: string, stdin: Buffer | undefined, timeoutMs: number | undefined, what: string, inline?: string): Promise<RawResult> {
    // Pipelined unless there is stdin to give (the shell's stdin is the command stream).
    if (this.pipelining && !stdin?.length) {
      const r = await this.runPipelined(inline ?? line, what, timeoutMs);
      if (r) return r;
    }
    const release = await this.sessions.acquire();
    let run: ChannelRun;
    try {
      run = await this.openChannel(this.connMark + line);
    } catch (e) {
      release();
      throw e;
    }
    const { channel, live } = run;
    const started = Date.now();
    return new Promise<RawResult>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (e?: Error) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        live.client.removeListener('close', onDrop);
        release();
        if (e) return reject(e);
        if (run.code === undefined) return reject(new ConnectionLostError(this.name, `connection lost while running: ${what}`));
        resolve({
          stdout: Buffer.concat(run.out),
          stderr: Buffer.concat(run.err),
          code: run.code,
          ...(run.signal ? { signal: run.signal } : {}),
          durationMs: Date.now() - started,
        });
      };
      const onDrop = () => finish(new ConnectionLostError(this.name, `connection lost while running: ${what}`));
      live.client.once('close', onDrop);
      run.onClose = () => finish();
      if (run.closed) return finish();
      channel.on('error', (e: Error) => finish(new ConnectionLostError(this.name, `channel error while running ${what}: ${e.message}`)));
      if (timeoutMs !== undefined && timeoutMs > 0) {
        timer = setTimeout(() => {
          // Stop the session's process now; the caller (ShellTransport) then kills the rest of
          // the tree, which a signal to one process would miss.
          try {
            channel.signal('KILL');
          } catch {
            /* the channel may already be closing */
          }
          try {
            channel.close();
          } catch {
            /* idem */
          }
          finish(new TimeoutError(`${this.name}: ${what}`, timeoutMs));
        }, timeoutMs);
      }
      if (stdin && stdin.length) channel.end(stdin);
      else channel.end();
    });
  }

  /**
   * Run on the connection's pipelined shell when it is free, else null (the caller opens a
   * session). On timeout this rejects with TimeoutError like a session does, and ShellTransport
   * kills the command's tree by its marker (over a session, the shell being busy); the killed
   * command's subshell then returns and the shell is free again. Should the kill not end it,
   * the shell stays busy and later commands simply get sessions.
   */
  private async runPipelined(line: string, what: string, timeoutMs: number | undefined): Promise<RawResult | null> {
    const live = await this.getLive();
    live.shell ??= this.openShell(live);
    const shell = await live.shell;
    if (shell && !shell.alive) live.shell = undefined; // it ended: a new one next time
    if (!shell || shell.busy || !shell.alive) return null;
    const running = shell.run(line);
    let r: Awaited<typeof running>;
    if (timeoutMs !== undefined && timeoutMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ShellTimeoutError(`${this.name}: ${what}`, timeoutMs, shell.pid)), timeoutMs);
      });
      try {
        r = await Promise.race([running, expired]);
      } finally {
        clearTimeout(timer);
      }
    } else {
      r = await running;
    }
    if (r.code === null) {
      // The shell ended under the command. A dropped connection is reported as one (its
      // 'close' can trail the channel's by a moment); else the command ended the shell itself.
      await new Promise((res) => setTimeout(res, 50));
      if (!live.alive) throw new ConnectionLostError(this.name, `connection lost while running: ${what}`);
    }
    if (!shell.alive) live.shell = undefined; // the command ended the shell: a new one next time
    return r;
  }

  /** One session running `exec sh`, holding one of the connection's session slots while open. */
  private async openShell(live: Live): Promise<PipelinedShell | false> {
    const release = await this.sessions.acquire();
    try {
      const channel = await new Promise<ClientChannel>((resolve, reject) => {
        live.client.exec(`${this.connMark}exec sh`, (err, ch) => (err ? reject(err) : resolve(ch)));
      });
      const shell = new PipelinedShell(channel);
      channel.on('close', release);
      return shell;
    } catch {
      release();
      return false; // sessions work without it
    }
  }

  /**
   * Open an exec channel. A connection found dead is re-opened once; a channel the server
   * refuses ("open failed": its session slots are freed only after the close handshake,
   * so even at most maxSessions channels can briefly exceed them) is retried.
   */
  private async openChannel(line: string): Promise<ChannelRun> {
    let reconnected = false;
    const deadline = Date.now() + OPEN_RETRY_MS;
    for (let attempt = 0; ; attempt++) {
      const live = await this.getLive();
      try {
        return await execChannel(live, line);
      } catch (e) {
        const msg = (e as Error).message;
        if (live.alive && /open failed|Channel open failure/i.test(msg) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, Math.min(10 * (attempt + 1), 100)));
          continue;
        }
        if (!live.alive || /Not connected|No response from server|socket|ECONNRESET|EPIPE/i.test(msg)) {
          live.alive = false;
          if (this.live === live) this.live = null;
          if (!reconnected) {
            reconnected = true;
            continue;
          }
          throw new UnreachableError(this.name, `connection lost: ${msg}`, { cause: e });
        }
        throw new UnreachableError(this.name, `cannot start a command: ${msg}`, { cause: e });
      }
    }
  }
}

/** One exec channel and what it has produced so far. */
interface ChannelRun {
  channel: ClientChannel;
  live: Live;
  out: Buffer[];
  err: Buffer[];
  code?: number | null;
  signal?: string;
  closed: boolean;
  onClose?: () => void;
}

/**
 * Listeners are attached inside ssh2's callback, synchronously: the exit status can arrive
 * in the same packet batch as the exec confirmation, and an 'exit' emitted before a
 * listener exists (e.g. one added after an await) is lost for good.
 */
function execChannel(live: Live, line: string): Promise<ChannelRun> {
  return new Promise((resolve, reject) => {
    try {
      live.client.exec(line, (err, channel) => {
        if (err) return reject(err);
        const run: ChannelRun = { channel, live, out: [], err: [], closed: false };
        channel.on('data', (d: Buffer) => run.out.push(d));
        channel.stderr.on('data', (d: Buffer) => run.err.push(d));
        channel.on('exit', (c: number | null, sig?: string) => {
          if (typeof c === 'number') run.code = c;
          else {
            run.code = null;
            run.signal = sig ? (sig.startsWith('SIG') ? sig : `SIG${sig}`) : undefined;
          }
        });
        channel.on('close', () => {
          run.closed = true;
          run.onClose?.();
        });
        resolve(run);
      });
    } catch (e) {
      reject(e as Error);
    }
  });
}
