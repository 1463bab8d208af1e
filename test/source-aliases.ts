// The package's entry points (package.json "exports", condition "drover-source") as aliases
// to their TypeScript sources: tests load `drover/...` from the sources, not from dist/.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Exports = Record<string, string | Record<string, string>>;

export function sourceAliases(): Array<{ find: RegExp; replacement: string }> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { name: string; exports: Exports };
  const out: Array<{ find: RegExp; replacement: string }> = [];
  for (const [key, target] of Object.entries(pkg.exports)) {
    const source = typeof target === 'object' ? target['drover-source'] : undefined;
    if (!source) continue;
    const spec = `${pkg.name}${key.slice(1)}`.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    // "./roles/*" -> ^drover/roles/([^/]+)$ -> roles/$1/index.ts
    out.push({ find: new RegExp(`^${spec.replace('*', '([^/]+)')}$`), replacement: `${root}${source.slice(2).replace('*', '$1')}` });
  }
  return out;
}
