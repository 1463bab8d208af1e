// One cgroup per host. nspawn with --keep-unit creates its payload/supervisor cgroups under the
// cgroup it was started in; if every nspawn starts in the same one, all guests share
// /payload/system.slice/*.service and a guest's systemd stopping a unit kills that unit's
// processes in every guest (seen here: sshd of three hosts in one cgroup, halts that hang).
// So each nspawn is started inside its own cgroup, in the hierarchies systemd uses
// (name=systemd on cgroup v1, and cgroup v2) and in the v1 memory hierarchy for accounting.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { quote } from '../lib/shell/quote.ts';

interface Hierarchy {
  /** 'name=systemd', 'memory', or '' for cgroup v2. */
  controllers: string;
  mount: string;
  /** Our own cgroup in that hierarchy. */
  path: string;
}

function hierarchies(): Hierarchy[] {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const out: Hierarchy[] = [];
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const controllers = m[1] ?? '';
    const path = m[2] ?? '/';
    const wanted = controllers === '' || controllers.split(',').some((c) => c === 'name=systemd' || c === 'memory');
    if (!wanted) continue;
    for (const ml of mounts) {
      const [pre, post] = ml.split(' - ');
      if (!pre || !post) continue;
      const [fstype, , superOpts] = post.split(' ');
      const mountPoint = pre.split(' ')[4];
      if (!mountPoint) continue;
      const ok =
        controllers === ''
          ? fstype === 'cgroup2'
          : fstype === 'cgroup' && controllers.split(',').every((c) => (superOpts ?? '').split(',').includes(c));
      if (ok) {
        out.push({ controllers, mount: mountPoint, path });
        break;
      }
    }
  }
  return out;
}

/** The cgroup directories a host's nspawn should start in (one per relevant hierarchy). */
export function planHostCgroups(name: string): { dirs: string[]; memoryDir?: string } {
  const dirs: string[] = [];
  let memoryDir: string | undefined;
  const hs = hierarchies();
  const v1Memory = hs.some((h) => h.controllers.split(',').includes('memory'));
  for (const h of hs) {
    const dir = join(h.mount, h.path, 'drover-lab', name);
    dirs.push(dir);
    if (h.controllers.split(',').includes('memory') || (h.controllers === '' && !v1Memory)) memoryDir = dir;
  }
  return { dirs, ...(memoryDir ? { memoryDir } : {}) };
}

export function createCgroups(dirs: readonly string[]): void {
  for (const d of dirs) mkdirSync(d, { recursive: true });
}

/** Every pid in these cgroups and their sub-cgroups. */
export function cgroupPids(dirs: readonly string[]): number[] {
  const pids = new Set<number>();
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    try {
      for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      // removed meanwhile
    }
  };
  dirs.forEach(walk);
  return [...pids];
}

/** rmdir the host's cgroups, children first (cgroup dirs cannot be removed recursively). */
export function removeCgroups(dirs: readonly string[]): void {
  const rm = (d: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(join(d, e.name));
    try {
      rmdirSync(d);
    } catch {
      // still has a process; the caller stopped them all, so this is a leftover zombie at worst
    }
  };
  dirs.forEach(rm);
}

/** Bytes charged to the host's memory cgroup (v2 memory.current, or v1 usage), with page cache. */
export function cgroupMemoryBytes(memoryDir: string | undefined): number | undefined {
  if (!memoryDir) return undefined;
  for (const f of ['memory.current', 'memory.usage_in_bytes']) {
    try {
      return Number(readFileSync(join(memoryDir, f), 'utf8').trim());
    } catch {
      // try the other version's name
    }
  }
  return undefined;
}

/** argv that first moves itself into `dirs`, then execs `argv` (the pid stays the same). */
export function inCgroups(dirs: readonly string[], argv: readonly string[]): string[] {
  const enter = dirs.map((d) => `echo $$ > ${quote(join(d, 'cgroup.procs'))}`).join(' && ');
  return ['sh', '-c', `${enter || 'true'} && exec "$@"`, 'sh', ...argv];
}
