// The lab as a library, for tests and benches: boot real Debian 12 hosts from an inventory.
import { spawn } from 'node:child_process';
import { run, type RunResult } from './exec.ts';
import { sshArgs } from './keys.ts';
import { down, hostAddress, reset, status, up, type DownResult, type Log, type StatusResult, type UpResult } from './lab.ts';
import { CONTROLLER_KEY, KNOWN_HOSTS, LAB_NETNS, DEFAULT_INVENTORY } from './paths.ts';

export { labPrereqs } from './prereqs.ts';
export type { UpResult, UpHostResult, DownResult, StatusResult, HostStatus, MirrorStatus } from './lab.ts';
export type { RunResult } from './exec.ts';
export type { TreeMemory } from './procs.ts';
export { readTopology, type LabTopology, type LabHost } from './inventory.ts';
export { STATE_DIR, RUN_DIR, CACHE_DIR, CONTROLLER_KEY, KNOWN_HOSTS, LAB_NETNS } from './paths.ts';

const quietLog: Log = () => {};

export interface LabLogOptions {
  /** Progress lines; default: none. */
  log?: Log;
}

/** Boot (or keep) every host of the inventory; resolves when all answer ssh and systemd is up. */
export function labUp(inventoryPath: string = DEFAULT_INVENTORY, opts: LabLogOptions = {}): Promise<UpResult> {
  return up(inventoryPath, opts.log ?? quietLog);
}

/** Stop every lab host and the mirror bridge by pid; remove namespaces, mounts, upper dirs. */
export function labDown(opts: LabLogOptions = {}): Promise<DownResult> {
  return down(opts.log ?? quietLog);
}

/** labDown, then remove all lab state (not the rootfs cache). */
export function labReset(opts: LabLogOptions = {}): Promise<DownResult> {
  return reset(opts.log ?? quietLog);
}

export function labStatus(): StatusResult {
  return status();
}

/**
 * Run a local command inside the lab namespace (where the controller lives). An array is
 * argv (no shell); a string goes through `sh -c`. Never rejects for a non-zero exit.
 */
export function labExec(cmd: readonly string[] | string, opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const argv = typeof cmd === 'string' ? ['sh', '-c', cmd] : [...cmd];
  return run(['ip', 'netns', 'exec', LAB_NETNS, ...argv], { check: false, ...opts });
}

/** ssh argv (strict host key checking against the lab's known_hosts) for a lab host. */
export function labSshArgv(host: string, command?: string): string[] {
  return [...sshArgs(hostAddress(host)), ...(command !== undefined ? [command] : [])];
}

/** Run one command on a lab host over ssh (from inside the lab namespace). */
export function labSsh(host: string, command: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return labExec(labSshArgv(host, command), opts);
}

/** Interactive ssh (or one command with the terminal attached); resolves to the exit code. */
export function labSshInteractive(host: string, command?: string): Promise<number> {
  const argv = ['netns', 'exec', LAB_NETNS, ...sshArgs(hostAddress(host)), ...(command !== undefined ? [command] : [])];
  // The user's terminal must be the ssh's own: inherit stdio (zx would pipe it).
  const child = spawn('ip', argv, { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** Connection settings a transport needs to reach lab hosts. */
export const labConnection = { user: 'root', privateKeyFile: CONTROLLER_KEY, knownHostsFile: KNOWN_HOSTS } as const;
