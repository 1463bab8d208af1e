// Uninstall K3s from a node (servers and agents), as k3s-killall.sh + k3s-uninstall.sh do
// (research §1.4), without needing those scripts (the roles never run install.sh):
//   units stopped and disabled, what KillMode=process leaves in their cgroups killed, K3s's
//   mounts unmounted, CNI links (flannel, cni0, cilium_*) deleted, then the unit and env files,
//   the binary and its links, /etc/rancher/{k3s,node}, the data dirs and the CNI files removed.
// A second run finds nothing left and changes nothing.
import { ops } from '../../lib/ops/index.ts';
import { describeFailure } from '../../lib/ops/shell.ts';
import { changed, failed, ok, type OpResult } from '../../lib/ops/types.ts';
import { defineRole, type HostCtx } from '../../lib/run/types.ts';
import { LINKS } from './install.ts';
import { CONFIG_DIR, DATA_DIR, envFile, K3S_BIN, unitFile, unitName } from './templates.ts';
import { k3sVars, type K3sVars } from './vars.ts';

type Ctx = HostCtx<K3sVars>;

export const UNITS = [unitName('server'), unitName('agent')];

/** Paths removed, in order (files first, data last). */
export const RESET_PATHS = [
  unitFile('server'),
  envFile('server'),
  unitFile('agent'),
  envFile('agent'),
  CONFIG_DIR,
  '/etc/rancher/node',
  DATA_DIR,
  '/var/lib/kubelet',
  '/run/k3s',
  '/run/flannel',
  '/etc/cni/net.d',
  '/var/lib/cni',
  K3S_BIN,
];

/** Network links K3s's flannel and Cilium leave behind (the K3s docs' Cilium uninstall step). */
export const CNI_LINKS = ['cni0', 'flannel.1', 'flannel-v6.1', 'flannel-wg', 'flannel-wg-v6', 'kube-ipvs0', 'cilium_host', 'cilium_net', 'cilium_vxlan'];

/** $@: units. Stops and disables the loaded ones; kills what is left in their cgroups. */
export const STOP_SCRIPT = [
  'for u in "$@"; do',
  '  [ "$(systemctl show -p LoadState --value "$u" 2>/dev/null)" = loaded ] || continue',
  '  st=$(systemctl show -p ActiveState --value "$u"); en=$(systemctl is-enabled "$u" 2>/dev/null)',
  '  if [ "$en" = enabled ]; then systemctl disable "$u" >/dev/null 2>&1 && echo "disabled $u"; fi',
  '  if [ "$st" != inactive ] && [ "$st" != failed ]; then timeout 120 systemctl stop "$u" && echo "stopped $u"; fi',
  // KillMode=process leaves children (containerd shims, pods) in the cgroup.
  '  systemctl kill --kill-who=all --signal=KILL "$u" >/dev/null 2>&1 || :',
  'done',
].join('\n');

/** K3s's mounts (deepest first) and CNI links; $@: link names. Prints what it did. */
export const CLEAN_SCRIPT = [
  'while read -r _ m _; do case $m in /run/k3s*|/var/lib/kubelet*|/var/lib/rancher/k3s*|/run/netns/cni-*) echo "$m";; esac; done < /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" && echo "unmounted $m"; done',
  'for l in "$@"; do if ip link show "$l" >/dev/null 2>&1; then ip link delete "$l" && echo "deleted link $l"; fi; done',
  'if command -v iptables-save >/dev/null 2>&1 && iptables-save | grep -qiE "KUBE-|flannel|cilium|CNI-"; then',
  '  iptables-save | grep -v KUBE- | grep -v CNI- | grep -iv flannel | grep -iv cilium | iptables-restore && echo "removed K3s/CNI iptables rules"',
  'fi',
].join('\n');

async function stopUnits(ctx: Ctx): Promise<OpResult> {
  const probe = await ctx.$.read`for u in ${UNITS}; do systemctl show -p LoadState --value "$u"; done`.nothrow();
  if (!probe.stdout.split('\n').includes('loaded')) return ok('no K3s unit loaded');
  if (ctx.check) return changed(`would stop and disable ${UNITS.join(', ')}`);
  const r = await ctx.$`sh -c ${STOP_SCRIPT} k3s-stop ${UNITS}`.timeout(300_000).nothrow();
  if (!r.ok) return failed(`stopping K3s: ${describeFailure(r)}`, { stderr: r.stderr, rc: r.exitCode });
  const did = r.stdout.trim().split('\n').filter(Boolean);
  return did.length ? changed(did.join(', ')) : ok('K3s units already stopped and disabled');
}

async function cleanHost(ctx: Ctx): Promise<OpResult> {
  if (ctx.check) return ok('mounts and links are checked only in a real run');
  const r = await ctx.$`sh -c ${CLEAN_SCRIPT} k3s-clean ${CNI_LINKS}`.timeout(120_000).nothrow();
  if (!r.ok) return failed(`cleaning K3s mounts/links: ${describeFailure(r)}`, { stderr: r.stderr, rc: r.exitCode });
  const did = r.stdout.trim().split('\n').filter(Boolean);
  return did.length ? changed(did.join(', ')) : ok('no K3s mounts, CNI links or rules left');
}

/** Links in /usr/local/bin that point at k3s (others are left alone). */
async function removeLinks(ctx: Ctx): Promise<OpResult> {
  const r = await ctx.$.read`for l in ${LINKS}; do if [ -L "$l" ] && [ "$(readlink "$l")" = ${K3S_BIN} ]; then echo "$l"; fi; done`.nothrow();
  const mine = r.stdout.split('\n').filter(Boolean);
  if (!mine.length) return ok('no links to k3s');
  return ctx.run(ops.seq(...mine.map((l) => ops.absent(l))));
}

export const k3sResetRole = defineRole({
  name: 'k3s-reset',
  vars: k3sVars,
  tasks: [
    { name: 'K3s units stopped and disabled', run: stopUnits },
    { name: 'K3s mounts, CNI links and rules removed', run: cleanHost },
    { name: 'links to k3s removed', run: removeLinks },
    { name: 'K3s files and data removed', register: 'k3s_reset_files', run: (ctx) => ctx.run(ops.seq(...RESET_PATHS.map((p) => ops.absent(p)))) },
    {
      name: 'systemd reloaded',
      when: (ctx) => ctx.registered.k3s_reset_files?.status === 'changed' || 'no unit file was removed',
      run: async (ctx) => {
        if (ctx.check) return changed('would run systemctl daemon-reload');
        const r = await ctx.$`systemctl daemon-reload`.nothrow();
        return r.ok ? changed('systemctl daemon-reload') : failed(`systemctl daemon-reload: ${describeFailure(r)}`);
      },
    },
  ],
});
