// Turns the probe's sectioned output (see probe.ts) into Facts. Pure: unit tested on
// outputs captured from real systems.
import { SECTION_PREFIX } from './probe.ts';
import { FactsSchema, type Facts, type InterfaceFact } from './types.ts';

export type Sections = Map<string, string[]>;

export function splitSections(text: string): Sections {
  const out: Sections = new Map();
  let cur: string[] | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith(SECTION_PREFIX)) {
      cur = [];
      out.set(line.slice(SECTION_PREFIX.length).trim(), cur);
    } else if (cur) {
      cur.push(line);
    }
  }
  // Sections end with the blank line printed before the next marker.
  for (const lines of out.values()) while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  return out;
}

function lines(s: Sections, name: string): string[] {
  return (s.get(name) ?? []).filter((l) => l.trim() !== '');
}

function first(s: Sections, name: string): string {
  return lines(s, name)[0]?.trim() ?? '';
}

/** key=value evidence lines. */
function kv(s: Sections, name: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of lines(s, name)) {
    const i = l.indexOf('=');
    if (i > 0) m.set(l.slice(0, i).trim(), l.slice(i + 1).trim());
  }
  return m;
}

/** os-release: KEY=value with optional double or single quotes and backslash escapes. */
export function parseOsRelease(text: string | string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of Array.isArray(text) ? text : text.split(/\r?\n/)) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(raw);
    if (!m) continue;
    let v = m[2]!.trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(["$`\\])/g, '$1');
    else if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

type Family = Facts['os']['family'];

const FAMILY_BY_ID: Record<string, Family> = {
  debian: 'debian',
  ubuntu: 'debian',
  raspbian: 'debian',
  linuxmint: 'debian',
  rhel: 'redhat',
  centos: 'redhat',
  fedora: 'redhat',
  almalinux: 'redhat',
  rocky: 'redhat',
  ol: 'redhat',
  amzn: 'redhat',
  flatcar: 'flatcar',
  coreos: 'flatcar',
  alpine: 'alpine',
  arch: 'arch',
  manjaro: 'arch',
  suse: 'suse',
  opensuse: 'suse',
  'opensuse-leap': 'suse',
  'opensuse-tumbleweed': 'suse',
  sles: 'suse',
};

export function osFamily(id: string, idLike: string | undefined): Family {
  for (const candidate of [id, ...(idLike ?? '').split(/\s+/)]) {
    const f = FAMILY_BY_ID[candidate.toLowerCase()];
    if (f) return f;
  }
  return 'unknown';
}

function parseOs(s: Sections): Facts['os'] {
  const r = parseOsRelease(lines(s, 'os-release'));
  const id = (r.ID ?? 'unknown').toLowerCase();
  const version = r.VERSION_ID ?? '';
  const major = /^(\d+)/.exec(version);
  const codename = r.VERSION_CODENAME || /\(([^)]+)\)/.exec(r.VERSION ?? '')?.[1];
  return {
    id,
    family: osFamily(id, r.ID_LIKE),
    version,
    versionMajor: major ? Number(major[1]) : null,
    ...(codename ? { codename } : {}),
    ...(r.PRETTY_NAME ? { prettyName: r.PRETTY_NAME } : {}),
  };
}

function parseInit(s: Sections): Facts['init'] {
  const e = kv(s, 'init');
  if (e.has('run_systemd') || e.get('pid1') === 'systemd') return 'systemd';
  if (e.has('openrc')) return 'openrc';
  if (e.get('pid1') === 'init' || e.has('inittab')) return 'sysvinit';
  return 'unknown';
}

function parsePkg(s: Sections): Facts['pkgManager'] {
  const names = lines(s, 'pkg').map((p) => p.trim().split('/').pop());
  if (names.includes('apt-get')) return 'apt';
  if (names.includes('dnf')) return 'dnf';
  if (names.includes('yum')) return 'yum';
  if (names.includes('apk')) return 'apk';
  return 'none';
}

function parseContainer(s: Sections): string | null {
  const e = kv(s, 'container');
  const detect = e.get('detect');
  if (detect && detect !== 'none') return detect;
  if (detect === 'none') return null; // systemd-detect-virt looked and found none
  const marker = e.get('run_container') || e.get('environ');
  if (marker) return marker === 'systemd-nspawn' ? 'systemd-nspawn' : marker;
  if (e.has('dockerenv')) return 'docker';
  if (e.has('containerenv')) return 'podman';
  return null;
}

/** DMI vendor/product names as systemd-detect-virt reports them. */
const VM_BY_DMI: Array<[RegExp, string]> = [
  [/^KVM$/i, 'kvm'],
  [/^QEMU/i, 'qemu'],
  [/VMware/i, 'vmware'],
  [/VirtualBox|innotek/i, 'oracle'],
  [/^Xen/i, 'xen'],
  [/Amazon EC2/i, 'amazon'],
  [/Microsoft Corporation/i, 'microsoft'],
  [/Google/i, 'google'],
  [/Parallels/i, 'parallels'],
  [/Bochs/i, 'bochs'],
];

function parseVm(s: Sections): string | null {
  const e = kv(s, 'vm');
  const detect = e.get('detect');
  if (detect !== undefined) return detect && detect !== 'none' ? detect : null;
  for (const key of ['product_name', 'sys_vendor']) {
    const v = e.get(key);
    if (!v) continue;
    for (const [re, name] of VM_BY_DMI) if (re.test(v)) return name;
  }
  return e.has('hypervisor_flag') ? 'vm-other' : null;
}

interface Iface {
  name: string;
  mac?: string;
  up: boolean;
  addresses: string[];
}

function ifaceOf(map: Map<string, Iface>, name: string): Iface {
  let i = map.get(name);
  if (!i) {
    i = { name, up: false, addresses: [] };
    map.set(name, i);
  }
  return i;
}

/** `ip -o link show` and `ip -o addr show` (iproute2 and busybox print the same shape). */
function parseIpInterfaces(s: Sections): Map<string, Iface> {
  const map = new Map<string, Iface>();
  for (const l of lines(s, 'ip-link')) {
    const m = /^\d+:\s+([^:\s]+?)(?:@\S+)?:\s+<([^>]*)>/.exec(l);
    if (!m) continue;
    const i = ifaceOf(map, m[1]!);
    i.up = m[2]!.split(',').includes('UP');
    const mac = /link\/ether\s+([0-9a-f:]{17})/i.exec(l);
    if (mac) i.mac = mac[1]!.toLowerCase();
  }
  for (const l of lines(s, 'ip-addr')) {
    const m = /^\d+:\s+([^\s@]+)(?:@\S+)?\s+inet6?\s+(\S+)/.exec(l);
    if (!m) continue;
    ifaceOf(map, m[1]!).addresses.push(m[2]!);
  }
  return map;
}

function defaultRouteFromIp(s: Sections): { dev?: string; src?: string } {
  const l = lines(s, 'ip-route').find((x) => x.startsWith('default'));
  if (!l) return {};
  const dev = /\bdev\s+(\S+)/.exec(l)?.[1];
  const src = /\bsrc\s+(\S+)/.exec(l)?.[1];
  return { ...(dev ? { dev } : {}), ...(src ? { src } : {}) };
}

/** 32 hex digits to the canonical compressed IPv6 form (RFC 5952). */
export function formatIpv6(hex: string): string {
  const groups = hex.match(/.{4}/g)!.map((g) => Number.parseInt(g, 16));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hexes.join(':');
  return `${hexes.slice(0, bestStart).join(':')}::${hexes.slice(bestStart + bestLen).join(':')}`;
}

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** /proc/net/route stores addresses as little-endian hex. */
function routeHexToInt(h: string): number {
  const b = h.match(/../g)!.map((x) => Number.parseInt(x, 16));
  return ((b[3]! << 24) >>> 0) + (b[2]! << 16) + (b[1]! << 8) + b[0]!;
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v >>>= 1) c += v & 1;
  return c;
}

/** Without `ip`: /sys/class/net, /proc/net/if_inet6, /proc/net/fib_trie and /proc/net/route. */
function parseSysInterfaces(s: Sections): { map: Map<string, Iface>; defaultDev?: string } {
  const map = new Map<string, Iface>();
  for (const l of lines(s, 'sys-net')) {
    const [name, mac, flags] = l.trim().split(/\s+/);
    if (!name) continue;
    const i = ifaceOf(map, name);
    if (mac && /^[0-9a-f:]{17}$/i.test(mac) && name !== 'lo') i.mac = mac.toLowerCase();
    if (flags) i.up = (Number.parseInt(flags, 16) & 0x1) === 1; // IFF_UP
  }
  // IPv4: local addresses from the fib trie, put on an interface through its link route.
  const local: string[] = [];
  const trie = lines(s, 'fib-trie');
  for (let k = 0; k + 1 < trie.length; k++) {
    const m = /\|--\s+(\d+\.\d+\.\d+\.\d+)/.exec(trie[k]!);
    if (m && /\/32 host LOCAL/.test(trie[k + 1]!) && !local.includes(m[1]!)) local.push(m[1]!);
  }
  const routes: Array<{ dev: string; dest: number; mask: number; gw: number }> = [];
  let defaultDev: string | undefined;
  for (const l of lines(s, 'proc-route').slice(1)) {
    const f = l.trim().split(/\s+/);
    if (f.length < 8) continue;
    const r = { dev: f[0]!, dest: routeHexToInt(f[1]!), gw: routeHexToInt(f[2]!), mask: routeHexToInt(f[7]!) };
    routes.push(r);
    if (r.dest === 0 && r.mask === 0 && defaultDev === undefined) defaultDev = r.dev;
  }
  for (const a of local) {
    const n = ipv4ToInt(a);
    if (a.startsWith('127.')) {
      ifaceOf(map, 'lo').addresses.push(`${a}/8`);
      continue;
    }
    const r = routes
      .filter((x) => x.gw === 0 && x.mask !== 0 && ((n & x.mask) >>> 0) === (x.dest >>> 0))
      .sort((x, y) => popcount(y.mask) - popcount(x.mask))[0];
    if (r) ifaceOf(map, r.dev).addresses.push(`${a}/${popcount(r.mask)}`);
  }
  for (const l of lines(s, 'if-inet6')) {
    const f = l.trim().split(/\s+/);
    if (f.length < 6 || !/^[0-9a-f]{32}$/i.test(f[0]!)) continue;
    ifaceOf(map, f[5]!).addresses.push(`${formatIpv6(f[0]!.toLowerCase())}/${Number.parseInt(f[2]!, 16)}`);
  }
  return { map, ...(defaultDev ? { defaultDev } : {}) };
}

function parseSelinux(s: Sections): Facts['selinux'] {
  const e = kv(s, 'selinux');
  const g = e.get('getenforce')?.toLowerCase();
  if (g === 'enforcing' || g === 'permissive' || g === 'disabled') return g;
  const enforce = e.get('enforce');
  if (enforce === '1') return 'enforcing';
  if (enforce === '0') return 'permissive';
  return 'absent';
}

function num(text: string, what: string): number {
  const n = Number.parseInt(text, 10);
  if (!Number.isFinite(n)) throw new Error(`facts probe: cannot read ${what} from ${JSON.stringify(text)}`);
  return n;
}

export function parseFactsOutput(text: string): Facts {
  const s = splitSections(text);
  if (!s.has('end')) throw new Error('facts probe output is incomplete (no end marker)');
  let ifaces: Map<string, Iface>;
  let route: { dev?: string; src?: string };
  if (s.has('ip-link') || s.has('ip-addr')) {
    ifaces = parseIpInterfaces(s);
    route = defaultRouteFromIp(s);
  } else {
    const sys = parseSysInterfaces(s);
    ifaces = sys.map;
    route = sys.defaultDev ? { dev: sys.defaultDev } : {};
  }
  const interfaces: InterfaceFact[] = [...ifaces.values()].map((i) => ({
    name: i.name,
    ...(i.mac ? { mac: i.mac } : {}),
    up: i.up,
    addresses: i.addresses,
  }));
  let defaultIpv4: string | null = route.src ?? null;
  if (!defaultIpv4 && route.dev) {
    const v4 = ifaces.get(route.dev)?.addresses.find((a) => /^\d+\.\d+\.\d+\.\d+\//.test(a));
    defaultIpv4 = v4 ? v4.split('/')[0]! : null;
  }
  const mem = /MemTotal:\s+(\d+)\s*kB/i.exec(lines(s, 'meminfo').join('\n'));
  const python = first(s, 'python');
  return FactsSchema.parse({
    hostname: first(s, 'hostname'),
    os: parseOs(s),
    kernel: first(s, 'kernel'),
    arch: first(s, 'arch'),
    init: parseInit(s),
    pkgManager: parsePkg(s),
    container: parseContainer(s),
    vm: parseVm(s),
    python: python.startsWith('/') ? python : null,
    interfaces,
    defaultIpv4,
    memTotalMb: mem ? Math.round(Number(mem[1]) / 1024) : 0,
    cpus: num(first(s, 'cpus'), 'cpu count'),
    uid: num(first(s, 'uid'), 'uid'),
    selinux: parseSelinux(s),
  });
}
