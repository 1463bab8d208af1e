// The start-up layers of `npx tsx playbooks/site.ts`, side by side in one run: what each layer
// (node, tsx's loader, tsx's CLI and its child process, npm's exec) costs before Drover runs
// one line, then Drover loading the site playbook (`--list-hosts`: inventory parsed, no host
// contacted) prebuilt, under tsx and under npx tsx, and ansible-playbook doing the same.
// Issue 12 asks the README's command to re-run a converged host 20x faster than Ansible; this
// part shows how much of that budget the command spends before our code starts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { measure, type Measurement } from './lib/measure.ts';
import { fmtS, load1, machine, median, table } from './lib/report.ts';

const repo = new URL('..', import.meta.url).pathname;

interface Layer {
  name: string;
  argv: string[];
  /** What this row adds over the row before it. */
  what: string;
}

export interface StartupOptions {
  runs: number;
  /** Inventory for the --list-hosts rows (default inventory/lab.yaml). */
  inventory?: string;
  log: (m: string) => void;
}

export interface StartupRow {
  layer: Layer;
  wallMs: number;
  cpuMs: number;
  load: number;
}

function layers(inv: string): Layer[] {
  const bin = (n: string) => join(repo, 'node_modules/.bin', n);
  const list = ['-i', inv, '--list-hosts'];
  const out: Layer[] = [
    { name: '`node -e 0`', argv: [process.execPath, '-e', '0'], what: 'Node itself' },
    { name: '`node --import tsx -e 0`', argv: [process.execPath, '--import', 'tsx', '-e', '0'], what: "tsx's loader (its hooks thread, esbuild service)" },
    { name: '`tsx -e 0` (node_modules/.bin)', argv: [bin('tsx'), '-e', '0'], what: "tsx's CLI, which starts a second node process with the loader" },
    { name: '`npx tsx -e 0`', argv: ['npx', 'tsx', '-e', '0'], what: "npm's exec finding the local bin" },
    { name: '`node dist/playbooks/site.js --list-hosts`', argv: [process.execPath, 'dist/playbooks/site.js', ...list], what: 'Drover prebuilt: loading the bundle, parsing the inventory' },
    { name: '`node --import tsx playbooks/site.ts --list-hosts`', argv: [process.execPath, '--import', 'tsx', 'playbooks/site.ts', ...list], what: 'the same under the tsx loader' },
    { name: '`npx tsx playbooks/site.ts --list-hosts`', argv: ['npx', 'tsx', 'playbooks/site.ts', ...list], what: "the README's command, up to the first host contact" },
  ];
  if (existsSync('/usr/bin/ansible-playbook')) {
    out.push({ name: '`ansible-playbook bench/ansible/lab-site.yml --list-hosts`', argv: ['ansible-playbook', '-i', inv, 'bench/ansible/lab-site.yml', '--list-hosts'], what: "Ansible's own start-up, for scale" });
  }
  return out;
}

export async function runStartup(o: StartupOptions): Promise<StartupRow[]> {
  const inv = o.inventory ?? 'inventory/lab.yaml';
  if (!existsSync(join(repo, 'dist/playbooks/site.js'))) throw new Error('dist/playbooks/site.js is missing: run `npm run build` first');
  const ls = layers(inv);
  const samples = new Map<Layer, { m: Measurement; load: number }[]>(ls.map((l) => [l, []]));
  // One warm-up each (tsx's transform cache, the page cache), then interleaved rounds.
  for (const l of ls) await measure(l.argv, { cwd: repo, timeoutMs: 120_000 });
  for (let r = 0; r < o.runs; r++) {
    for (const l of ls) {
      const load = load1();
      const m = await measure(l.argv, { cwd: repo, timeoutMs: 120_000 });
      if (m.code !== 0) throw new Error(`${l.argv.join(' ')} exited ${m.code ?? m.signal}`);
      samples.get(l)!.push({ m, load });
    }
    o.log(`startup: round ${r + 1}/${o.runs} done`);
  }
  return ls.map((layer) => {
    const s = samples.get(layer)!;
    return { layer, wallMs: median(s.map((x) => x.m.wallMs)), cpuMs: median(s.map((x) => x.m.cpuMs)), load: median(s.map((x) => x.load)) };
  });
}

export function startupMarkdown(rows: readonly StartupRow[], runs: number, cmdline: string): string {
  const npxEmpty = rows.find((r) => r.layer.name === '`npx tsx -e 0`');
  const body = table(
    ['command', 'wall (median)', 'controller CPU', 'load avg', 'adds'],
    rows.map((r) => [r.layer.name, fmtS(r.wallMs), fmtS(r.cpuMs), r.load.toFixed(2), r.layer.what]),
  );
  const lines = [
    '## Start-up layers of the README command (issue 12)',
    '',
    `Machine: ${machine()}`,
    '',
    `Reproduce: \`${cmdline}\` (medians of ${runs} interleaved rounds after one warm-up each; wall from spawn to exit, CPU of the whole process tree from its cgroup).`,
    '',
    body,
    '',
  ];
  if (npxEmpty) {
    lines.push(
      `\`npx tsx -e 0\` runs no code of ours and takes ${fmtS(npxEmpty.wallMs)}: for \`npx tsx playbooks/site.ts\` to re-run a converged host 20x faster than Ansible, Ansible's run on that host must take at least ${fmtS(npxEmpty.wallMs * 20)} before Drover has loaded a module, connected or checked anything.`,
    );
  }
  return lines.join('\n');
}
