// `npm run build` (also run by `prepare`, so `npm ci` and `npm pack` build it): the package in
// dist/, plus the repo's own playbooks compiled against it.
//
//   dist/index.js              `drover` (index.ts: the library and main())
//   dist/testing.js            `drover/testing`
//   dist/roles/<name>.js       `drover/roles/<name>` (and roles/postgres/promote-play)
//   dist/bin/drover.js         the `drover` command
//   dist/chunks/               code the entries share: ONE copy of the engine (one secrets
//                              registry, one zod) whichever entries a playbook imports
//   dist/ui/child.js           the terminal UI's process, prebuilt with Ink and React inside
//   dist/types/                .d.ts files (tsc --emitDeclarationOnly)
//   dist/playbooks/, dist/examples/, dist/bench/playbooks/   the repo's playbooks, each
//                              importing `drover` (not in the package)
//
// Why esbuild bundles with code splitting rather than tsc's file-per-module emit: start-up.
// Node 20 pays per ES module (resolve, read, compile, link), and under tsx every module is
// also a message to its loader thread. tsc emit would load ~150 modules of ours plus zod,
// yaml and p-queue as ~100 more; the bundle is a handful of chunks. Measured on --list-hosts
// (bench/README): the project's code bundled but packages not 0.55 s of CPU, with zod, yaml
// and p-queue bundled too 0.27 s (BUNDLED). zod's 64 locale modules are left out
// (ZOD_LOCALES: only `z.locales` exports them; English, the default, is imported directly).
// Everything else stays in node_modules: ssh2 (CommonJS with a compiled crypto binding), zx
// (loaded only by the first `ctx.$`), and what other packages the code imports.
// Types come from tsc (--emitDeclarationOnly): esbuild does not write .d.ts.
//
// Two things keep the package cheap to load under tsx too (`npx tsx playbook.ts` importing
// `drover`): no source maps (with tsx, Node parses every linked .map file: ~60 ms), and no
// `import("...")` in the chunks (tsx rewrites each module that has one and builds a source
// map for it, ~170 ms of CPU for our chunks): the lazy imports go through one tiny module,
// dist/chunks/load.js (see lazyImports).
//
//   --no-types   skip the .d.ts (the JS alone, ~2 s instead of ~40 s: the bench uses it)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const DIST = join(root, 'dist');
// Built beside dist/ and swapped in whole at the end: a failed build leaves the last good
// dist/ in place, and a playbook starting meanwhile never loads a half-written one.
const out = join(root, `.dist-build-${process.pid}`);
const TYPES = join(out, 'types');

/** Packages bundled into dist/ (and their own dependencies); any other package stays external. */
const BUNDLED = ['zod', 'yaml', 'p-queue', 'p-timeout', 'eventemitter3'];

/** Data files a playbook reads next to its own module (new URL('../x', import.meta.url)): copied as they are. */
const ASSETS = ['bench/scale/files'];

/** Folders of the repo's playbooks, compiled against the package (not shipped in it). */
const PLAYBOOK_DIRS = ['playbooks', 'examples', 'bench/playbooks'];

function tsFiles(dir: string): string[] {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

/** Every role folder with an index.ts: `drover/roles/<name>`. */
function roleNames(): string[] {
  return readdirSync(join(root, 'roles'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'roles', d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

/** The package's entry points: source -> output (without .js), as package.json's exports name them. */
function packageEntries(): Array<{ in: string; out: string }> {
  return [
    { in: 'index.ts', out: 'index' },
    { in: 'lib/testing/index.ts', out: 'testing' },
    { in: 'cli/bin.ts', out: 'bin/drover' },
    ...roleNames().map((r) => ({ in: `roles/${r}/index.ts`, out: `roles/${r}` })),
    { in: 'roles/postgres/promote-play.ts', out: 'roles/postgres/promote-play' },
  ].map((e) => ({ in: join(root, e.in), out: e.out }));
}

const packagesOutside: Plugin = {
  name: 'drover-externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || isBuiltin(args.path)) return { path: args.path, external: true };
      const pkg = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]!;
      return BUNDLED.includes(pkg) ? undefined : { path: args.path, external: true };
    });
  },
};

/** zod/v4/classic re-exports every locale as `z.locales`; the bundle gets an empty module instead. */
const ZOD_LOCALES: Plugin = {
  name: 'drover-zod-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (/[/\\]zod[/\\]v4[/\\]classic[/\\]/.test(args.importer) ? { path: 'zod-locales', namespace: 'drover-empty' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'drover-empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/**
 * ui/remote/parent.ts forks `new URL('./child.ts', import.meta.url)`: from the sources that
 * is the TypeScript child; in the package, the prebuilt one. The parent lives in a chunk (it
 * is only imported dynamically), so dist/ui/child.js is one folder up. The build fails if the
 * expression is not found exactly once, rather than shipping a UI that cannot start.
 * child-bundle.ts (esbuild at run time, for the sources only) becomes a stub: the package
 * never compiles anything and never imports esbuild.
 */
const uiForPackage: Plugin = {
  name: 'drover-ui-prebuilt',
  setup(b) {
    b.onLoad({ filter: /ui[/\\]remote[/\\]parent\.ts$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      const needle = "new URL('./child.ts', import.meta.url)";
      const n = src.split(needle).length - 1;
      if (n !== 1) throw new Error(`${args.path}: expected one ${needle}, found ${n} (update scripts/build.ts)`);
      return { contents: src.replace(needle, "new URL('../ui/child.js', import.meta.url)"), loader: 'ts' };
    });
    b.onLoad({ filter: /ui[/\\]remote[/\\]child-bundle\.ts$/ }, () => ({
      contents: 'export async function childBundle() { return undefined; }\nexport function cachedChildBundle() { return undefined; }\n',
      loader: 'ts',
    }));
  },
};

/** The one module of the package with an `import()` in it. */
const LOADER = 'chunks/load.js';
const LOADER_SOURCE = '// Every lazy import of the package, so no other module has an import() (scripts/build.ts: why).\nexport const load = (specifier) => import(specifier);\n';

/**
 * `import("./x.js")` -> `__droverLoad(new URL("./x.js", import.meta.url).href)`, a bare
 * `import("zx/core")` -> `__droverLoad("zx/core")` (resolved from dist/chunks/: the same
 * node_modules), `import(url)` -> `__droverLoad(url)`. Same modules, loaded as lazily; no
 * import() left for tsx to rewrite.
 */
function lazyImports(text: string, file: string): string {
  let n = 0;
  const body = text.replace(/\bimport\((["'])([^"'\n]+)\1\)/g, (_m, q: string, spec: string) => {
    n++;
    return spec.startsWith('.') ? `__droverLoad(new URL(${q}${spec}${q}, import.meta.url).href)` : `__droverLoad(${q}${spec}${q})`;
  });
  // import(expression): in this code base always an absolute URL (the bin loading a playbook),
  // which resolves the same from load.js.
  const rest = body.replace(/(?<![.\w$])import\((?!["'])/g, () => (n++, '__droverLoad('));
  if (n === 0) return text;
  if (/(?<![.\w$])import\(/.test(rest.replace(/\/\/.*$/gm, ''))) throw new Error(`${relative(out, file)}: an import() the build cannot route through ${LOADER}`);
  let rel = relative(dirname(file), join(out, LOADER));
  if (!rel.startsWith('.')) rel = `./${rel}`;
  const line = `import { load as __droverLoad } from ${JSON.stringify(rel)};\n`;
  // After a hashbang (the bin), which must stay the first line.
  const bang = /^#!.*\n/.exec(rest)?.[0] ?? '';
  return bang + line + rest.slice(bang.length);
}

// yaml is CommonJS and requires Node's builtins: ES module output has no `require` of its own.
const REQUIRE_BANNER = "import { createRequire as __droverCreateRequire } from 'node:module'; const require = __droverCreateRequire(import.meta.url);";

async function buildPackage(): Promise<Metafile> {
  const r = await build({
    entryPoints: packageEntries(),
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: 'chunks/[name]-[hash]',
    jsx: 'automatic',
    logLevel: 'warning',
    metafile: true,
    write: false,
    plugins: [uiForPackage, packagesOutside, ZOD_LOCALES],
    banner: { js: REQUIRE_BANNER },
  });
  mkdirSync(dirname(join(out, LOADER)), { recursive: true });
  writeFileSync(join(out, LOADER), LOADER_SOURCE);
  for (const f of r.outputFiles) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.path.endsWith('.js') ? lazyImports(f.text, f.path) : f.contents);
  }
  return r.metafile;
}

/**
 * The UI process: Ink, React and yoga bundled in (ui/remote/child-bundle.ts builds the same
 * from the sources): it starts under plain node in ~0.5 s of CPU, and the package needs no
 * compiler for it.
 */
async function buildUiChild(): Promise<void> {
  await build({
    entryPoints: [{ in: join(root, 'ui/remote/child.ts'), out: 'child' }],
    outdir: join(out, 'ui'),
    bundle: true,
    // Ink loads its devtools (react-devtools-core, not installed) only in development, by a
    // dynamic import: split, that stays a chunk nobody loads.
    splitting: true,
    external: ['react-devtools-core'],
    format: 'esm',
    platform: 'node',
    target: 'node20',
    jsx: 'automatic',
    // The UI always runs React's production build (ui/index.ts would pick it at run time; its
    // `NODE_ENV ??=` then assigns to this constant: harmless, hence 'error' level logging).
    define: { 'process.env.NODE_ENV': '"production"', 'process.env.DROVER_UI_BUNDLED': '"1"' },
    banner: { js: REQUIRE_BANNER },
    logLevel: 'error',
  });
}

/** The repo's playbooks, each compiled to one file that imports `drover` (the package, by its self-reference: dist/index.js). */
async function buildPlaybooks(): Promise<number> {
  const entries = PLAYBOOK_DIRS.flatMap(tsFiles).map((f) => ({ in: join(root, f), out: f.replace(/\.ts$/, '') }));
  const r = await build({
    entryPoints: entries,
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    absWorkingDir: root,
    sourcemap: 'linked',
    logLevel: 'warning',
    metafile: true,
  });
  // A playbook that imports `drover` and also reaches into lib/, roles/ or ui/ by path would
  // run two copies of the engine (two secrets registries): that fails the build. (One that
  // only imports by path is self-contained, as before the package existed.)
  for (const [file, o] of Object.entries(r.metafile.outputs)) {
    if (!o.imports.some((i) => i.external && /^drover(\/|$)/.test(i.path))) continue;
    const engine = Object.keys(o.inputs).filter((f) => /^(lib|roles|ui|cli)\//.test(f) || f === 'index.ts');
    if (engine.length) throw new Error(`${file}: import the engine as 'drover' / 'drover/roles/<name>', not by path as well: ${engine.slice(0, 5).join(', ')}`);
  }
  for (const a of ASSETS) cpSync(join(root, a), join(out, a), { recursive: true });
  return entries.length;
}

/** .d.ts of everything the entries reach; relative `.ts` specifiers become `.js`, which any consumer's tsc reads. */
function buildTypes(): void {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', TYPES], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc (declarations) failed:\n${r.stdout}${r.stderr}`);
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : d.name.endsWith('.d.ts') ? [join(dir, d.name)] : []));
  for (const f of walk(TYPES)) {
    const src = readFileSync(f, 'utf8');
    const fixed = src.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+?)\.ts(['"])/g, '$1$2.js$3');
    if (fixed !== src) writeFileSync(f, fixed);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const types = !process.argv.includes('--no-types');
  rmSync(out, { recursive: true, force: true });
  let meta: Metafile;
  let playbooks: number;
  try {
    meta = await buildPackage();
    await buildUiChild();
    playbooks = await buildPlaybooks();
    if (types) buildTypes();
    const old = `${out}-old`;
    if (existsSync(DIST)) renameSync(DIST, old);
    renameSync(out, DIST);
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(out, { recursive: true, force: true });
    throw e;
  }
  const files = Object.keys(meta.outputs).filter((f) => f.endsWith('.js')).length;
  process.stdout.write(
    `build: the package in ${relative(process.cwd(), DIST) || '.'}/ (${packageEntries().length} entries, ${files} files${types ? ', types' : ', no types'}) and ${playbooks} playbooks (${Date.now() - started} ms); run e.g. node dist/playbooks/site.js -i inventory/lab.yaml\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`build: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
