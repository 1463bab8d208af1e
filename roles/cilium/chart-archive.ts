// Which chart a .tgz holds: the name and version in its top-level Chart.yaml, read with
// node's gunzip and a minimal ustar walk (no dependency), so an air-gapped install refuses an
// archive of another version before anything reaches a server.
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';

export interface ChartMeta {
  name: string;
  version: string;
}

const field = (b: Buffer, at: number, len: number) => {
  const s = b.subarray(at, at + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul < 0 ? len : nul).toString('utf8');
};

/** Name and version from <chart>/Chart.yaml, or an Error saying what is wrong with the archive. */
export function chartArchiveMeta(tgz: Buffer): ChartMeta | Error {
  let tar: Buffer;
  try {
    tar = gunzipSync(tgz);
  } catch {
    return new Error('not a gzip archive');
  }
  let longName: string | undefined;
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = parseInt(field(h, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156] ?? 0);
    const prefix = field(h, 345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    longName = undefined;
    const body = tar.subarray(off + 512, off + 512 + size);
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (m) longName = m[1];
    } else if ((type === '0' || type === '\0') && /^[^/]+\/Chart\.yaml$/.test((name = name.replace(/^\.\//, '')))) {
      const doc: unknown = parse(body.toString('utf8'));
      const o = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
      if (typeof o.name !== 'string' || typeof o.version !== 'string') return new Error(`${name} has no name or version`);
      return { name: o.name, version: o.version };
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return new Error('no <chart>/Chart.yaml in the archive');
}
