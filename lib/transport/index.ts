// Transports: how drover reaches a host. createTransport picks ssh or local from the
// resolved Connection; everything else is re-exported for roles and tests.
import type { Connection } from './connection.ts';
import { LocalTransport } from './local.ts';
import { SshTransport, type SshTransportOptions } from './ssh.ts';
import type { Transport } from './types.ts';

export type TransportOptions = SshTransportOptions;

export function createTransport(conn: Connection, options: TransportOptions = {}): Transport {
  return conn.kind === 'local' ? new LocalTransport(conn) : new SshTransport(conn, options);
}

export * from './types.ts';
export * from './connection.ts';
export { SshTransport, type SshTransportOptions } from './ssh.ts';
export { LocalTransport } from './local.ts';
export { ShellTransport, type RawResult } from './shell-transport.ts';
export { PutError, GetError } from './file-errors.ts';
export { Semaphore } from './semaphore.ts';
export { parseProxyJump, parseJumpHop, type JumpHop } from './proxy-jump.ts';
export {
  parseKnownHosts,
  checkHostKey,
  knownHostId,
  hostFieldMatches,
  hashHostId,
  formatKnownHostsLine,
  fingerprint,
  type KnownHostEntry,
  type HostKeyCheck,
} from './known-hosts.ts';
export { decideHostKey, defaultKnownHostsFiles, type HostKeyPolicy } from './host-key.ts';
export { buildCommand, resolveBecome, EXEC_MARKER_VAR, type Become } from './remote-command.ts';
export { buildPutScript } from './put-script.ts';
