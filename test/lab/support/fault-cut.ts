// Cut a Drover run's SSH connection to a lab host from the host's side, at a chosen moment:
// a script on the host waits (polling every 20 ms) until a condition holds (a temp file of an
// upload exists, a journal line appeared, a sleep is running), then SIGKILLs every sshd
// session process except the ones of its own connection. sshd's listener stays up, so the
// host is reachable again at once: only the connection in use dies, mid-operation.
import { labSsh } from '../../../lab/index.ts';
import { quote } from '../../../lib/shell/quote.ts';

export interface CutResult {
  /** sshd processes killed. */
  killed: number;
  /** What the condition printed when it held (e.g. the temp file's name). */
  seen: string;
}

/**
 * `condition`: sh that exits 0 when the moment has come and prints what it saw. Resolves
 * after the kill; rejects if the condition did not hold within timeoutMs.
 */
export async function cutWhen(host: string, condition: string, timeoutMs = 60_000): Promise<CutResult> {
  const tries = Math.ceil(timeoutMs / 20);
  const script = `
i=0
until seen=$(${condition}); do
  i=$((i+1)); [ "$i" -gt ${tries} ] && { echo 'condition never held' >&2; exit 3; }
  sleep 0.02
done
anc=' '; p=$$
while [ "$p" -gt 1 ]; do anc="$anc$p "; p=$(awk '{print $4}' /proc/$p/stat); done
n=0
for f in $(grep -l '^sshd$' /proc/[0-9]*/comm 2>/dev/null); do
  d=\${f%/comm}; pid=\${d#/proc/}
  case "$anc" in *" $pid "*) continue ;; esac
  case "$(tr '\\0' ' ' < "$d/cmdline" 2>/dev/null)" in *listener*|*/usr/sbin/sshd*) continue ;; esac
  kill -9 "$pid" 2>/dev/null && n=$((n+1))
done
printf 'killed %s\\n%s\\n' "$n" "$seen"
`;
  const r = await labSsh(host, `sh -c ${quote(script)}`, { timeoutMs: timeoutMs + 10_000 });
  if (r.code !== 0) throw new Error(`${host}: cut script exited ${r.code}: ${r.stderr}${r.stdout}`);
  const [first, ...rest] = r.stdout.split('\n');
  return { killed: Number(/^killed (\d+)$/.exec(first ?? '')?.[1] ?? NaN), seen: rest.join('\n').trim() };
}

/** Condition: an upload's temp file (`.<base>.drover-*`) other than `not` exists beside `path`. */
export function uploadInFlight(path: string, not = ''): string {
  const dir = path.slice(0, path.lastIndexOf('/'));
  const base = path.slice(path.lastIndexOf('/') + 1);
  // ls -A: the temp is a dot file; a name to skip lets a second cut wait for the retry's own temp.
  return `ls -A ${quote(dir)} | grep -F ${quote(`.${base}.drover-`)} | grep -vxF -e ${quote(not || '-')} | grep .`;
}

/** Condition: a process named `comm` is running. */
export function processRunning(comm: string): string {
  return `grep -lx ${quote(comm)} /proc/[0-9]*/comm 2>/dev/null | head -1 | grep .`;
}
