// SELinux permissive on the RHEL family (the role gates on facts.os.family): live with
// `setenforce 0` when enforcing, and SELINUX=permissive in /etc/selinux/config for the next
// boot. A disabled or absent SELinux is left alone (writing permissive would turn it on).
// In a container the live mode is the host's: that part is skipped with the reason.
import { applyDecision, type Decision } from '../../lib/ops/decision.ts';
import { defineOp } from '../../lib/ops/exec.ts';
import { ops } from '../../lib/ops/index.ts';
import { ok, type Op } from '../../lib/ops/types.ts';

export const SELINUX_CONFIG = '/etc/selinux/config';

export function decideSelinuxLive(mode: string, container: string | null): Decision {
  const m = mode.trim().toLowerCase();
  if (m !== 'enforcing') return { change: false, commands: [], msg: `SELinux is ${m || 'unknown'}` };
  if (container) return { change: false, commands: [], msg: '', skip: `SELinux stays enforcing: its mode is the host kernel's and this is a container (${container})` };
  return { change: true, commands: ['setenforce 0'], msg: 'setenforce 0 (was enforcing)' };
}

export function selinuxPermissive(): Op {
  return defineOp(async (ctx) => {
    const mode = ctx.facts.selinux;
    if (mode === 'absent' || mode === 'disabled') return ok(`SELinux is ${mode}: nothing to do`);
    const config = ops.lineInFile(SELINUX_CONFIG, { regexp: /^SELINUX=/, line: 'SELINUX=permissive' });
    const live = defineOp(async (c) => {
      const r = await c.$.read`getenforce 2>/dev/null || cat /sys/fs/selinux/enforce`;
      // getenforce prints Enforcing/Permissive; the sysfs fallback prints 1/0.
      const raw = r.stdout.trim();
      const current = raw === '1' ? 'enforcing' : raw === '0' ? 'permissive' : raw;
      return applyDecision(c, decideSelinuxLive(current, c.facts.container));
    });
    return ops.seq(config, live)(ctx);
  });
}
