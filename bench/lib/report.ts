// Figures to text: medians, the machine, markdown tables, and RESULTS.md sections (each part
// replaces only its own section, so `npm run bench -- scale` keeps the lab figures).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { Measurement } from './measure.ts';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Summary {
  runs: number;
  wallMs: number;
  wallMinMs: number;
  wallMaxMs: number;
  cpuMs: number;
  peakTreeRssKiB: number;
  peakProcHwmKiB: number;
  /** 1-minute load average before each run (median). */
  load: number;
  timedOut: number;
}

export interface Sample {
  m: Measurement;
  /** 1-minute load average just before the run. */
  load: number;
}

export function summarise(samples: readonly Sample[]): Summary {
  const w = samples.map((s) => s.m.wallMs);
  return {
    runs: samples.length,
    wallMs: median(w),
    wallMinMs: Math.min(...w),
    wallMaxMs: Math.max(...w),
    cpuMs: median(samples.map((s) => s.m.cpuMs)),
    peakTreeRssKiB: median(samples.map((s) => s.m.peakTreeRssKiB)),
    peakProcHwmKiB: median(samples.map((s) => s.m.peakProcHwmKiB)),
    load: median(samples.map((s) => s.load)),
    timedOut: samples.filter((s) => s.m.timedOut).length,
  };
}

export const load1 = (): number => loadavg()[0]!;

export function machine(): string {
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  let os = '';
  try {
    os = /PRETTY_NAME="?([^"\n]*)/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    /* unknown */
  }
  const cpu = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown cpu';
  // ssh -V prints on stderr.
  const sshd = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr?.trim() ?? '';
  return [
    `${cpus().length} cpus (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory (${(freemem() / 2 ** 30).toFixed(1)} GiB free)`,
    `${os}, kernel ${kernel}, node ${process.version}, ${sshd.split('\n')[0] ?? ''}`,
    `${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  ].join('; ');
}

export function fmtS(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  return ms >= 100_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`;
}

export function fmtMiB(kib: number): string {
  return Number.isFinite(kib) ? `${(kib / 1024).toFixed(kib >= 100 * 1024 ? 0 : 1)} MiB` : 'n/a';
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  return x >= 10 ? `${x.toFixed(0)}x` : `${x.toFixed(2)}x`;
}

export function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const BEGIN = (part: string) => `<!-- bench:${part}:begin -->`;
const END = (part: string) => `<!-- bench:${part}:end -->`;

/** Replace (or append) one part's section of a markdown file, keeping the rest. */
export function writeSection(file: string, part: string, body: string, header = '# Benchmark results\n\nWritten by `npm run bench` (bench/run.ts); each part replaces only its own section.\n'): void {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : header;
  const block = `${BEGIN(part)}\n${body.trim()}\n${END(part)}`;
  const a = text.indexOf(BEGIN(part));
  const b = text.indexOf(END(part));
  if (a >= 0 && b > a) text = text.slice(0, a) + block + text.slice(b + END(part).length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}
