// npm run lab -- up|down|status|reset [-i inventory] | ssh <host> [command...]
import { labDown, labReset, labSshInteractive, labStatus, labUp, labPrereqs, type StatusResult } from './index.ts';
import { DEFAULT_INVENTORY } from './paths.ts';
import { EXIT } from '../lib/errors.ts';

const USAGE = `usage: npm run lab -- <command> [-i inventory]
  up       boot every host of the inventory (default ${DEFAULT_INVENTORY}); keeps running ones
  down     stop all lab hosts and the mirror bridge; remove namespaces, mounts, upper dirs
  status   per host: running, pid, address, boot time, memory
  ssh <host> [command...]   interactive ssh into a host, or run a command
  reset    down, then remove all lab state (keys, known_hosts, logs); keeps the rootfs cache`;

function parse(argv: string[]): { cmd?: string; inventory: string; rest: string[] } {
  let inventory = DEFAULT_INVENTORY;
  const rest: string[] = [];
  let cmd: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // After `ssh <host>`, everything is the remote command.
    if (cmd === 'ssh' && rest.length >= 1) {
      rest.push(...argv.slice(a === '--' ? i + 1 : i));
      break;
    }
    if (a === '-i' || a === '--inventory') {
      const v = argv[++i];
      if (!v) throw new Error(`${a} needs a path`);
      inventory = v;
    } else if (a.startsWith('--inventory=')) inventory = a.slice('--inventory='.length);
    else if (a === '-h' || a === '--help') cmd = 'help';
    else if (!cmd) cmd = a;
    else rest.push(a);
  }
  return { ...(cmd ? { cmd } : {}), inventory, rest };
}

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

function printStatus(s: StatusResult): void {
  const rows = [['HOST', 'STATE', 'PID', 'ADDRESS', 'PYTHON', 'BOOT', 'MEM(PSS)', 'MEM(RSS)', 'MEM(CGROUP)', 'PROCS']];
  for (const h of s.hosts) {
    rows.push([
      h.name,
      h.running ? 'running' : 'stopped',
      h.running && h.pid ? String(h.pid) : '-',
      h.address ?? '-',
      h.python === undefined ? '-' : h.python ? 'yes' : 'no',
      h.bootMs !== undefined ? `${(h.bootMs / 1000).toFixed(1)} s` : '-',
      h.memory ? mib(h.memory.pssKiB) : '-',
      h.memory ? mib(h.memory.rssKiB) : '-',
      h.cgroupMemoryBytes !== undefined ? mib(h.cgroupMemoryBytes / 1024) : '-',
      h.memory ? String(h.memory.processes) : '-',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd());
  const total = s.hosts.reduce((a, h) => a + (h.memory?.pssKiB ?? 0), 0);
  console.log(
    `memory: summed over each nspawn process tree from /proc/<pid>/smaps_rollup ` +
      `(PSS splits shared pages; RSS counts them per process); ` +
      `CGROUP = the host's memory cgroup usage, page cache included. total PSS ${mib(total)}`,
  );
  console.log(`lab namespace: ${s.labNetns ? 'present' : 'absent'}`);
  for (const m of s.mirrors) {
    console.log(`mirror bridge: ${m.listen}:${m.port} -> ${m.host}:${m.port} ${m.running ? 'running' : 'NOT running'}`);
  }
}

async function main(): Promise<number> {
  const { cmd, inventory, rest } = parse(process.argv.slice(2));
  const log = (l: string) => console.log(l);
  if (!cmd || cmd === 'help') {
    console.log(USAGE);
    return cmd ? EXIT.ok : EXIT.usage;
  }
  if (cmd !== 'status') {
    const p = labPrereqs();
    if (!p.ok) {
      console.error(`lab: ${p.why}`);
      return EXIT.internal;
    }
  }
  switch (cmd) {
    case 'up':
      await labUp(inventory, { log });
      return EXIT.ok;
    case 'down':
      await labDown({ log });
      return EXIT.ok;
    case 'reset':
      await labReset({ log });
      return EXIT.ok;
    case 'status':
      printStatus(labStatus());
      return EXIT.ok;
    case 'ssh': {
      const [host, ...command] = rest;
      if (!host) {
        console.error('usage: npm run lab -- ssh <host> [command...]');
        return EXIT.usage;
      }
      return labSshInteractive(host, command.length ? command.join(' ') : undefined);
    }
    default:
      console.error(`unknown command: ${cmd}\n${USAGE}`);
      return EXIT.usage;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`lab: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(EXIT.internal);
  },
);
