#!/bin/sh
# The floor: the same 20 checks as bench/playbooks/checks20.ts, hand-written in POSIX sh and
# sent whole over ONE ssh session per host (`ssh host sh -s -- ROOT HOST ADDRESS IP_FORWARD
# < script`). It fixes what differs, like the playbook, and prints changed=N at the end.
# @@name@@ lines are replaced by the files of bench/scale/files/ (bench/scale/floor.ts).
root=$1 host=$2 addr=$3 ipf=$4
changed=0 failed=0
ch() { changed=$((changed + 1)); }

dir() { # path mode
  [ -d "$1" ] || { mkdir -p "$1" && ch; }
  [ "$(stat -c %a "$1")" = "$2" ] || { chmod "$2" "$1" && ch; }
}
put() { # path mode content-function
  if ! "$3" | cmp -s - "$1"; then "$3" > "$1.tmp" && chmod "$2" "$1.tmp" && mv -f "$1.tmp" "$1" && ch; fi
  [ "$(stat -c %a "$1")" = "$2" ] || { chmod "$2" "$1" && ch; }
}
line() { # path regexp line (the line present, else the last regexp match replaced, else appended)
  grep -qx -- "$3" "$1" && return
  if grep -q -- "$2" "$1"; then sed -i "s|$2.*|$3|" "$1"; else printf '%s\n' "$3" >> "$1"; fi
  ch
}
block() { # path name content-function
  b="# BEGIN BENCH MANAGED BLOCK $2" e="# END BENCH MANAGED BLOCK $2"
  want=$(printf '%s\n' "$b"; "$3"; printf '%s\n' "$e")
  [ "$(sed -n "/^$b\$/,/^$e\$/p" "$1")" = "$want" ] && return
  sed -i "/^$b\$/,/^$e\$/d" "$1" && printf '%s\n' "$want" >> "$1" && ch
}
lnk() { # target link
  [ "$(readlink "$2")" = "$1" ] || { ln -sfn "$1" "$2" && ch; }
}

f_app() { cat <<'__EOF__'
@@app.conf@@
__EOF__
}
f_motd() { cat <<'__EOF__'
@@motd@@
__EOF__
}
f_a() { cat <<'__EOF__'
@@10-a.conf@@
__EOF__
}
f_b() { cat <<'__EOF__'
@@20-b.conf@@
__EOF__
}
f_run() { cat <<'__EOF__'
@@run.sh@@
__EOF__
}
f_state() { cat <<'__EOF__'
@@state.json@@
__EOF__
}
f_hosts() { printf '# hosts.conf: rendered per host\nhost = %s\naddress = %s\nroot = %s\n' "$host" "$addr" "$root"; }
f_limits() { printf 'nofile = 65536\nnproc = 4096\n'; }

dir "$root" 755
dir "$root/etc" 755
dir "$root/conf.d" 755
dir "$root/bin" 755
dir "$root/data" 700
put "$root/etc/app.conf" 644 f_app
put "$root/etc/motd" 644 f_motd
put "$root/conf.d/10-a.conf" 644 f_a
put "$root/conf.d/20-b.conf" 644 f_b
put "$root/bin/run.sh" 755 f_run
put "$root/data/state.json" 600 f_state
put "$root/etc/hosts.conf" 644 f_hosts
s="$root/etc/settings.conf"
[ -e "$s" ] || { : > "$s" && chmod 644 "$s"; }
line "$s" '^max_connections' 'max_connections = 100'
line "$s" '^log_level' 'log_level = info'
block "$s" limits f_limits
lnk "$root/etc" "$root/current"
lnk "$root/bin/run.sh" "$root/bin/app"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$ipf" ] || { echo "net.ipv4.ip_forward is not $ipf" >&2; failed=1; }
[ -e "$root/data/initialized" ] || { date > "$root/data/initialized" && ch; }
grep -qx bench "$root/data/marks" 2>/dev/null || { echo bench >> "$root/data/marks" && ch; }
echo "$host changed=$changed failed=$failed"
exit $failed
