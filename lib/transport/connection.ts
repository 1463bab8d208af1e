// How to reach one host, resolved from inventory vars (ansible_* names are accepted as
// aliases of drover_* so existing Ansible inventories work unchanged).
import { z } from 'zod';

export const ConnectionSchema = z.strictObject({
  /** Inventory name. */
  name: z.string(),
  /** 'ssh' (default) or 'local' (the controller itself, ansible_connection=local). */
  kind: z.enum(['ssh', 'local']).default('ssh'),
  /** Address to connect to (ansible_host); defaults to the inventory name. */
  address: z.string(),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().default('root'),
  /** Private key files to try (ansible_ssh_private_key_file). */
  privateKeyFiles: z.array(z.string()).default([]),
  /** Login password (ansible_password): a secret. */
  password: z.string().optional(),
  /** ssh-agent socket; defaults to $SSH_AUTH_SOCK. */
  agent: z.string().optional(),
  /** Bastion(s) as OpenSSH ProxyJump: "user@host:port[,user@host2]". */
  proxyJump: z.string().optional(),
  become: z.boolean().default(false),
  becomeUser: z.string().default('root'),
  /** sudo password (ansible_become_password): a secret. */
  becomePassword: z.string().optional(),
  /** known_hosts files to verify against; default ~/.ssh/known_hosts. */
  knownHostsFiles: z.array(z.string()).default([]),
  /** Accept and record unknown host keys (never a mismatch). Off by default. */
  acceptNewHostKeys: z.boolean().default(false),
  connectTimeoutMs: z.number().int().positive().default(10_000),
  /** Default bound of a command without its own timeout (ms; 0 = none): see DEFAULT_COMMAND_TIMEOUT_MS. */
  commandTimeoutMs: z.number().int().nonnegative().optional(),
  keepaliveIntervalMs: z.number().int().nonnegative().default(15_000),
  /** Max concurrent channels on the one connection (OpenSSH MaxSessions is 10). */
  maxSessions: z.number().int().min(1).max(64).default(10),
  /**
   * Run commands that need no stdin through one long-lived shell instead of one SSH session
   * each (lib/transport/pipelined-shell.ts). Unset: see pipeliningFor().
   */
  pipelining: z.boolean().optional(),
  /**
   * Hold the host lock (lib/transport/host-lock.ts) for the connection's life so two runs never
   * work on one host at once. Unset: see hostLockFor().
   */
  hostLock: z.boolean().optional(),
  /** How long to wait for a host locked by another run before giving up on it (0: refuse at once). */
  hostLockWaitMs: z.number().int().nonnegative().default(60_000),
});

/**
 * Whether a connection takes the host lock: its own setting, else DROVER_HOST_LOCK
 * (`0`/`false`/`no`/`off` turn it off: test sshds and the scale bench's fleet run many
 * "hosts" on one machine, which share one lock), else on.
 */
export function hostLockFor(conn: Pick<Connection, 'hostLock'>, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (conn.hostLock !== undefined) return conn.hostLock;
  const v = env.DROVER_HOST_LOCK?.trim().toLowerCase();
  return !(v === '0' || v === 'false' || v === 'no' || v === 'off');
}

/**
 * Whether a connection pipelines: its own setting (the inventory's drover_pipelining), else
 * DROVER_PIPELINING from the environment (`0`/`false`/`no`/`off` turn it off for every host
 * without an explicit setting), else on. On by default since it is the faster path (a
 * session per command costs the target a forked session process and a login shell) and
 * behaves the same (commands with stdin, and any command while the shell is busy, get a
 * session of their own).
 */
export function pipeliningFor(conn: Pick<Connection, 'pipelining'>, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (conn.pipelining !== undefined) return conn.pipelining;
  const v = env.DROVER_PIPELINING?.trim().toLowerCase();
  return !(v === '0' || v === 'false' || v === 'no' || v === 'off');
}

export type Connection = z.infer<typeof ConnectionSchema>;
export type ConnectionInput = z.input<typeof ConnectionSchema>;
