// `npm run build`: prebuilt playbooks in dist/ (`node dist/playbooks/site.js -i inventory/lab.yaml`).
//
// Why: under tsx a playbook spends ~0.6-0.9 s of CPU before its first event (tsx's loader
// thread resolves and loads ~240 modules one message at a time; zod alone is 95 of them), most
// of a small run (bench/RESULTS.md). Bundled, the same playbook starts in ~0.25 s of CPU.
// Bundled: the project's TypeScript and the packages every run loads (BUNDLED): Node 20 pays
// per ES module (resolve, read, compile, link), and zod, yaml and p-queue as ~100 separate
// modules cost ~0.25 s of CPU more than in the bundle (measured: --list-hosts 0.50 -> 0.25 s
// of CPU). zod's 64 locale modules are left out (ZOD_LOCALES): only `z.locales` exports them,
// nothing here uses it, and English, the default, is imported by zod's schemas directly.
// Everything else stays in node_modules: ssh2 (CommonJS, loaded natively with its compiled
// crypto binding) and the UI's Ink/React (loaded only by the UI process).
// `npx tsx playbooks/site.ts` keeps working as is: dist/ is an option, rebuilt by hand (it
// does not follow later edits of roles or playbooks).
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import { build, type Plugin } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'dist');
/** The UI process's entry, beside the chunks (see uiChildPath). */
const UI_CHILD_OUT = 'chunks/ui-child';

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

/**
 * ui/remote/parent.ts forks `new URL('./child.ts', import.meta.url)`: under tsx that is the
 * source file; in dist/ it must be the built child. The parent lives in a chunk (it is only
 * imported dynamically), so the built child is put beside the chunks. The build fails if the
 * expression is not found exactly once, rather than shipping a UI that cannot start.
 */
const uiChildPath: Plugin = {
  name: 'drover-ui-child-path',
  setup(b) {
    b.onLoad({ filter: /ui[/\\]remote[/\\]parent\.ts$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const src = await readFile(args.path, 'utf8');
      const needle = "new URL('./child.ts', import.meta.url)";
      const n = src.split(needle).length - 1;
      if (n !== 1) throw new Error(`${args.path}: expected one ${needle}, found ${n} (update scripts/build.ts)`);
      return { contents: src.replace(needle, `new URL('./${UI_CHILD_OUT.split('/').pop()}.js', import.meta.url)`), loader: 'ts' };
    });
  },
};

/** Data files a playbook reads next to its own module (new URL('../x', import.meta.url)): copied as they are. */
const ASSETS = ['bench/scale/files'];

/** Packages bundled into dist/ (and their own dependencies); any other package stays external. */
const BUNDLED = ['zod', 'yaml', 'p-queue', 'p-timeout', 'eventemitter3'];

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

async function main(): Promise<void> {
  const started = Date.now();
  rmSync(out, { recursive: true, force: true });
  const entries = [...tsFiles('playbooks'), ...tsFiles('examples'), ...tsFiles('bench/playbooks')].map((f) => ({ in: join(root, f), out: f.replace(/\.ts$/, '') }));
  // The terminal UI's own process (when this checkout has it: ui/remote/).
  if (existsSync(join(root, 'ui/remote/child.ts'))) entries.push({ in: join(root, 'ui/remote/child.ts'), out: UI_CHILD_OUT });
  const r = await build({
    entryPoints: entries,
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // At depth 2 like the sources (dist/chunks/x.js, dist/playbooks/x.js), so the CLI's
    // `new URL('../../package.json', import.meta.url)` still finds the package's version.
    chunkNames: 'chunks/[name]-[hash]',
    jsx: 'automatic',
    sourcemap: 'linked',
    logLevel: 'warning',
    metafile: true,
    plugins: [uiChildPath, packagesOutside, ZOD_LOCALES],
    // yaml is CommonJS and requires Node's builtins: ES module output has no `require` of its own.
    banner: { js: "import { createRequire as __droverCreateRequire } from 'node:module'; const require = __droverCreateRequire(import.meta.url);" },
  });
  for (const a of ASSETS) cpSync(join(root, a), join(out, a), { recursive: true });
  for (const e of entries) {
    const f = join(out, `${e.out}.js`);
    if (!existsSync(f)) throw new Error(`build: ${relative(root, f)} was not written`);
  }
  const files = Object.keys(r.metafile.outputs).filter((f) => f.endsWith('.js')).length;
  process.stdout.write(`build: ${entries.length} entry points, ${files} files in ${relative(process.cwd(), out) || '.'}/ (${Date.now() - started} ms); run e.g. node dist/playbooks/site.js -i inventory/lab.yaml\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`build: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
