// firewalld (RHEL's default firewall), when it is active: the K3s ports opened permanently
// and the pod/service networks put in the trusted zone (as the K3s docs ask), then one
// reload. One probe exec; the decision is pure. Inactive or absent firewalld: skipped.
import { sh } from '../../lib/ops/shell.ts';
import { applyDecision, type Decision } from '../../lib/ops/decision.ts';
import { defineOp } from '../../lib/ops/exec.ts';
import { parseProbe } from '../../lib/ops/probe.ts';
import { skipped, type Op } from '../../lib/ops/types.ts';
import { parsePorts, portText } from './from-base.ts';

export interface FirewalldState {
  active: boolean;
  ports: string[];
  trusted: string[];
}

export function parseFirewalldState(stdout: string): FirewalldState {
  const { kv } = parseProbe(stdout);
  const words = (k: string) => (kv.get(k) ?? '').split(/\s+/).filter(Boolean);
  return { active: kv.has('active'), ports: words('ports'), trusted: words('trusted') };
}

/** firewalld's spelling of our port specs: 6443/tcp, 2379-2380/tcp. */
export function firewalldPorts(specs: readonly string[]): string[] {
  return parsePorts(specs).map((p) => `${portText(p)}/${p.proto}`);
}

export function decideFirewalld(s: FirewalldState, a: { ports: readonly string[]; trusted: readonly string[] }): Decision {
  const ports = firewalldPorts(a.ports).filter((p) => !s.ports.includes(p));
  const sources = a.trusted.filter((c) => !s.trusted.includes(c));
  if (!ports.length && !sources.length) return { change: false, commands: [], msg: 'firewalld already opens the K3s ports and trusts the cluster networks' };
  const commands = [
    ...ports.map((p) => sh`firewall-cmd --permanent --add-port=${p}`),
    ...sources.map((c) => sh`firewall-cmd --permanent --zone=trusted --add-source=${c}`),
    'firewall-cmd --reload',
  ];
  const what = [ports.length ? `open ${ports.join(', ')}` : '', sources.length ? `trust ${sources.join(', ')}` : ''].filter(Boolean);
  return { change: true, commands, msg: `firewalld: ${what.join('; ')}` };
}

export function firewalldOpen(ports: readonly string[], trusted: readonly string[]): Op {
  return defineOp(async (ctx) => {
    // `command -v firewall-cmd` first: firewalld cannot be active without its own package, and the
    // builtin spares hosts without it (all of Debian's) a systemctl (~7 ms of the host's CPU).
    const r = await ctx.$.read`if command -v firewall-cmd >/dev/null 2>&1 && systemctl is-active --quiet firewalld 2>/dev/null; then
  echo active=1
  printf 'ports=%s\\n' "$(firewall-cmd --permanent --list-ports)"
  printf 'trusted=%s\\n' "$(firewall-cmd --permanent --zone=trusted --list-sources)"
fi`;
    const s = parseFirewalldState(r.stdout);
    if (!s.active) return skipped('firewalld is not active on this host');
    return applyDecision(ctx, decideFirewalld(s, { ports, trusted }));
  });
}
