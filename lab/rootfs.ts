// Root filesystems, built once and cached: a debootstrap'ed Debian 12 base, and a thin
// python3 layer (an overlay upper dir over the base) for hosts with lab_python. Hosts
// then mount lowerdir=[python:]base, so a python host costs no second debootstrap.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, renameSync, writeFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR } from './paths.ts';
import { run } from './exec.ts';
import { createCgroups, inCgroups, planHostCgroups, removeCgroups } from './cgroups.ts';
import { debootstrapMirror, type AptSources } from './mirror.ts';

export const SUITE = 'bookworm';
export const BASE_PACKAGES = [
  'openssh-server',
  'systemd',
  'systemd-sysv',
  'dbus',
  'iproute2',
  'sudo',
  'ca-certificates',
] as const;
export const PYTHON_PACKAGES = ['python3'] as const;

/** Bump when the post-debootstrap tweaks change, so old caches are not reused. */
const BASE_RECIPE = 'v1';

function key(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 10);
}

export function baseRootfsPath(): string {
  return join(CACHE_DIR, `rootfs-${SUITE}-${key([BASE_RECIPE, SUITE, ...BASE_PACKAGES])}`);
}

export function pythonLayerPath(): string {
  return join(CACHE_DIR, `layer-python3-${key([baseRootfsPath(), ...PYTHON_PACKAGES])}`);
}

type Log = (msg: string) => void;

/** Build the base rootfs if it is not cached. Built under a temp name, then renamed: a crash
 *  mid-build never leaves a half rootfs that looks complete. */
export async function ensureBaseRootfs(src: AptSources, log: Log): Promise<string> {
  const dest = baseRootfsPath();
  if (existsSync(dest)) return dest;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${dest}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const mirror = debootstrapMirror(src, SUITE);
  log(`building Debian ${SUITE} rootfs with debootstrap from ${mirror} (once, ~1-2 min)...`);
  const t0 = Date.now();
  await run([
    'debootstrap',
    '--variant=minbase',
    `--include=${BASE_PACKAGES.join(',')}`,
    SUITE,
    tmp,
    mirror,
  ]);
  tweakBase(tmp);
  renameSync(tmp, dest);
  log(`rootfs ready in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${dest}`);
  return dest;
}

/** Changes every host shares; per-host files (keys, hostname, sources) are written later. */
function tweakBase(root: string): void {
  // Host keys made by openssh-server's postinst would be shared by every host: drop them,
  // each host gets its own before boot.
  const sshDir = join(root, 'etc/ssh');
  for (const f of readdirSync(sshDir)) if (f.startsWith('ssh_host_')) unlinkSync(join(sshDir, f));
  mkdirSync(join(sshDir, 'sshd_config.d'), { recursive: true });
  writeFileSync(
    join(sshDir, 'sshd_config.d/drover-lab.conf'),
    '# drover lab: one ed25519 host key, made before boot and listed in the lab known_hosts\n' +
      'HostKey /etc/ssh/ssh_host_ed25519_key\nUseDNS no\n',
  );
  // Each host writes its own machine-id; an empty file here means "not yet set".
  writeFileSync(join(root, 'etc/machine-id'), '');
  // Sources come from the controller machine at `up` time (they may change after the build).
  writeFileSync(join(root, 'etc/apt/sources.list'), '');
  mkdirSync(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
}

/** Build the python3 layer if missing: overlay over the base, apt-get install in nspawn
 *  (host network, like debootstrap), keep only the upper dir. */
export async function ensurePythonLayer(base: string, src: AptSources, log: Log): Promise<string> {
  const dest = pythonLayerPath();
  if (existsSync(dest)) return dest;
  const tmp = `${dest}.tmp`;
  const upper = join(tmp, 'upper');
  const work = join(tmp, 'work');
  const merged = join(tmp, 'merged');
  await run(['umount', merged], { check: false });
  rmSync(tmp, { recursive: true, force: true });
  for (const d of [upper, work, merged]) mkdirSync(d, { recursive: true });
  log(`building python3 layer (once)...`);
  const t0 = Date.now();
  await run(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${base},upperdir=${upper},workdir=${work}`, merged]);
  const cg = planHostCgroups('_build');
  createCgroups(cg.dirs);
  try {
    for (const f of src.files) writeFileSync(join(merged, 'etc/apt', f.relPath), f.content);
    const script =
      'set -e; export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; ' +
      `apt-get install -y -qq --no-install-recommends ${PYTHON_PACKAGES.join(' ')} >/dev/null; ` +
      'apt-get clean; rm -rf /var/lib/apt/lists/*';
    // Its own cgroup, as for hosts: nspawn must not create payload/ in the caller's cgroup.
    await run(inCgroups(cg.dirs, [
      'systemd-nspawn',
      '-q',
      '--register=no',
      '--keep-unit',
      '--as-pid2',
      '--resolv-conf=copy-host',
      `--directory=${merged}`,
      'sh',
      '-c',
      script,
    ]));
    // Back to the base's (empty) sources; hosts get fresh ones at `up`.
    for (const f of src.files) rmSync(join(merged, 'etc/apt', f.relPath), { force: true });
    writeFileSync(join(merged, 'etc/apt/sources.list'), '');
  } finally {
    removeCgroups(cg.dirs);
    await run(['umount', merged], { check: false });
  }
  // Only the upper dir is the layer; whiteouts in it stay valid as a lower layer.
  renameSync(upper, `${dest}.ready`);
  rmSync(tmp, { recursive: true, force: true });
  renameSync(`${dest}.ready`, dest);
  log(`python3 layer ready in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${dest}`);
  return dest;
}
