// Serial batches (Ansible `serial`): a count, a percentage of the play's hosts (rounded
// down, at least 1), or a list that ramps up, its last entry repeating: [1, '50%'].
import { InputError } from '../errors.ts';

type SerialSpec = number | string | ReadonlyArray<number | string> | undefined;

function batchSize(spec: number | string, total: number): number {
  if (typeof spec === 'number') {
    if (!Number.isFinite(spec) || spec < 0) throw new InputError(`invalid batch size ${spec}`, undefined, 'serial');
    return spec === 0 ? total : Math.floor(spec);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(spec);
  if (!m) throw new InputError(`invalid batch size "${spec}" (a count or a percentage like "30%")`, undefined, 'serial');
  const n = Number(m[1]);
  if (!m[2]) return n === 0 ? total : Math.floor(n);
  return Math.max(1, Math.floor((n / 100) * total));
}

export function serialBatches<T>(hosts: readonly T[], serial: SerialSpec): T[][] {
  if (hosts.length === 0) return [];
  if (serial === undefined) return [[...hosts]];
  const specs = Array.isArray(serial) ? serial : [serial as number | string];
  if (specs.length === 0) return [[...hosts]];
  const out: T[][] = [];
  let i = 0;
  let k = 0;
  while (i < hosts.length) {
    const spec = specs[Math.min(k, specs.length - 1)]!;
    const size = Math.max(1, batchSize(spec, hosts.length));
    out.push(hosts.slice(i, i + size));
    i += size;
    k++;
  }
  return out;
}

/** How play_start shows serial: a list becomes "1,50%". */
export function serialLabel(serial: SerialSpec): number | string | undefined {
  if (serial === undefined) return undefined;
  return Array.isArray(serial) ? serial.join(',') : (serial as number | string);
}
