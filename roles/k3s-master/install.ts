// The K3s binary (and, air-gapped, the images tarball), shared by k3s-master and k3s-worker.
// download: the release's sha256sum-<arch>.txt is read first and the binary is fetched to a
// temp file beside /usr/local/bin/k3s, verified, then renamed (ops.download): a wrong checksum
// fails before anything is placed. airgap: the controller folder's files are checked against
// the folder's sha256sum-<arch>.txt on the controller, then uploaded (atomic puts), only when
// the host's copy differs. A host already running the pinned version downloads nothing.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ops, partResults } from '../../lib/ops/index.ts';
import { describeFailure } from '../../lib/ops/shell.ts';
import { failed, ok, type OpResult } from '../../lib/ops/types.ts';
import type { HostCtx } from '../../lib/run/types.ts';
import { imageTarballs, k3sArch, parseSums, parseVersion, releaseUrl, sumsFile, type K3sArch } from './release.ts';
import { IMAGES_DIR, K3S_BIN } from './templates.ts';
import type { K3sVars } from './vars.ts';

type Ctx = HostCtx<K3sVars>;

/** `k3s --version` of the installed binary ('' when none). */
async function installedVersion(ctx: Ctx): Promise<string> {
  const r = await ctx.$.read`if [ -x ${K3S_BIN} ]; then ${K3S_BIN} --version; fi`.nothrow();
  return r.ok ? (parseVersion(r.stdout) ?? '') : '';
}

/** The release's checksum file, read on the host (curl or wget), parsed. */
async function releaseSums(ctx: Ctx, url: string): Promise<Map<string, string> | string> {
  const r = await ctx.$.read`if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 2 --connect-timeout 10 --max-time 60 ${url}; elif command -v wget >/dev/null 2>&1; then wget -q -T 60 -O - ${url}; else echo 'neither curl nor wget is installed' >&2; exit 127; fi`
    .timeout(150_000)
    .nothrow();
  if (!r.ok) return `cannot read ${url}: ${describeFailure(r)}`;
  return parseSums(r.stdout);
}

async function hasDownloader(ctx: Ctx): Promise<boolean> {
  const r = await ctx.$.read`command -v curl || command -v wget`.nothrow();
  return r.ok;
}

/** Download path: checksum file first, then the verified binary; nothing when the version is installed. */
async function downloadBinary(ctx: Ctx, a: K3sArch): Promise<OpResult> {
  const v = ctx.vars;
  const have = await installedVersion(ctx);
  if (have === v.k3s_version) return ok(`k3s ${have} installed`);
  const steps: OpResult[] = [];
  if (!(await hasDownloader(ctx))) {
    // Debian/RHEL minimal images may lack both; Flatcar has curl.
    if (ctx.facts.pkgManager === 'none') return failed('cannot download K3s: neither curl nor wget is installed and there is no package manager');
    const p = await ctx.run(ops.packages(['curl'], { updateCache: true }));
    if (p.status === 'failed') return p;
    steps.push(p);
    if (ctx.check) return { ...p, msg: `${p.msg}; would download k3s ${v.k3s_version} from ${v.k3s_release_url}` };
  }
  const sumsUrl = releaseUrl(v.k3s_release_url, v.k3s_version, sumsFile(a));
  const sums = await releaseSums(ctx, sumsUrl);
  if (typeof sums === 'string') return failed(sums);
  const want = sums.get(a.binary);
  if (!want) return failed(`${sumsUrl} lists no sha256 for ${a.binary}`);
  const r = await ctx.run(ops.download(releaseUrl(v.k3s_release_url, v.k3s_version, a.binary), K3S_BIN, { sha256: want, mode: '0755', owner: 'root', group: 'root' }));
  if (r.status === 'failed') return { ...r, msg: `${r.msg} (nothing was installed: ${K3S_BIN} is unchanged)` };
  const what = have ? `k3s ${have} -> ${v.k3s_version}` : `k3s ${v.k3s_version}`;
  return r.status === 'changed' ? { ...r, msg: `${what}: ${r.msg}${steps.length ? ` (after installing curl)` : ''}` } : r;
}

// Air-gap artifacts are read once per controller process, not once per host.
const localFiles = new Map<string, Promise<Buffer>>();
const readLocal = (path: string): Promise<Buffer> => {
  let p = localFiles.get(path);
  if (!p) {
    p = readFile(path);
    localFiles.set(path, p);
    p.catch(() => localFiles.delete(path));
  }
  return p;
};
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const exists = (p: string) => stat(p).then(() => true, () => false);

/** The air-gap folder's artifacts for this architecture, checked against its checksum file. */
export async function airgapArtifacts(dir: string, a: K3sArch): Promise<{ binary: Buffer; images?: { name: string; content: Buffer } } | string> {
  const sumsPath = join(dir, sumsFile(a));
  if (!(await exists(sumsPath))) return `${sumsPath} is missing: the release's checksum file is required to verify the air-gap artifacts`;
  const sums = parseSums((await readLocal(sumsPath)).toString('utf8'));
  const binPath = join(dir, a.binary);
  if (!(await exists(binPath))) return `${binPath} is missing`;
  const binary = await readLocal(binPath);
  const want = sums.get(a.binary);
  if (!want) return `${sumsPath} lists no sha256 for ${a.binary}`;
  if (sha256(binary) !== want) return `${binPath}: sha256 ${sha256(binary)} does not match ${sumsPath} (${want}): refusing to install it`;
  for (const name of imageTarballs(a)) {
    const p = join(dir, name);
    if (!(await exists(p))) continue;
    const content = await readLocal(p);
    const w = sums.get(name);
    if (!w) return `${sumsPath} lists no sha256 for ${name}`;
    if (sha256(content) !== w) return `${p}: sha256 does not match ${sumsPath}: refusing to install it`;
    return { binary, images: { name, content } };
  }
  return { binary };
}

async function airgapInstall(ctx: Ctx, a: K3sArch): Promise<OpResult> {
  const art = await airgapArtifacts(ctx.vars.k3s_airgap_dir!, a);
  if (typeof art === 'string') return failed(art);
  return ctx.run(
    ops.seq(
      art.images && ops.file(`${IMAGES_DIR}/${art.images.name}`, art.images.content, { mode: '0644', owner: 'root', group: 'root' }),
      ops.file(K3S_BIN, art.binary, { mode: '0755', owner: 'root', group: 'root' }),
    ),
  );
}

/** The task: the pinned K3s binary (and air-gap images) on this host. */
export async function installK3s(ctx: Ctx): Promise<OpResult> {
  const a = k3sArch(ctx.facts.arch);
  if (!a) return failed(`K3s ships no binary for this architecture (${ctx.facts.arch})`);
  return ctx.vars.k3s_install_method === 'airgap' ? airgapInstall(ctx, a) : downloadBinary(ctx, a);
}

/** kubectl, crictl and ctr as links to k3s (install.sh makes them when the names are free). */
export const LINKS = ['kubectl', 'crictl', 'ctr'].map((n) => `/usr/local/bin/${n}`);
export async function linkTools(ctx: Ctx): Promise<OpResult> {
  // each, not one link after another: the three links are probed in one read-ahead.
  const all = partResults(await ctx.run(ops.each(...LINKS.map((l) => ops.link(K3S_BIN, l)))));
  const results: OpResult[] = [];
  const kept: string[] = [];
  all.forEach((r, i) => {
    // Another kubectl already there (a package): leave it, as install.sh does.
    if (r.status === 'failed' && /exists and is not a symlink/.test(r.msg ?? '')) kept.push(LINKS[i]!);
    else results.push(r);
  });
  const bad = results.find((r) => r.status === 'failed');
  if (bad) return bad;
  const note = kept.length ? `; kept ${kept.join(', ')} (not a link: use k3s kubectl)` : '';
  const made = results.filter((r) => r.status === 'changed').map((r) => r.msg).filter(Boolean);
  if (made.length) return { status: 'changed', msg: made.join('; ') + note };
  return ok(`links to ${K3S_BIN} in place${note}`);
}
