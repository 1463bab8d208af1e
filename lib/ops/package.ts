// package: packages present / absent / latest through the host's package manager.
// apt: probe dpkg-query (+ apt-cache policy for latest) and the cache age in one exec (the
// newest *Release file of a successful update, never the lists/ folder mtime, which a fresh
// image has recent but empty);
// dnf/yum: rpm -q (+ dnf list --upgrades for latest). The cache is refreshed only when
// something is to be installed (or nothing is named), so the no-change case is one exec.
import { quote, quoteArgs } from '../shell/quote.ts';
import type { Facts } from '../facts/types.ts';
import { applyDecision, mustFail, noChange, type Decision } from './decision.ts';
import { defineOp, mustProbe, mustRun } from './exec.ts';
import { skipped, type Op, type OpContext } from './types.ts';

export type PackageState = 'present' | 'absent' | 'latest';

export interface PackageOptions {
  state?: PackageState;
  /** Refresh the package index before installing (apt-get update / dnf --refresh). */
  updateCache?: boolean;
  /** apt: skip the refresh when the last one is younger than this many seconds. Default 0. */
  cacheValidTime?: number;
  /** apt: purge configuration files when removing. */
  purge?: boolean;
  timeoutMs?: number;
}

/** What the probe found. */
export interface PackageProbe {
  /** Installed packages: name -> version. */
  installed: Map<string, string>;
  /** apt, state latest: name -> candidate version ('(none)' when unknown to apt). */
  candidates?: Map<string, string>;
  /** dnf, state latest: names with an upgrade available. */
  upgradable?: Set<string>;
  /** apt: seconds since the index was last refreshed (undefined when unknown). */
  cacheAge?: number;
}

export interface PackageArgs {
  manager: 'apt' | 'dnf' | 'yum';
  names: string[];
  state: PackageState;
  updateCache?: boolean;
  cacheValidTime?: number;
  purge?: boolean;
}

export const APT_ENV = 'DEBIAN_FRONTEND=noninteractive';
/** Keep existing config files on upgrades, wait for a busy dpkg lock instead of failing. */
export const APT_OPTS = '-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=120';
/** apt-get update, then a stamp whose mtime says when it last succeeded (as Ubuntu's update-notifier). */
export const APT_UPDATE =
  'apt-get update -q && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/update-success-stamp';

/** apt pins a version as name=version. */
function splitPin(spec: string): { name: string; version?: string } {
  const eq = spec.indexOf('=');
  return eq > 0 ? { name: spec.slice(0, eq), version: spec.slice(eq + 1) } : { name: spec };
}

/**
 * The apt index's age costs the host four processes (date, stat, sort, tail: ~4-5 ms of CPU,
 * measured) and matters only with updateCache, and then (for present packages) only when one
 * is missing: so without updateCache it is not probed, and for present packages without
 * version pins the shell probes it only when dpkg-query did not list every name as installed
 * (the same test as parsePackageProbe's: status letter `i`).
 */
function aptCacheLines(names: string[], state: PackageState, updateCache: boolean): string[] {
  if (!updateCache || state === 'absent') return [];
  const age = [
    `printf 'now=%s\\n' "$(date +%s)"`,
    `printf 'cache=%s\\n' "$(stat -c %Y /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists/*Release 2>/dev/null | sort -n | tail -n 1)"`,
  ];
  if (state !== 'present' || !names.length || names.some((n) => splitPin(n).version !== undefined)) return age;
  const installed = (n: string) => `*"$__nl"?i${quote(`|${n}|`)}*|*"$__nl"?i?${quote(`|${n}|`)}*`;
  return [
    `__nl='\n'; __miss=`,
    ...names.map((n) => `case "$__nl$__q" in ${installed(n)}) ;; *) __miss=1 ;; esac`),
    `if [ -n "$__miss" ]; then`,
    ...age.map((l) => `  ${l}`),
    'fi',
  ];
}

export function packageProbeScript(manager: PackageArgs['manager'], names: string[], state: PackageState, updateCache = true): string {
  const plain = names.map((n) => splitPin(n).name);
  if (manager === 'apt') {
    const lines = [
      ...(plain.length
        ? [`__q=$(dpkg-query -W -f='\${db:Status-Abbrev}|\${Package}|\${Version}\\n' ${quoteArgs(plain)} 2>/dev/null); [ -z "$__q" ] || printf '%s\\n' "$__q"`]
        : [`__q=`]),
      ...aptCacheLines(names, state, updateCache),
    ];
    if (state === 'latest' && plain.length) lines.push('echo __POLICY__', `LC_ALL=C apt-cache policy ${quoteArgs(plain)} 2>/dev/null`);
    return lines.join('\n');
  }
  const lines = [...(plain.length ? [`rpm -q --qf 'pkg|%{NAME}|%{VERSION}-%{RELEASE}\\n' ${quoteArgs(plain)} 2>/dev/null`] : [])];
  if (state === 'latest' && plain.length) lines.push('echo __UPGRADES__', `${manager} -q list --upgrades ${quoteArgs(plain)} 2>/dev/null`);
  lines.push('echo end=1');
  return lines.join('\n');
}

export function parsePackageProbe(manager: PackageArgs['manager'], stdout: string): PackageProbe {
  const installed = new Map<string, string>();
  const out: PackageProbe = { installed };
  const [head = '', tail] = stdout.split(manager === 'apt' ? /^__POLICY__$/m : /^__UPGRADES__$/m);
  let now: number | undefined;
  let cache: number | undefined;
  for (const line of head.split('\n')) {
    if (manager === 'apt') {
      // Status-Abbrev: desired, status, error; status 'i' = installed (held packages too).
      const m = /^(.)(.).?\|([^|]+)\|(.*)$/.exec(line);
      if (m && m[2] === 'i') installed.set(m[3]!, m[4]!);
      else if (line.startsWith('now=')) now = Number(line.slice(4)) || undefined;
      else if (line.startsWith('cache=')) cache = Number(line.slice(6)) || undefined;
    } else {
      const m = /^pkg\|([^|]+)\|(.*)$/.exec(line);
      if (m) installed.set(m[1]!, m[2]!);
    }
  }
  if (now !== undefined && cache !== undefined) out.cacheAge = Math.max(0, now - cache);
  if (tail !== undefined && manager === 'apt') {
    const candidates = new Map<string, string>();
    let current: string | undefined;
    for (const line of tail.split('\n')) {
      const head = /^(\S+):$/.exec(line);
      if (head) current = head[1]!.replace(/:[a-z0-9]+$/, '');
      const cand = /^\s+Candidate:\s*(\S+)/.exec(line);
      if (cand && current) candidates.set(current, cand[1]!);
    }
    out.candidates = candidates;
  } else if (tail !== undefined) {
    const up = new Set<string>();
    for (const line of tail.split('\n')) {
      const cols = line.trim().split(/\s+/);
      if (cols.length === 3 && cols[0]!.includes('.')) up.add(cols[0]!.slice(0, cols[0]!.lastIndexOf('.')));
    }
    out.upgradable = up;
  }
  return out;
}

export function decidePackages(p: PackageProbe, a: PackageArgs): Decision {
  const specs = a.names.map(splitPin);
  if (a.manager !== 'apt' && specs.some((s) => s.version !== undefined)) {
    return mustFail(`version pins as name=version are apt syntax; for ${a.manager} use name-version`);
  }
  const isInstalled = (s: { name: string; version?: string }) => {
    const v = p.installed.get(s.name);
    return v !== undefined && (s.version === undefined || v === s.version);
  };
  if (a.state === 'absent') {
    const present = specs.filter((s) => p.installed.has(s.name)).map((s) => s.name);
    if (!present.length) return noChange(`${a.names.join(', ') || 'nothing'} absent`);
    const cmd =
      a.manager === 'apt'
        ? `${APT_ENV} apt-get ${a.purge ? 'purge' : 'remove'} -y ${APT_OPTS} ${quoteArgs(present)}`
        : `${a.manager} remove -y ${quoteArgs(present)}`;
    return { change: true, commands: [cmd], msg: `remove ${present.join(', ')}` };
  }
  const missing = specs.filter((s) => !isInstalled(s));
  const outdated =
    a.state === 'latest'
      ? specs.filter((s) => {
          if (!isInstalled(s) || s.version !== undefined) return false;
          if (a.manager === 'apt') {
            const cand = p.candidates?.get(s.name);
            return cand !== undefined && cand !== '(none)' && cand !== p.installed.get(s.name);
          }
          return p.upgradable?.has(s.name) ?? false;
        })
      : [];
  const stale = a.updateCache === true && (p.cacheAge === undefined || p.cacheAge > (a.cacheValidTime ?? 0));
  // An index refresh alone (no names) is a change of its own; otherwise only when installing.
  const refresh = a.updateCache === true && (a.names.length === 0 ? stale || a.manager !== 'apt' : missing.length + outdated.length > 0);
  if (!missing.length && !outdated.length && !refresh) {
    return noChange(a.names.length ? `${a.names.join(', ')} ${a.state === 'latest' ? 'up to date' : 'installed'}` : 'package cache is fresh');
  }
  const commands: string[] = [];
  const what: string[] = [];
  if (a.manager === 'apt') {
    if (refresh && stale) commands.push(APT_UPDATE);
    const install = [...missing, ...outdated].map((s) => (s.version ? `${s.name}=${s.version}` : s.name));
    if (install.length) commands.push(`${APT_ENV} apt-get install -y --no-install-recommends ${APT_OPTS} ${quoteArgs(install)}`);
  } else {
    const refreshFlag = refresh && a.manager === 'dnf' ? ' --refresh' : '';
    if (missing.length) commands.push(`${a.manager} install -y${refreshFlag} ${quoteArgs(missing.map((s) => s.name))}`);
    if (outdated.length) commands.push(`${a.manager} upgrade -y${missing.length ? '' : refreshFlag} ${quoteArgs(outdated.map((s) => s.name))}`);
    if (!missing.length && !outdated.length) commands.push(`${a.manager} makecache -y`);
  }
  if (missing.length) what.push(`install ${missing.map((s) => s.name).join(', ')}`);
  if (outdated.length) what.push(`upgrade ${outdated.map((s) => s.name).join(', ')}`);
  if (!what.length) what.push('refresh the package cache');
  return { change: commands.length > 0, commands, msg: what.join('; ') };
}

function osName(f: Facts): string {
  return f.os.prettyName ?? f.os.id;
}

async function probe(ctx: OpContext, a: PackageArgs): Promise<PackageProbe> {
  const r = await mustProbe(ctx, 'package probe', packageProbeScript(a.manager, a.names, a.state, a.updateCache === true), { sudo: undefined });
  return parsePackageProbe(a.manager, r.stdout);
}

export function packages(names: string | string[], opts: PackageOptions = {}): Op {
  const list = typeof names === 'string' ? [names] : [...names];
  return defineOp(async (ctx) => {
    const pm = ctx.facts.pkgManager;
    if (pm === 'none') return skipped(`no package manager on ${osName(ctx.facts)}`);
    if (pm === 'apk') return applyDecision(ctx, mustFail('package: apk is not supported yet'));
    const a: PackageArgs = { ...opts, manager: pm, names: list, state: opts.state ?? 'present' };
    let p = await probe(ctx, a);
    // latest after a stale index would compare against old candidates: refresh first, then look again.
    if (a.state === 'latest' && a.manager === 'apt' && a.updateCache && !ctx.check) {
      if (p.cacheAge === undefined || p.cacheAge > (a.cacheValidTime ?? 0)) {
        await mustRun(ctx, 'apt-get update', APT_UPDATE, { timeoutMs: opts.timeoutMs });
        p = await probe(ctx, a);
        p.cacheAge = 0;
      }
    }
    return applyDecision(ctx, decidePackages(p, a), { timeoutMs: opts.timeoutMs });
  });
}
