// Running from the TypeScript sources (a checkout, not the package: the package ships the
// child prebuilt by scripts/build.ts and never loads this module).
// The UI process as one prebuilt JavaScript bundle, so it starts under plain node instead of
// tsx: measured on 2 shared cores, ~0.5 s of CPU to its first frame instead of ~1.5 s (tsx's
// loader thread resolves and loads React, Ink and their ~150 modules one message at a time).
// That CPU is taken from the run it draws.
//
// Built with esbuild (tsx's own compiler, so present wherever `npx tsx` works) on first use
// into node_modules/.cache/drover/, and reused while every input file keeps its size and
// mtime (the manifest lists them, from esbuild's metafile). Anything unexpected (no esbuild, a
// read-only tree, a failed build) returns undefined and the caller starts the TypeScript child
// under tsx as before: slower, never wrong.
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(new URL('../../', import.meta.url).pathname);
const SOURCE = join(ROOT, 'ui/remote/child.ts');
const CACHE = join(ROOT, 'node_modules/.cache/drover/ui-child');
/** Points at the current build's directory; replaced by rename, so always whole. */
const MANIFEST = join(CACHE, 'manifest.json');
/** Older builds are removed after this long (a UI process may still be loading from one). */
const KEEP_OLD_MS = 60 * 60 * 1000;
/** Bump when the build options below change: a different bundle from the same inputs. */
const RECIPE = 2;

interface Manifest {
  recipe: number;
  node: string;
  /** The entry file, relative to CACHE: <build dir>/child.js. */
  entry: string;
  /** Input path (relative to ROOT) -> [size, mtimeMs]. */
  inputs: Record<string, [number, number]>;
}

function stamp(path: string): [number, number] | undefined {
  try {
    const st = statSync(join(ROOT, path));
    return [st.size, st.mtimeMs];
  } catch {
    return undefined;
  }
}

/** The bundle's entry file if the cached build still matches its inputs. */
export function cachedChildBundle(): string | undefined {
  try {
    const m = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
    if (m.recipe !== RECIPE || m.node !== process.version) return undefined;
    for (const [path, was] of Object.entries(m.inputs)) {
      const now = stamp(path);
      if (!now || now[0] !== was[0] || now[1] !== was[1]) return undefined;
    }
    return join(CACHE, m.entry);
  } catch {
    return undefined;
  }
}

/** Build (or reuse) the bundle; undefined when it cannot be had here. */
export async function childBundle(): Promise<string | undefined> {
  const cached = cachedChildBundle();
  if (cached) return cached;
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return undefined;
  }
  // Each build gets a directory of its own and the manifest is renamed into place: a run that
  // is loading an older build, or building at the same time, never sees a half-written one.
  const dir = `b-${Date.now().toString(36)}-${process.pid}`;
  const out = join(CACHE, dir);
  try {
    const r = await esbuild.build({
      entryPoints: [SOURCE],
      outdir: out,
      absWorkingDir: ROOT,
      bundle: true,
      // Ink loads its devtools (react-devtools-core, not installed) only in development, by a
      // dynamic import: split, that stays a chunk nobody loads.
      splitting: true,
      external: ['react-devtools-core'],
      format: 'esm',
      platform: 'node',
      target: 'node20',
      jsx: 'automatic',
      // The UI always runs React's production build; the bundle need not carry the other one.
      // DROVER_UI_BUNDLED: ui/load-ink.ts needs no resolve hook.
      define: { 'process.env.NODE_ENV': '"production"', 'process.env.DROVER_UI_BUNDLED': '"1"' },
      // Bundled CommonJS (React) may require() Node's own modules.
      banner: { js: "import { createRequire as __droverRequire } from 'node:module'; const require = __droverRequire(import.meta.url);" },
      metafile: true,
      logLevel: 'silent',
    });
    const inputs: Manifest['inputs'] = {};
    for (const path of Object.keys(r.metafile.inputs)) {
      const s = stamp(path);
      if (s) inputs[path] = s;
    }
    const manifest: Manifest = { recipe: RECIPE, node: process.version, entry: `${dir}/child.js`, inputs };
    const tmp = `${MANIFEST}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(manifest));
    renameSync(tmp, MANIFEST);
    removeOldBuilds(dir);
    return join(CACHE, manifest.entry);
  } catch {
    rmSync(out, { recursive: true, force: true });
    return undefined;
  }
}

function removeOldBuilds(keep: string): void {
  for (const d of readdirSync(CACHE)) {
    if (d === keep || !d.startsWith('b-')) continue;
    try {
      if (Date.now() - statSync(join(CACHE, d)).mtimeMs > KEEP_OLD_MS) rmSync(join(CACHE, d), { recursive: true, force: true });
    } catch {
      // Gone already (another run cleaned up): fine.
    }
  }
}
