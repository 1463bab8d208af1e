// The facts probe: one POSIX sh script, sent on stdin to `sh -s`, that prints raw evidence
// in sections. It needs no python and uses no bash-isms, so it runs on dash, bash and
// busybox ash alike (Debian, RHEL-likes, Alpine, Flatcar). Every decision (family, init,
// container...) is made by the TypeScript parser, which is unit tested on captured output.

export const SECTION_PREFIX = '::drover-facts:';

export const PROBE_SCRIPT = `# drover facts probe
LC_ALL=C; export LC_ALL
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; export PATH
sec() { printf '\\n${SECTION_PREFIX}%s\\n' "$1"; }
have() { command -v "$1" >/dev/null 2>&1; }

# Builtins (read, printf) where a process would only copy a file: the probe runs once per
# host per run, and every fork+exec costs ~1 ms of the host's CPU.
# rd FILE: its first line into $__v (empty when unreadable), without a subshell.
rd() { __v=; { IFS= read -r __v < "$1"; } 2>/dev/null; return 0; }
lines() { [ -r "$1" ] || return 1; while IFS= read -r __l || [ -n "$__l" ]; do printf '%s\\n' "$__l"; done < "$1"; }
__u=$(uname -n -r -m 2>/dev/null)
set -f; set -- $__u; set +f
sec hostname; echo "$1"
sec os-release; lines /etc/os-release 2>/dev/null || lines /usr/lib/os-release 2>/dev/null
sec kernel; echo "$2"
sec arch; echo "$3"

sec init
[ -d /run/systemd/system ] && echo run_systemd=1
rd /proc/1/comm; echo "pid1=$__v"
have openrc && echo openrc=1
[ -f /etc/inittab ] && echo inittab=1

sec pkg
for p in apt-get dnf yum apk; do command -v "$p" 2>/dev/null; done

# systemd-detect-virt, when present, is the whole answer (the parser ignores the other
# evidence then), so the fallbacks only run without it. Inside a container whose systemd
# wrote /run/systemd/container, that file is the answer systemd-detect-virt --container
# would read and print: the parser takes it as is, and the host is spared the process (~6 ms).
__sdv=; have systemd-detect-virt && __sdv=1
sec container
[ -n "$__sdv" ] && ! [ -s /run/systemd/container ] && echo "detect=$(systemd-detect-virt --container 2>/dev/null)"
[ -f /run/systemd/container ] && rd /run/systemd/container && echo "run_container=$__v"
[ -f /.dockerenv ] && echo dockerenv=1
[ -f /run/.containerenv ] && echo containerenv=1
if [ -z "$__sdv" ] && [ -r /proc/1/environ ]; then
  v=$({ tr '\\000' '\\n' < /proc/1/environ; } 2>/dev/null | sed -n 's/^container=//p' | head -n 1)
  [ -n "$v" ] && echo "environ=$v"
fi

sec vm
if [ -n "$__sdv" ]; then
  echo "detect=$(systemd-detect-virt --vm 2>/dev/null)"
else
  for f in sys_vendor product_name; do
    [ -r /sys/class/dmi/id/$f ] && rd /sys/class/dmi/id/$f && echo "$f=$__v"
  done
  grep -q '^flags.* hypervisor' /proc/cpuinfo 2>/dev/null && echo hypervisor_flag=1
fi

sec python
command -v python3 2>/dev/null || command -v python 2>/dev/null

if have ip; then
  sec ip-link; ip -o link show 2>/dev/null
  sec ip-addr; ip -o addr show 2>/dev/null
  # The selector spares a grep (and the pipe's fork); the parser keeps only "default" lines
  # in case an ip ignores it, and the plain listing is the fallback for one that rejects it.
  sec ip-route; ip -4 route show default 2>/dev/null || ip -4 route show 2>/dev/null
else
  sec sys-net
  for d in /sys/class/net/*; do
    [ -e "$d" ] || continue
    echo "\${d##*/} $(cat "$d/address" 2>/dev/null) $(cat "$d/flags" 2>/dev/null)"
  done
  sec if-inet6; cat /proc/net/if_inet6 2>/dev/null
  sec fib-trie; cat /proc/net/fib_trie 2>/dev/null
  sec proc-route; cat /proc/net/route 2>/dev/null
fi

sec meminfo; { while IFS= read -r __l; do case $__l in MemTotal:*) printf '%s\\n' "$__l"; break ;; esac; done < /proc/meminfo; } 2>/dev/null
sec cpus; nproc 2>/dev/null || grep -c '^processor' /proc/cpuinfo 2>/dev/null
sec uid; id -u
sec selinux
have getenforce && echo "getenforce=$(getenforce 2>/dev/null)"
[ -d /sys/fs/selinux ] && echo fs=1
[ -r /sys/fs/selinux/enforce ] && rd /sys/fs/selinux/enforce && echo "enforce=$__v"
sec end
exit 0
`;
