// The controller's ssh identity and the lab's known_hosts (strict checking, no opt-out).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { run } from './exec.ts';
import { CONTROLLER_KEY, KNOWN_HOSTS } from './paths.ts';

/** Create the controller key once; returns its public line. */
export async function ensureControllerKey(): Promise<string> {
  if (!existsSync(CONTROLLER_KEY) || !existsSync(`${CONTROLLER_KEY}.pub`)) {
    mkdirSync(dirname(CONTROLLER_KEY), { recursive: true, mode: 0o700 });
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'drover-lab-controller', '-f', CONTROLLER_KEY], {
      input: 'y\n',
    });
  }
  return readFileSync(`${CONTROLLER_KEY}.pub`, 'utf8').trim();
}

export interface KnownHost {
  name: string;
  address: string;
  /** "ssh-ed25519 AAAA... comment" */
  publicKey: string;
}

/** known_hosts with each host under its name and its address (both forms the engine may use). */
export function writeKnownHosts(hosts: readonly KnownHost[]): void {
  const lines = hosts.map((h) => {
    const [type, key] = h.publicKey.split(/\s+/);
    return `${h.name},${h.address} ${type} ${key}`;
  });
  const tmp = `${KNOWN_HOSTS}.tmp`;
  writeFileSync(tmp, lines.join('\n') + '\n', { mode: 0o644 });
  renameSync(tmp, KNOWN_HOSTS);
}

/** ssh argv (before the command) that reaches a host from inside the lab namespace. */
export function sshArgs(address: string, extra: readonly string[] = []): string[] {
  return [
    'ssh',
    '-F',
    'none',
    '-o',
    `UserKnownHostsFile=${KNOWN_HOSTS}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=3',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'IdentitiesOnly=yes',
    '-i',
    CONTROLLER_KEY,
    ...extra,
    `root@${address}`,
  ];
}
