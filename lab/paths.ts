// Where the lab keeps things. One lab per machine: these are fixed, not per inventory.
import { join } from 'node:path';

/** Persistent lab state: per-host overlays, controller key, known_hosts, pid records. */
export const STATE_DIR = '/var/lib/drover-lab';
/** Runtime only (sockets, the operation lock): gone after a reboot, like the processes. */
export const RUN_DIR = '/run/drover-lab';
/** Root filesystems built once with debootstrap; survives `reset`. */
export const CACHE_DIR = '/var/cache/drover';

export const HOSTS_DIR = join(STATE_DIR, 'hosts');
export const CONTROLLER_KEY = join(STATE_DIR, 'id_ed25519');
export const KNOWN_HOSTS = join(STATE_DIR, 'known_hosts');
export const MIRRORS_STATE = join(STATE_DIR, 'mirrors.json');
export const LOCK_FILE = join(RUN_DIR, 'lock');

/** The namespace holding the bridge; the controller (ssh, the engine) runs inside it. */
export const LAB_NETNS = 'lab';
export const BRIDGE = 'lab0';

export const DEFAULT_INVENTORY = 'inventory/lab.yaml';

export function hostDir(name: string): string {
  return join(HOSTS_DIR, name);
}

export function hostPaths(name: string) {
  const dir = hostDir(name);
  return {
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    root: join(dir, 'root'),
    state: join(dir, 'state.json'),
    console: join(dir, 'console.log'),
  };
}

export function hostNetns(name: string): string {
  return `h-${name}`;
}
