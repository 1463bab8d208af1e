#!/bin/sh
# The lab floor's check functions (hand-written POSIX sh). bench/lab.ts appends, per host,
# one line per thing the roles manage there (the same checks as base, k3s-prereqs, haproxy
# and keepalived make in a no-change run) and the whole script goes over ONE ssh session.
# It checks only: each difference is printed and counted, nothing is repaired (a no-change
# run costs the same either way). Last line: "<host> changed=N failed=0".
n=0
diff() { echo "differs: $*" >&2; n=$((n + 1)); }

# file_is PATH SHA256 MODE OWNER GROUP: content and attributes
file_is() {
  [ -f "$1" ] || { diff "$1 missing"; return; }
  h=$(sha256sum < "$1"); a=$(stat -c '%a %U %G' "$1")
  [ "${h%% *}" = "$2" ] || diff "$1 content"
  [ "$a" = "$3 $4 $5" ] || diff "$1 attributes $a"
}
# dir PATH MODE
dir() { [ -d "$1" ] && [ "$(stat -c %a "$1")" = "$2" ] || diff "$1 directory"; }
absent() { [ ! -e "$1" ] || diff "$1 present"; }
# block FILE NAME SHA256: the managed block between its markers
block() {
  h=$(sed -n "/^# BEGIN DROVER MANAGED BLOCK $2\$/,/^# END DROVER MANAGED BLOCK $2\$/p" "$1" | sha256sum)
  [ "${h%% *}" = "$3" ] || diff "$1 block $2"
}
lnk() { [ "$(readlink "$1")" = "$2" ] || diff "$1 link"; }
host() { [ "$(cat /proc/sys/kernel/hostname)" = "$1" ] || diff "live hostname"; }
# pkgs NAME...: every one installed
pkgs() { [ "$(dpkg-query -W -f='${db:Status-Status}\n' "$@" 2>/dev/null | grep -cx installed)" = $# ] || diff "packages $*"; }
# svc NAME: active and enabled
svc() {
  s=$(systemctl show -p ActiveState -p UnitFileState "$1")
  case $s in *ActiveState=active*) ;; *) diff "$1 not active" ;; esac
  case $s in *UnitFileState=enabled*) ;; *) diff "$1 not enabled" ;; esac
}
sysctl_is() { [ "$(cat "/proc/sys/$(echo "$1" | tr . /)")" = "$2" ] || diff "sysctl $1"; }
swapoff_() {
  [ "$(wc -l < /proc/swaps)" -le 1 ] || diff "swap active"
  ! grep -qE '^[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]' /etc/fstab || diff "swap in fstab"
}
# module NAME: in the running kernel (listed, or its feature present: a container sees no /sys/module)
module() {
  { grep -q "^$1 " /proc/modules 2>/dev/null || [ -d "/sys/module/$1" ]; } && return
  case $1 in
    overlay) grep -qw overlay /proc/filesystems && return ;;
    br_netfilter) [ -d /proc/sys/net/bridge ] && return ;;
  esac
  diff "module $1"
}
nftable() { nft list table inet "$1" > /dev/null 2>&1 || diff "nft table $1"; }

# K3s (roles k3s-master / k3s-worker), the same checks as their no-change run:
# k3sver VERSION: the installed binary's version
k3sver() { [ "$(/usr/local/bin/k3s --version 2>/dev/null | sed -n 's/^k3s version \(v[^ ]*\).*/\1/p')" = "$1" ] || diff "k3s version"; }
# k3sfresh UNIT FILE...: nothing the unit reads changed after it started (else it needs a restart)
k3sfresh() {
  u=$1; shift
  ts=$(systemctl show -p ActiveEnterTimestamp --value "$u"); since=$(date -d "$ts" +%s 2>/dev/null || echo 0)
  for f in "$@"; do [ "$(stat -L -c %Y "$f")" -le "$since" ] || diff "$f newer than $u's start"; done
}
# k3sready NODE VOTER: token file, authenticated /readyz, and (VOTER=1) EtcdIsVoter=True
k3sready() {
  [ -s /var/lib/rancher/k3s/server/token ] || diff "no token file"
  /usr/local/bin/k3s kubectl get --raw /readyz --request-timeout=5s >/dev/null 2>&1 || diff "readyz"
  [ "$2" = 1 ] || return 0
  [ "$(/usr/local/bin/k3s kubectl get node "$1" --request-timeout=5s -o 'jsonpath={.status.conditions[?(@.type=="EtcdIsVoter")].status}' 2>/dev/null)" = True ] || diff "$1 not a voter"
}
# k3snode NODE: registered (checked on the first server for each agent)
k3snode() { /usr/local/bin/k3s kubectl get node "$1" --request-timeout=5s -o name >/dev/null 2>&1 || diff "node $1 not registered"; }
# tcp HOST PORT: accepts a connection (the API VIP)
tcp() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" >/dev/null 2>&1 || diff "$1:$2 closed"; }
# tokenread: the cluster token read for a joiner/agent (Drover reads it on the first server for each)
tokenread() { [ -s /var/lib/rancher/k3s/server/token ] && cat /var/lib/rancher/k3s/server/token >/dev/null || diff "token"; }
# kubecfg SHA256: the admin kubeconfig the controller copies (Drover compares it after its rewrite)
kubecfg() { h=$(sha256sum < /etc/rancher/k3s/k3s.yaml); [ -n "${h%% *}" ] || diff "k3s.yaml"; }
