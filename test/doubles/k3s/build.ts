// Build the double into ONE executable JS file (Node 18+, the hosts' Debian nodejs) with the
// version as a build-time constant, so a test can build two versions for an upgrade.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const DEFAULT_K3S_VERSION = 'v1.31.4+k3s1';

export interface BuiltDouble {
  path: string;
  version: string;
  sha256: string;
}

/** Build (or rebuild) the double for a version; returns the executable's path and hash. */
export async function buildK3sDouble(opts: { version?: string; outDir?: string } = {}): Promise<BuiltDouble> {
  const version = opts.version ?? DEFAULT_K3S_VERSION;
  const commit = createHash('sha256').update(version).digest('hex').slice(0, 8);
  const outDir = opts.outDir ?? join(tmpdir(), 'drover-k3s-double', version);
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, 'k3s');
  const here = dirname(fileURLToPath(import.meta.url));
  await build({
    entryPoints: [join(here, 'main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    outfile: path,
    banner: { js: '#!/usr/bin/env node' },
    define: { __K3S_DOUBLE_VERSION__: JSON.stringify(version), __K3S_DOUBLE_COMMIT__: JSON.stringify(commit) },
    logLevel: 'error',
    legalComments: 'none',
  });
  chmodSync(path, 0o755);
  return { path, version, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
}
