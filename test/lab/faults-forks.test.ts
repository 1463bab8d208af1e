// The whole lab (site.ts's plays without K3s: test/lab/support/fault-site.ts) converged with
// --forks 1, 3 and 20 reaches the same end state. One converge first (--forks 10) gives the
// reference: the sha256 and mode/owner of every file the roles write whole (every task
// result "create P", "update P" or "P is up to date") and the running services of each host.
// Then, for each forks value, those files are deleted on every host (up to 1 MiB each: big
// files would only cost upload time; never a file of the lab's image, which the roles may
// manage only in part), the run must re-create every one of them (a changed result naming
// it), and the hashes and services must equal the reference.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTopology } from '../../lab/index.ts';
import { readHostState } from '../../lab/state.ts';
import { quote } from '../../lib/shell/quote.ts';
import { onHost, startRun, taskEnds, type RunEnd } from './support/fault-run.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const PLAYBOOK = 'test/lab/support/fault-site.ts';
let lab: Lab | undefined;
let hosts: string[] = [];

beforeAll(async () => {
  lab = await useLab();
  if (!lab) return console.warn('[faults-forks] lab not available here: skipping');
  hosts = (await readTopology(lab.inventory)).hosts.map((h) => h.name);
});

/** Files each host's tasks write whole, from the task results. */
function managedFiles(end: RunEnd): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const t of taskEnds(end.events)) {
    // A role may append a note after the path ("create /etc/chrony/chrony.conf; NTP client ...").
    const m = /^(?:create|update) (\/[^\s;]+)|^(\/[^\s;]+) is up to date(?:;|$)/.exec(t.msg ?? '');
    const path = m?.[1] ?? m?.[2];
    if (!path || t.delegatedTo) continue;
    if (!out.has(t.host)) out.set(t.host, new Set());
    out.get(t.host)!.add(path);
  }
  return out;
}

/** Managed in part (a block or a line), whatever the layers say. */
const NEVER_DELETE = new Set(['/etc/hosts', '/etc/fstab', '/etc/ssh/sshd_config', '/etc/sudoers', '/etc/postgresql/15/main/postgresql.conf']);
const TRANSIENT = /^(apt-daily|apt-daily-upgrade|man-db|logrotate|dpkg-db-backup|e2scrub_all|fstrim|systemd-tmpfiles-clean)\.service$/;

interface HostState {
  files: Record<string, string>;
  services: string[];
}

async function stateOf(host: string, files: readonly string[]): Promise<HostState> {
  const out = await onHost(
    host,
    `for f in ${files.map(quote).join(' ')}; do if [ -f "$f" ]; then printf '%s %s %s\\n' "$f" "$(stat -c '%a %U:%G' "$f" | tr ' ' /)" "$(sha256sum < "$f" | cut -c1-64)"; elif [ -d "$f" ]; then printf '%s dir %s\\n' "$f" "$(stat -c '%a' "$f")"; else printf '%s absent -\\n' "$f"; fi; done; echo ==; systemctl list-units --type=service --state=running --no-legend --plain | cut -d' ' -f1 | sort`,
  );
  const [filePart, svcPart] = out.split('==\n');
  // Timer-started jobs come and go on their own: not part of the state the roles make.
  const services = svcPart!.split('\n').filter((u) => u && !TRANSIENT.test(u));
  const state: HostState = { files: {}, services };
  for (const line of filePart!.split('\n').filter(Boolean)) {
    const [f, a, b] = line.split(' ');
    state.files[f!] = `${a} ${b}`;
  }
  return state;
}

describe('--forks 1, 3 and 20 reach the same end state', () => {
  it('each re-creates every deleted managed file and ends with the same hashes and services', async (ctx) => {
    if (!lab) return ctx.skip();
    const ref = await startRun(PLAYBOOK, ['-i', lab.inventory]).done;
    expect(ref.code, ref.stderr + ref.stdout.slice(-2000)).toBe(0);
    const files = managedFiles(ref);
    expect([...files.keys()].sort()).toEqual([...hosts].sort());
    const reference = new Map<string, HostState>();
    for (const h of hosts) reference.set(h, await stateOf(h, [...files.get(h)!]));
    // Deleted before each run: files up to 1 MiB that no image layer has. A file of the image
    // (/etc/hosts, /etc/fstab, sshd_config ...) may be managed only in part (a block, a line):
    // deleting it would lose what the roles do not write. Never those.
    const deletable = new Map<string, string[]>();
    for (const h of hosts) {
      const lowers = readHostState(h)?.lowers ?? [];
      expect(lowers.length, `${h}: lab state with its image layers`).toBeGreaterThan(0);
      const candidates = [...files.get(h)!].filter((f) => !NEVER_DELETE.has(f) && !lowers.some((l) => existsSync(join(l, f))));
      const small = (await onHost(h, `for f in ${candidates.map(quote).join(' ')}; do [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 1048576 ] && echo "$f"; done; true`)).split('\n').filter(Boolean);
      deletable.set(h, small);
    }
    const total = [...deletable.values()].reduce((n, l) => n + l.length, 0);
    // At least the sshd drop-in and one more file per host (35 on the lab as it is).
    expect(total).toBeGreaterThanOrEqual(hosts.length * 2);

    const summary: string[] = [];
    for (const forks of [1, 3, 20]) {
      await Promise.all(hosts.map((h) => onHost(h, `rm -f ${deletable.get(h)!.map(quote).join(' ')}`)));
      const run = await startRun(PLAYBOOK, ['-i', lab.inventory, '--forks', String(forks)]).done;
      expect(run.code, `forks ${forks}: ${run.stderr}${run.stdout.slice(-2000)}`).toBe(0);
      expect(run.events.find((e) => e.type === 'run_start')).toMatchObject({ forks });
      // Every deleted file was written again by this run: "create", or "update" when something
      // on the host put a default back first (Debian's chrony postinst re-creates a missing
      // chrony.conf through ucf whenever dpkg configures chrony). The path ends before a note
      // the role appends ("create /etc/chrony/chrony.conf; NTP client ..."). The hashes after
      // the run must match the reference either way.
      const rewritten = new Map<string, Set<string>>();
      for (const t of taskEnds(run.events)) {
        const m = /^(?:create|update) (\/[^\s;]+)/.exec(t.msg ?? '');
        if (t.status === 'changed' && m) (rewritten.get(t.host) ?? rewritten.set(t.host, new Set()).get(t.host)!).add(m[1]!);
      }
      for (const h of hosts) {
        const missing = deletable.get(h)!.filter((f) => !rewritten.get(h)?.has(f));
        const said = taskEnds(run.events).filter((t) => t.host === h && missing.some((f) => t.msg?.includes(f))).map((t) => `${t.status}: ${t.msg}`);
        expect(missing, `forks ${forks}: ${h} did not re-create (its results naming them: ${said.join(' | ') || 'none'})`).toEqual([]);
        expect(await stateOf(h, [...files.get(h)!]), `forks ${forks}: ${h}`).toEqual(reference.get(h));
      }
      summary.push(`forks ${forks}: ${Object.values(run.recap!.hosts).reduce((n, x) => n + x.changed, 0)} changes`);
    }
    const fileCount = [...files.values()].reduce((n, s) => n + s.size, 0);
    console.log(`[faults-forks] ${fileCount} managed files over ${hosts.length} hosts (${total} deleted before each run) + running services: identical after ${summary.join(', ')}`);
  });
});
