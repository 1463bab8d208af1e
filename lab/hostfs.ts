// A host's root filesystem: an overlay (lower = cached rootfs [+ python layer], upper = the
// host's own changes), with the per-host files written before boot: hostname, hosts,
// machine-id, apt sources, root's authorized_keys and a fresh ssh host key.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from './exec.ts';
import { hostPaths } from './paths.ts';
import type { AptSourceFile } from './mirror.ts';

export interface HostFiles {
  name: string;
  /** Lines for /etc/hosts after localhost: "<ip> <names...>". */
  hostsEntries: readonly string[];
  aptSources: readonly AptSourceFile[];
  authorizedKey: string;
}

/** Mount points in /proc/mounts are octal-escaped (\040 for space). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function mountedAt(path: string): boolean {
  const mounts = readFileSync('/proc/mounts', 'utf8');
  return mounts.split('\n').some((l) => unescapeMount(l.split(' ')[1] ?? '') === path);
}

export async function mountOverlay(name: string, lowers: readonly string[]): Promise<string> {
  const p = hostPaths(name);
  for (const d of [p.upper, p.work, p.root]) mkdirSync(d, { recursive: true });
  // lowerdir lists the top layer first.
  await run([
    'mount',
    '-t',
    'overlay',
    `drover-lab-${name}`,
    '-o',
    `lowerdir=${lowers.join(':')},upperdir=${p.upper},workdir=${p.work}`,
    p.root,
  ]);
  return p.root;
}

export async function unmountRoot(name: string): Promise<void> {
  const { root } = hostPaths(name);
  for (let i = 0; i < 20 && mountedAt(root); i++) {
    // Busy for a moment right after the guest's last process exits.
    if ((await run(['umount', root], { check: false })).code !== 0) await sleep(200);
  }
  if (mountedAt(root)) await run(['umount', '--lazy', root]);
}

/** Remove the host's disk state (upper/work/root, pid record); keep its console log. */
export async function removeHostDisk(name: string): Promise<void> {
  await unmountRoot(name);
  const p = hostPaths(name);
  for (const d of [p.root, p.upper, p.work, p.state]) rmSync(d, { recursive: true, force: true });
}

function writeFile(root: string, path: string, content: string, mode = 0o644): void {
  const full = join(root, path);
  // Replace, never write through: a symlink in the image (e.g. resolv.conf) must not be followed.
  rmSync(full, { force: true });
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, content, { mode });
  chmodSync(full, mode);
}

/** Write the per-host files into the mounted root; returns the host's public ssh key line. */
export async function writeHostFiles(root: string, f: HostFiles): Promise<string> {
  writeFile(root, 'etc/hostname', `${f.name}\n`);
  writeFile(
    root,
    'etc/hosts',
    ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', ...f.hostsEntries, ''].join('\n'),
  );
  writeFile(root, 'etc/machine-id', `${randomBytes(16).toString('hex')}\n`, 0o444);
  // No DNS in the lab: names resolve from /etc/hosts; an empty resolv.conf fails fast.
  writeFile(root, 'etc/resolv.conf', '# drover lab: no DNS server; names are in /etc/hosts\n');
  for (const s of f.aptSources) writeFile(root, join('etc/apt', s.relPath), s.content);
  mkdirSync(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
  chmodSync(join(root, 'root/.ssh'), 0o700);
  writeFile(root, 'root/.ssh/authorized_keys', `${f.authorizedKey.trim()}\n`, 0o600);
  const key = join(root, 'etc/ssh/ssh_host_ed25519_key');
  rmSync(key, { force: true });
  rmSync(`${key}.pub`, { force: true });
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `root@${f.name}`, '-f', key]);
  return readFileSync(`${key}.pub`, 'utf8').trim();
}

/** The public host key of a host whose root is mounted, or undefined. */
export function hostPublicKey(name: string): string | undefined {
  const pub = join(hostPaths(name).root, 'etc/ssh/ssh_host_ed25519_key.pub');
  return existsSync(pub) ? readFileSync(pub, 'utf8').trim() : undefined;
}
