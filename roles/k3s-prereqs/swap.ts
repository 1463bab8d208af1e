// Swap off for the kubelet: now (swapoff -a when /proc/swaps lists any) and at boot (swap
// lines of /etc/fstab commented out). One probe exec; the decision is pure.
// A container shares the host kernel's swap and may not swapoff: that part is skipped with
// the reason, the fstab edit is still made.
import { applyDecision, type Decision } from '../../lib/ops/decision.ts';
import { canChown, defineOp, mustProbe } from '../../lib/ops/exec.ts';
import { EDIT_MAX_BYTES, fileProbeScript, parseFileState, parseProbe, setVar, type FileState } from '../../lib/ops/probe.ts';
import type { Op } from '../../lib/ops/types.ts';
import { decideWrite } from '../../lib/ops/write.ts';
import { commentSwapLines } from './templates.ts';

export interface SwapState {
  /** Active swap areas (first column of /proc/swaps). */
  active: string[];
  fstab: FileState;
}

export function swapProbeScript(): string {
  return [
    // /proc/swaps: a header line, then one line per active area (first field: the area).
    // Read with builtins, as awk's `NR > 1 { print $1 }` would: no process on the host.
    `{ read -r __l; while read -r __a __l; do echo "swap=$__a"; done; } 2>/dev/null < /proc/swaps`,
    setVar('p', '/etc/fstab'),
    fileProbeScript({ follow: true, contentMax: EDIT_MAX_BYTES }),
  ].join('\n');
}

export function parseSwapState(stdout: string): SwapState {
  const active = stdout
    .split('\n')
    .filter((l) => l.startsWith('swap='))
    .map((l) => l.slice(5))
    .filter(Boolean);
  return { active, fstab: parseFileState(parseProbe(stdout)) };
}

export function decideSwap(s: SwapState, a: { container: string | null; diff: boolean; preserveOwner: boolean }): Decision {
  const parts: string[] = [];
  let d: Decision = { change: false, commands: [], msg: '' };
  if (s.fstab.type === 'file') {
    if (s.fstab.content === undefined) return { ...d, fail: '/etc/fstab could not be read back', msg: 'cannot read /etc/fstab' };
    const after = commentSwapLines(s.fstab.content);
    if (after !== s.fstab.content) {
      d = decideWrite(s.fstab, { path: '/etc/fstab', content: after, diff: a.diff, preserveOwner: a.preserveOwner, what: 'comment out swap in /etc/fstab' });
      if (d.fail) return d;
      parts.push(d.msg);
    }
  }
  if (s.active.length) {
    if (a.container) {
      d.skip = `swap not turned off: ${s.active.join(', ')} belongs to the host kernel and a container (${a.container}) cannot swapoff`;
    } else {
      d.commands.push('swapoff -a');
      d.change = true;
      parts.push(`swapoff -a (active: ${s.active.join(', ')})`);
    }
  }
  d.msg = parts.length ? parts.join('; ') : 'swap is off and not in /etc/fstab';
  return d;
}

export function swapOff(): Op {
  return defineOp(async (ctx) => {
    const r = await mustProbe(ctx, 'probe swap', swapProbeScript());
    const d = decideSwap(parseSwapState(r.stdout), { container: ctx.facts.container, diff: ctx.diff, preserveOwner: canChown(ctx) });
    return applyDecision(ctx, d);
  });
}
