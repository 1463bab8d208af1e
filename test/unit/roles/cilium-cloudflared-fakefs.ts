// A FakeTransport that behaves like a small filesystem for the paths a test names: probes
// answer with what was put (content, mode), `mkdir -p` creates directories, chmod changes
// modes. Enough to show that a second run of a manifest task finds nothing to change.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { FakeTransport } from '../../support/fake-transport.ts';
import { fileOut } from '../ops/helpers.ts';

export interface FakeFs {
  t: FakeTransport;
  /** Paths created or written, in order. */
  writes: string[];
}

export function fakeFs(host: string, paths: readonly string[]): FakeFs {
  const t = new FakeTransport(host);
  const dirs = new Map<string, string>();
  const writes: string[] = [];
  const byLength = [...paths].sort((a, b) => b.length - a.length);
  // Only commands naming one of the paths: others reach later t.on() rules or the fallback.
  const named = new RegExp(byLength.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
  t.on(named, (cmd) => {
    const p = byLength.find((x) => cmd.includes(x))!;
    const mkdir = /mkdir -p /.test(cmd);
    if (mkdir && !dirs.has(p)) {
      dirs.set(p, '755');
      writes.push(`mkdir ${p}`);
    }
    const chmod = /chmod (\d+) /.exec(cmd);
    if (chmod && dirs.has(p)) dirs.set(p, chmod[1]!.replace(/^0/, ''));
    const f = t.files.get(p);
    if (f) {
      // Binary content (a chart archive): the real sha256 and size, not those of a UTF-8 reading.
      const out = fileOut({ content: '', mode: String(f.options?.mode ?? '0644').replace(/^0/, '') });
      return { stdout: out.replace(/ 0 root root\n/, ` ${f.content.length} root root\n`).replace(/sha256=\w+/, `sha256=${createHash('sha256').update(f.content).digest('hex')}`) };
    }
    if (dirs.has(p)) return { stdout: fileOut({ type: 'directory', mode: dirs.get(p) }) };
    return { stdout: fileOut({ type: 'absent' }) };
  });
  const put = t.put.bind(t);
  t.put = async (path, content, options) => {
    writes.push(path);
    return put(path, content, options);
  };
  return { t, writes };
}

/**
 * Compare with a golden file under test/fixtures; DROVER_UPDATE_GOLDEN=1 rewrites it instead
 * (then review the diff before committing).
 */
export function expectGolden(file: URL, actual: string): void {
  if (process.env.DROVER_UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
