// How the bench starts Drover, in the ways a user can: the same playbook under tsx (as the
// README runs it), prebuilt (`npm run build`, then node dist/...), and with pipelining off.
// Start-up is part of every figure: each run is a fresh process, timed from spawn to exit.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * drover: `node --import tsx <playbook>.ts` (what `npx tsx` runs, without npm's own start-up);
 * drover-npx: `npx tsx <playbook>.ts`, the README's command word for word;
 * drover-prebuilt: `node dist/<playbook>.js` after `npm run build`;
 * drover-sessions: prebuilt with DROVER_PIPELINING=0 (one SSH session per command, the
 * engine's behaviour before pipelining became the default);
 * drover-no-ahead: prebuilt with DROVER_PROBE_AHEAD=0 (one round trip per probe, the engine
 * before probe-ahead: lib/run/probe-ahead.ts);
 * drover-rolling: prebuilt with DROVER_CHECK_FIRST=0 (serial plays roll every host one batch
 * after another, as Ansible does, converged or not: the engine before Play.checkFirst).
 */
export type DroverVariant = 'drover' | 'drover-npx' | 'drover-prebuilt' | 'drover-sessions' | 'drover-no-ahead' | 'drover-rolling';

export const DROVER_VARIANTS: readonly DroverVariant[] = ['drover', 'drover-npx', 'drover-prebuilt', 'drover-sessions', 'drover-no-ahead', 'drover-rolling'];

const PREBUILT: readonly DroverVariant[] = ['drover-prebuilt', 'drover-sessions', 'drover-no-ahead', 'drover-rolling'];

export function isDrover(tool: string): tool is DroverVariant {
  return (DROVER_VARIANTS as readonly string[]).includes(tool);
}

export interface DroverLaunch {
  /** Checkout to run (default: this one). */
  root: string;
  /** Extra node flags (e.g. --cpu-prof) for the node-started variants. */
  nodeFlags?: readonly string[];
}

/** argv and env for one run of `script` (repo-relative, without extension: bench/playbooks/checks20). */
export function droverCommand(v: DroverVariant, script: string, args: readonly string[], l: DroverLaunch): { argv: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1' };
  // Each variant states its pipelining, so a DROVER_PIPELINING in the bench's own
  // environment cannot change a row's meaning.
  env.DROVER_PIPELINING = v === 'drover-sessions' ? '0' : '1';
  env.DROVER_PROBE_AHEAD = v === 'drover-no-ahead' ? '0' : '1';
  env.DROVER_CHECK_FIRST = v === 'drover-rolling' ? '0' : '1';
  const flags = l.nodeFlags ?? [];
  switch (v) {
    case 'drover':
      return { argv: [process.execPath, ...flags, '--import', 'tsx', `${script}.ts`, ...args], env };
    case 'drover-npx':
      return { argv: ['npx', '--no-install', 'tsx', `${script}.ts`, ...args], env };
    case 'drover-prebuilt':
    case 'drover-sessions':
    case 'drover-no-ahead':
    case 'drover-rolling':
      return { argv: [process.execPath, ...flags, join('dist', `${script}.js`), ...args], env };
  }
}

/** `npm run build` in the checkout when a prebuilt variant is to run (an older checkout without it cannot). */
export function buildIfNeeded(variants: readonly string[], root: string, log: (m: string) => void): void {
  if (!variants.some((v) => (PREBUILT as readonly string[]).includes(v))) return;
  if (!existsSync(join(root, 'scripts/build.ts'))) throw new Error(`${root} has no scripts/build.ts: it cannot run the prebuilt variants (leave them out with --tools)`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed in ${root}: ${r.stderr || r.stdout}`);
  log(`  ${r.stdout.trim()}`);
}
