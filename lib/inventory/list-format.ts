// `-i 10.0.0.5,10.0.0.6` (or `-i host,`): hosts in 'ungrouped', as Ansible's host_list.
// Entries may carry a port (`host:2222`) and ranges (`web[1:3]`).
import { InputError } from '../errors.ts';
import { parseHostEntry } from './host-range.ts';
import type { RawInventory } from './raw.ts';

/** A -i argument is a host list when it is not a path and has a comma. */
export function looksLikeHostList(source: string): boolean {
  return source.includes(',');
}

export function parseHostList(source: string, raw: RawInventory): void {
  let offset = 0;
  for (const part of source.split(',')) {
    const lead = part.length - part.trimStart().length;
    const name = part.trim();
    const pos = { file: source, line: 1, col: offset + lead + 1 };
    offset += part.length + 1;
    if (!name) continue;
    let entry;
    try {
      entry = parseHostEntry(name);
    } catch (e) {
      throw new InputError(`bad host entry: ${(e as Error).message}`, pos, name);
    }
    for (const host of entry.names) {
      raw.addHost('ungrouped', host, pos);
      if (entry.port !== undefined) raw.setHostVar(host, 'ansible_port', entry.port, pos);
    }
  }
}
