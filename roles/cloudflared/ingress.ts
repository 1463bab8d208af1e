// The ingress rules checked as `cloudflared tunnel ingress validate` checks them: a port of
// validateIngress / validateHostname (cloudflare/cloudflared ingress/ingress.go @d1df798,
// 2026.8.2) with the same order of checks and the same error texts, and of the parts of Go's
// net.SplitHostPort, url.Parse and strconv.Atoi those checks rely on. Where the port can only
// approximate Go (RE2 vs JavaScript regular expressions, rare url.Parse errors) the README says so.
import { isCidr } from '../../lib/vars/index.ts';

export interface IngressRule {
  hostname?: string;
  path?: string;
  service: string;
  originRequest?: OriginRequest;
}

export interface OriginRequest {
  bastionMode?: boolean;
  access?: { required?: boolean; teamName?: string; audTag?: string[]; environment?: string };
  ipRules?: Array<{ prefix?: string; ports?: number[]; allow?: boolean }>;
  [k: string]: unknown;
}

// ingress/ingress.go
export const ErrNoIngressRules = "The config file doesn't contain any ingress rules";
export const errLastRuleNotCatchAll = 'The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)';
export const errBadWildcard = 'Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com"';
export const errHostnameContainsPort = 'Hostname cannot contain a port';
const ruleShouldNotBeCatchAll = (index: number, hostname: string) =>
  `Rule #${index + 1} is matching the hostname '${hostname}', but this will match every hostname, meaning the rules which follow it will never be triggered.`;

/** An ingress problem: cloudflared's text, and the 0-based index of the rule it is about. */
export class IngressError extends Error {
  override name = 'IngressError';
  constructor(
    message: string,
    readonly rule?: number,
  ) {
    super(message);
  }
}

/** `cloudflared tunnel ingress validate` prefixes every error with this. */
export const VALIDATION_FAILED = 'Validation failed';

/** Go's net.SplitHostPort succeeds (a host:port form): only whether it errs matters here. */
export function goSplitHostPortOk(hostport: string): boolean {
  const i = hostport.lastIndexOf(':');
  if (i < 0) return false;
  let j = 0;
  let k = 0;
  if (hostport[0] === '[') {
    const end = hostport.indexOf(']');
    if (end < 0) return false;
    if (end + 1 === hostport.length) return false;
    if (end + 1 !== i) return false;
    j = 1;
    k = end + 1;
  } else if (hostport.slice(0, i).includes(':')) return false;
  if (hostport.slice(j).includes('[')) return false;
  if (hostport.slice(k).includes(']')) return false;
  return true;
}

export interface GoUrl {
  scheme: string;
  host: string;
  path: string;
  opaque: string;
}

const ctl = /[\x00-\x1f\x7f]/;
const hostAllowed = /^[A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"%]*$/;
const validOptionalPort = (p: string) => p === '' || /^:\d*$/.test(p);

/** Go's url.Parse for the URLs an ingress service can hold: the fields cloudflared reads, or Go's error text. */
export function goUrlParse(raw: string): GoUrl | Error {
  const fail = (msg: string) => new Error(`parse ${JSON.stringify(raw)}: ${msg}`);
  const hash = raw.indexOf('#');
  const s = hash >= 0 ? raw.slice(0, hash) : raw;
  if (ctl.test(s)) return fail('net/url: invalid control character in URL');
  let scheme = '';
  let rest = s;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ':') {
      if (i === 0) return fail('missing protocol scheme');
      scheme = s.slice(0, i).toLowerCase();
      rest = s.slice(i + 1);
    }
    break;
  }
  const q = rest.indexOf('?');
  if (q >= 0) rest = rest.slice(0, q);
  if (!rest.startsWith('/')) {
    if (scheme) return { scheme, host: '', path: '', opaque: rest };
    const slash = rest.indexOf('/');
    if ((slash < 0 ? rest : rest.slice(0, slash)).includes(':')) return fail('first path segment in URL cannot contain colon');
  }
  let host = '';
  if (rest.startsWith('//') && (scheme || !rest.startsWith('///'))) {
    const auth = rest.slice(2);
    const slash = auth.indexOf('/');
    const authority = slash < 0 ? auth : auth.slice(0, slash);
    rest = slash < 0 ? '' : auth.slice(slash);
    host = authority.slice(authority.lastIndexOf('@') + 1);
    if (host.startsWith('[')) {
      const close = host.lastIndexOf(']');
      if (close < 0) return fail('missing \']\' in host');
      const colonPort = host.slice(close + 1);
      if (!validOptionalPort(colonPort)) return fail(`invalid port ${JSON.stringify(colonPort)} after host`);
    } else {
      const c = host.lastIndexOf(':');
      if (c >= 0 && !validOptionalPort(host.slice(c))) return fail(`invalid port ${JSON.stringify(host.slice(c))} after host`);
      if (!hostAllowed.test(host)) {
        const bad = [...host].find((ch) => !hostAllowed.test(ch) && ch.charCodeAt(0) < 0x80);
        if (bad !== undefined) return fail(`invalid character ${JSON.stringify(bad)} in host name`);
      }
    }
    const badEscape = /%(?![0-9A-Fa-f]{2})/.exec(host);
    if (badEscape) return fail(`invalid URL escape ${JSON.stringify(host.slice(badEscape.index, badEscape.index + 3))}`);
  }
  const badPathEscape = /%(?![0-9A-Fa-f]{2})/.exec(rest);
  if (badPathEscape) return fail(`invalid URL escape ${JSON.stringify(rest.slice(badPathEscape.index, badPathEscape.index + 3))}`);
  return { scheme, host, path: rest, opaque: '' };
}

/** url.URL.Hostname(): the host without port and brackets. */
export function goHostname(host: string): string {
  let h = host;
  const colon = h.lastIndexOf(':');
  if (colon >= 0 && validOptionalPort(h.slice(colon))) h = h.slice(0, colon);
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h;
}

/** strconv.Atoi, or Go's error text. */
function goAtoi(s: string): number | Error {
  if (!/^[+-]?\d+$/.test(s)) return new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) && Math.abs(n) > 9223372036854775807) return new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/** What kind of origin a service string is (ingress.go's branches). */
export type ServiceKind = 'unix' | 'unix+tls' | 'http_status' | 'hello_world' | 'socks-proxy' | 'bastion' | 'http' | 'tcp';

/** The RE2 syntax JavaScript accepts but Go's regexp refuses, with Go's wording. */
function re2Error(path: string): string | undefined {
  const m = /\(\?(?:=|!|<=|<!)|\\[1-9]/.exec(path);
  if (!m) return undefined;
  if (m[0].startsWith('\\')) return `invalid escape sequence: \`${m[0]}\``;
  return `invalid or unsupported Perl syntax: \`${m[0]}\``;
}

/**
 * validateIngress: the first problem as cloudflared words it, or the kind of every rule.
 * `defaults` is the top-level originRequest (bastionMode there applies to every rule).
 */
export function validateIngress(rules: readonly IngressRule[], defaults: OriginRequest = {}): { kinds: ServiceKind[] } | IngressError {
  if (!rules.length) return new IngressError(ErrNoIngressRules);
  const kinds: ServiceKind[] = [];
  for (const [i, r] of rules.entries()) {
    const svc = r.service ?? '';
    const or = r.originRequest ?? {};
    let kind: ServiceKind;
    if (svc.startsWith('unix:')) kind = 'unix';
    else if (svc.startsWith('unix+tls:')) kind = 'unix+tls';
    else if (svc.startsWith('http_status:')) {
      const code = goAtoi(svc.slice('http_status:'.length));
      if (code instanceof Error) return new IngressError(`invalid HTTP status code: ${code.message}`, i);
      if (code < 100 || code > 999) return new IngressError(`invalid HTTP status code: ${code}`, i);
      kind = 'http_status';
    } else if (svc === 'hello-world' || svc === 'hello_world') kind = 'hello_world';
    else if (svc === 'socks-proxy') {
      // ipaccess.NewRuleByCIDR (ipaccess/access.go)
      for (const ip of or.ipRules ?? []) {
        if (!ip.prefix) return new IngressError(`unable to create ip rule for ${svc}: no prefix provided`, i);
        if (!isCidr(ip.prefix) || !ip.prefix.includes('/')) return new IngressError(`unable to create ip rule for ${svc}: unable to parse cidr: ${ip.prefix}`, i);
        const badPort = [...(ip.ports ?? [])].sort((a, b) => a - b).find((p) => p < 1 || p > 65535);
        if (badPort !== undefined) return new IngressError(`unable to create ip rule for ${svc}: invalid port ${badPort}, needs to be between 1 and 65535`, i);
      }
      kind = 'socks-proxy';
    } else if (svc === 'bastion' || (or.bastionMode ?? defaults.bastionMode) === true) kind = 'bastion';
    else {
      const u = goUrlParse(svc);
      if (u instanceof Error) return new IngressError(u.message, i);
      if (u.scheme === '' || goHostname(u.host) === '') return new IngressError(`${svc} is an invalid address, please make sure it has a scheme and a hostname`, i);
      if (u.path !== '') {
        return new IngressError(
          `${svc} is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path`,
          i,
        );
      }
      kind = ['http', 'https', 'ws', 'wss'].includes(u.scheme) ? 'http' : 'tcp';
    }

    const access = or.access;
    if (access?.required && !access.teamName && (access.audTag ?? []).length > 0) {
      return new IngressError('access.TeamName cannot be blank when access.audTags are present', i);
    }

    const hostErr = validateHostname(r, i, rules.length);
    if (hostErr) return new IngressError(hostErr.message, i);

    if (r.path) {
      const re2 = re2Error(r.path);
      if (re2) return new IngressError(`Rule #${i + 1} has an invalid regex: error parsing regexp: ${re2}`, i);
      try {
        new RegExp(r.path);
      } catch (e) {
        return new IngressError(`Rule #${i + 1} has an invalid regex: error parsing regexp: ${(e as Error).message}`, i);
      }
    }
    kinds.push(kind);
  }
  return { kinds };
}

/** Catch-all: no hostname (or "*") and no path. */
export const isCatchAll = (r: Pick<IngressRule, 'hostname' | 'path'>) => (!r.hostname || r.hostname === '*') && !r.path;

export function validateHostname(r: IngressRule, ruleIndex: number, totalRules: number): Error | undefined {
  const hostname = r.hostname ?? '';
  if (goSplitHostPortOk(hostname)) return new Error(errHostnameContainsPort);
  if (hostname.lastIndexOf('*') > 0) return new Error(errBadWildcard);
  const catchAll = isCatchAll(r);
  const last = ruleIndex === totalRules - 1;
  if (last && !catchAll) return new Error(errLastRuleNotCatchAll);
  if (!last && catchAll) return new Error(ruleShouldNotBeCatchAll(ruleIndex, hostname));
  return undefined;
}

/** The rules with the mandatory final catch-all appended when the last rule is not one. */
export function withCatchAll(rules: readonly IngressRule[], catchAllService: string): IngressRule[] {
  const last = rules[rules.length - 1];
  return last && isCatchAll(last) ? [...rules] : [...rules, { service: catchAllService }];
}

/** FindMatchingRule: the 0-based index of the rule a request host/path goes to (the last when none match). */
export function findMatchingRule(rules: readonly IngressRule[], hostname: string, path: string): number {
  let host = hostname;
  if (goSplitHostPortOk(hostname)) {
    const i = hostname.lastIndexOf(':');
    host = hostname.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  }
  for (const [i, r] of rules.entries()) {
    // rule.go Matches / ingress.go matchHost (the punycode form of the rule is not ported)
    const hostOk = !r.hostname || r.hostname === '*' || r.hostname === host || (r.hostname.startsWith('*.') && host.endsWith(r.hostname.slice(1)));
    const pathOk = !r.path || new RegExp(r.path).test(path);
    if (hostOk && pathOk) return i;
  }
  return rules.length - 1;
}
