// The floor's two pieces: the per-host script (floor.sh with the managed files inlined) and
// the driver, a POSIX sh loop that starts one `ssh ... sh -s` per host in the background and
// waits for all of them: every host in parallel, one OpenSSH connection each, no multiplexing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { quote } from '../../lib/shell/quote.ts';
import type { FleetHost } from './fleet.ts';

const here = new URL('.', import.meta.url).pathname;

export function floorScript(): string {
  let s = readFileSync(join(here, 'floor.sh'), 'utf8');
  for (const name of ['app.conf', 'motd', '10-a.conf', '20-b.conf', 'run.sh', 'state.json']) {
    const body = readFileSync(join(here, 'files', name), 'utf8').replace(/\n$/, '');
    if (/^__EOF__$/m.test(body)) throw new Error(`${name} contains the heredoc delimiter`);
    s = s.replace(`@@${name}@@`, () => body);
  }
  if (/^@@[\w.-]+@@$/m.test(s)) throw new Error('floor.sh has a placeholder left');
  return s;
}

/**
 * Writes the script and a driver; returns the driver's argv. The driver prints one
 * "<host> changed=N failed=N" line per host that ran (ssh errors go to stderr).
 */
export function writeFloor(dir: string, hosts: readonly FleetHost[], user: string, sshOptions: readonly string[], ipForward: string): string[] {
  const script = join(dir, 'floor.sh');
  writeFileSync(script, floorScript());
  const list = join(dir, `floor-hosts-${hosts.length}`);
  writeFileSync(list, hosts.map((h) => `${h.address} ${h.port} ${h.root} ${h.name}\n`).join(''));
  const driver = join(dir, 'floor-driver.sh');
  writeFileSync(
    driver,
    [
      '#!/bin/sh',
      '# usage: floor-driver.sh HOSTLIST  (address port root name per line)',
      `while read -r addr port root name; do`,
      `  ssh ${sshOptions.map(quote).join(' ')} -o ControlMaster=no -p "$port" ${quote(user)}@"$addr" sh -s -- "$root" "$name" "$addr" ${quote(ipForward)} < ${quote(script)} &`,
      'done < "$1"',
      'wait',
      '',
    ].join('\n'),
  );
  return ['/bin/sh', driver, list];
}

/** Parse the driver's output: hosts that answered, their changes and failures. */
export function parseFloorOutput(text: string): { hosts: number; changed: number; failed: number } {
  let hosts = 0;
  let changed = 0;
  let failed = 0;
  for (const m of text.matchAll(/^\S+ changed=(\d+) failed=(\d+)$/gm)) {
    hosts++;
    changed += Number(m[1]);
    failed += Number(m[2]);
  }
  return { hosts, changed, failed };
}
