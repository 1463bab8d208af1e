// Load Ink without es-toolkit's whole compat barrel. Ink 6.8 takes one function from it
// (`import { throttle } from 'es-toolkit/compat'`), and that import evaluates ~400 modules:
// 1.2-2 s before the first frame under tsx on 2 shared cores, most of Ink's load time, spent
// on the thread that runs the playbook. A module resolve hook sends that one import to the
// throttle module itself (same function, same package version). Ink 7.1 still has the broad
// import; drop this file when a release does not.
import { register } from 'node:module';

// Runs in Node's loader thread. It redirects only when the importing file is Ink's and its
// import is exactly `{ throttle }`, and the target exists: otherwise resolution is untouched.
const HOOK = `
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const onlyThrottle = /import\\s*\\{\\s*throttle\\s*\\}\\s*from\\s*['"]es-toolkit\\/compat['"]/;
export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? '';
  if (specifier !== 'es-toolkit/compat' || !/\\/node_modules\\/ink\\/build\\/[^/]+\\.js$/.test(parent)) return next(specifier, context);
  const barrel = await next(specifier, context);
  try {
    const direct = new URL('./function/throttle.mjs', barrel.url);
    const source = readFileSync(fileURLToPath(parent), 'utf8');
    const imports = source.match(/from\\s*['"]es-toolkit\\/compat['"]/g) ?? [];
    if (imports.length === 1 && onlyThrottle.test(source) && existsSync(fileURLToPath(direct))) return { ...barrel, url: direct.href };
  } catch {}
  return barrel;
}
`;

let hooked = false;

/** Import Ink (and what it needs) the cheap way; falls back to a plain import. */
export async function loadInk(): Promise<typeof import('ink')> {
  // Bundled (ui/remote/child-bundle.ts), Ink is in the bundle already: a hook would only cost a
  // loader thread.
  if (!hooked && process.env.DROVER_UI_BUNDLED !== '1') {
    hooked = true;
    try {
      register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    } catch {
      // No module hooks here (an old Node, a bundler): Ink still loads, only slower.
    }
  }
  return import('ink');
}
