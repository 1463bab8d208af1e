// lib/ is the library: it never imports the terminal UI (ui/) nor the layer above both (cli/,
// which passes the UI into lib/cli's runPlaybook). Checked on the import statements.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;

function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? tsFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

describe('layers', () => {
  it('lib/ imports nothing from ui/ or cli/', () => {
    const offending: string[] = [];
    for (const f of tsFiles('lib')) {
      const src = readFileSync(join(root, f), 'utf8');
      for (const m of src.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('.') && /^(ui|cli)\//.test(join(f, '..', spec))) offending.push(`${f}: ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
