// Can this machine run the lab? Checked before anything is created.
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REQUIRED_COMMANDS = ['systemd-nspawn', 'debootstrap', 'ip', 'socat', 'ssh', 'ssh-keygen', 'mount', 'umount'] as const;

export function which(cmd: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (!d) continue;
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return join(d, cmd);
    } catch {
      // not here
    }
  }
  return undefined;
}

export function labPrereqs(): { ok: boolean; why?: string } {
  if (process.platform !== 'linux') return { ok: false, why: `the lab needs Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'the lab needs root (namespaces, mounts, systemd-nspawn)' };
  const missing = REQUIRED_COMMANDS.filter((c) => !which(c));
  if (missing.length) {
    return { ok: false, why: `missing commands: ${missing.join(', ')} (run lab/install-prereqs.sh)` };
  }
  try {
    if (!/\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))) {
      return { ok: false, why: 'the kernel has no overlay filesystem' };
    }
  } catch {
    return { ok: false, why: 'cannot read /proc/filesystems' };
  }
  return { ok: true };
}
