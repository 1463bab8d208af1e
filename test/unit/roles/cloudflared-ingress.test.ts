// The ingress validation port against cloudflared's own test cases (ingress/ingress_test.go
// @d1df798: TestParseIngress, TestFindMatchingRule; names kept) and the exact error texts of
// ingress.go.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  findMatchingRule,
  goSplitHostPortOk,
  goUrlParse,
  isCatchAll,
  validateIngress,
  withCatchAll,
  type IngressRule,
} from '../../../roles/cloudflared/index.ts';

/** The ingress list of a config.yml, as the Go tests write them. */
const rules = (yaml: string): IngressRule[] => ((parse(yaml) as { ingress?: IngressRule[] } | null)?.ingress ?? []) as IngressRule[];
const err = (yaml: string): string => {
  const r = validateIngress(rules(yaml));
  return r instanceof Error ? r.message : 'OK';
};

describe('cloudflared TestParseIngress cases', () => {
  const ok: Record<string, string> = {
    'Multiple rules': `
ingress:
 - hostname: tunnel1.example.com
   service: https://localhost:8000
 - hostname: "*"
   service: https://localhost:8001
`,
    'ws service': `
ingress:
 - hostname: "*"
   service: wss://localhost:8000
`,
    'Hostname can be omitted': `
ingress:
 - service: https://localhost:8000
`,
    'Unicode domain': `
ingress:
 - hostname: môô.cloudflare.com
   service: https://localhost:8000
 - service: https://localhost:8001
`,
    'Valid HTTP status': `
ingress:
 - service: http_status:404
`,
    'Valid hello world service': `
ingress:
 - service: hello_world
`,
    'TCP services': `
ingress:
- hostname: tcp.foo.com
  service: tcp://127.0.0.1
- hostname: tcp2.foo.com
  service: tcp://localhost:8000
- service: http_status:404
`,
    'SSH services': `
ingress:
- service: ssh://127.0.0.1
`,
    'RDP services': `
ingress:
- service: rdp://127.0.0.1
`,
    'SMB services': `
ingress:
- service: smb://127.0.0.1
`,
    'Other TCP services': `
ingress:
- service: ftp://127.0.0.1
`,
    'SOCKS services': `
ingress:
- hostname: socks.foo.com
  service: socks-proxy
  originRequest:
    ipRules:
      - prefix: 1.1.1.0/24
        ports: [80, 443]
        allow: true
      - prefix: 0.0.0.0/0
        allow: false
- service: http_status:404
`,
    "URL isn't necessary if using bastion": `
ingress:
- hostname: bastion.foo.com
  originRequest:
    bastionMode: true
- service: http_status:404
`,
    'Bastion service': `
ingress:
- hostname: bastion.foo.com
  service: bastion
- service: http_status:404
`,
  };
  for (const [name, yaml] of Object.entries(ok)) {
    it(`valid: ${name}`, () => expect(err(yaml)).toBe('OK'));
  }

  const bad: Array<[string, string, string]> = [
    ['Empty file', '', "The config file doesn't contain any ingress rules"],
    ['Invalid service', 'ingress:\n - hostname: "*"\n   service: https://local host:8000\n', 'parse "https://local host:8000": invalid character " " in host name'],
    ["Last rule isn't catchall", 'ingress:\n - hostname: example.com\n   service: https://localhost:8000\n', 'The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)'],
    [
      'First rule is catchall',
      'ingress:\n - service: https://localhost:8000\n - hostname: example.com\n   service: https://localhost:8000\n',
      "Rule #1 is matching the hostname '', but this will match every hostname, meaning the rules which follow it will never be triggered.",
    ],
    [
      "Catch-all rule can't have a path",
      'ingress:\n - service: https://localhost:8001\n   path: /subpath1/(.*)/subpath2\n',
      'The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)',
    ],
    ['Service must have a scheme', 'ingress:\n - service: localhost:8000\n', 'localhost:8000 is an invalid address, please make sure it has a scheme and a hostname'],
    [
      'Wildcard not at start',
      'ingress:\n - hostname: "test.*.example.com"\n   service: https://localhost:8000\n',
      'Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com"',
    ],
    [
      "Service can't have a path",
      'ingress:\n - service: https://localhost:8000/static/\n',
      "https://localhost:8000/static/ is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path",
    ],
    ['Invalid HTTP status', 'ingress:\n - service: http_status:asdf\n', 'invalid HTTP status code: strconv.Atoi: parsing "asdf": invalid syntax'],
    ['Invalid HTTP status code', 'ingress:\n - service: http_status:8080\n', 'invalid HTTP status code: 8080'],
    ['Hostname contains port', 'ingress:\n - hostname: "test.example.com:443"\n   service: https://localhost:8000\n - hostname: "*"\n   service: https://localhost:8001\n', 'Hostname cannot contain a port'],
  ];
  for (const [name, yaml, want] of bad) {
    it(`refused: ${name}`, () => expect(err(yaml)).toBe(want));
  }

  it('refused: Invalid regex (RE2 wording where Go and JavaScript differ)', () => {
    const yaml = 'ingress:\n - hostname: example.com\n   service: https://localhost:8000\n   path: "*/subpath2"\n - service: https://localhost:8001\n';
    expect(err(yaml)).toMatch(/^Rule #1 has an invalid regex: error parsing regexp: /);
    expect(err('ingress:\n - hostname: a.com\n   path: "^/(?=x)"\n   service: http://a\n - service: http_status:404\n')).toBe(
      'Rule #1 has an invalid regex: error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
    );
  });
});

describe('the rest of ingress.go', () => {
  it('a trailing slash is a path, a port-only host has no hostname, a bad port is Go\'s error', () => {
    expect(err('ingress:\n - service: http://localhost:8080/\n')).toMatch(/^http:\/\/localhost:8080\/ is an invalid address, ingress rules don't support proxying/);
    expect(err('ingress:\n - service: http://:8080\n')).toBe('http://:8080 is an invalid address, please make sure it has a scheme and a hostname');
    expect(err('ingress:\n - service: http://web:http\n')).toBe('parse "http://web:http": invalid port ":http" after host');
    expect(err('ingress:\n - service: ":8080"\n')).toBe('parse ":8080": missing protocol scheme');
    expect(err('ingress:\n - service: http_status:99\n')).toBe('invalid HTTP status code: 99');
    expect(err('ingress:\n - service: unix:/run/app.sock\n')).toBe('OK');
    expect(err('ingress:\n - service: unix+tls:/run/app.sock\n')).toBe('OK');
    expect(err('ingress:\n - service: hello-world\n')).toBe('OK');
    expect(err('ingress:\n - service: http://[::1]:8080\n')).toBe('OK');
  });

  it('wildcards: one leading "*", "*" alone is a catch-all, "**" and inner ones refused', () => {
    expect(err('ingress:\n - hostname: "*.example.com"\n   service: http://a\n - hostname: "*"\n   service: http_status:404\n')).toBe('OK');
    expect(err('ingress:\n - hostname: "**.example.com"\n   service: http://a\n - service: http_status:404\n')).toMatch(/^Hostname patterns can have at most one wildcard/);
    expect(err('ingress:\n - hostname: "*"\n   service: http://a\n - service: http_status:404\n')).toBe(
      "Rule #1 is matching the hostname '*', but this will match every hostname, meaning the rules which follow it will never be triggered.",
    );
    expect(goSplitHostPortOk('[::1]:443')).toBe(true);
    expect(goSplitHostPortOk('::1')).toBe(false);
    expect(goSplitHostPortOk('example.com')).toBe(false);
    expect(goSplitHostPortOk('example.com:')).toBe(true);
  });

  it('Access: audTag without teamName; socks-proxy ipRules are parsed', () => {
    expect(err('ingress:\n - hostname: a.com\n   service: http://a\n   originRequest:\n     access: { required: true, audTag: [x] }\n - service: http_status:404\n')).toBe(
      'access.TeamName cannot be blank when access.audTags are present',
    );
    expect(err('ingress:\n - hostname: s.com\n   service: socks-proxy\n   originRequest:\n     ipRules: [{ prefix: 10.0.0.0/33 }]\n - service: http_status:404\n')).toBe(
      'unable to create ip rule for socks-proxy: unable to parse cidr: 10.0.0.0/33',
    );
    expect(err('ingress:\n - hostname: s.com\n   service: socks-proxy\n   originRequest:\n     ipRules: [{ prefix: 10.0.0.0/8, ports: [0] }]\n - service: http_status:404\n')).toBe(
      'unable to create ip rule for socks-proxy: invalid port 0, needs to be between 1 and 65535',
    );
  });

  it('the error names the rule it is about (0-based index for the variable path)', () => {
    const r = validateIngress(rules('ingress:\n - hostname: a.com\n   service: http://a\n - hostname: b.com:80\n   service: http://b\n - service: http_status:404\n'));
    expect(r).toBeInstanceOf(Error);
    expect((r as Error & { rule?: number }).rule).toBe(1);
  });

  it('url.Parse details the checks rely on', () => {
    expect(goUrlParse('localhost:8000')).toEqual({ scheme: 'localhost', host: '', path: '', opaque: '8000' });
    expect(goUrlParse('HTTPS://Example.com:8443?x=1')).toEqual({ scheme: 'https', host: 'Example.com:8443', path: '', opaque: '' });
    expect(String(goUrlParse('http://a\x7f'))).toContain('net/url: invalid control character in URL');
  });
});

describe('the catch-all and matching', () => {
  it('appends the catch-all only when the last rule is not one', () => {
    const r: IngressRule[] = [{ hostname: 'a.com', service: 'http://a' }];
    expect(withCatchAll(r, 'http_status:404')).toEqual([...r, { service: 'http_status:404' }]);
    expect(withCatchAll([...r, { hostname: '*', service: 'http://b' }], 'http_status:404')).toHaveLength(2);
    expect(withCatchAll([], 'http_status:404')).toEqual([{ service: 'http_status:404' }]);
    expect(isCatchAll({ hostname: '*', path: '/x' })).toBe(false);
  });

  it('TestFindMatchingRule cases', () => {
    const r: IngressRule[] = [
      { hostname: 'tunnel-a.example.com', service: 'https://localhost:8000' },
      { hostname: 'tunnel-b.example.com', path: '/health', service: 'https://localhost:8001' },
      { hostname: '*', service: 'https://localhost:8002' },
    ];
    expect(findMatchingRule(r, 'tunnel-a.example.com', '/')).toBe(0);
    expect(findMatchingRule(r, 'tunnel-a.example.com', '/pages/about')).toBe(0);
    expect(findMatchingRule(r, 'tunnel-a.example.com:443', '/pages/about')).toBe(0);
    expect(findMatchingRule(r, 'tunnel-b.example.com', '/health')).toBe(1);
    expect(findMatchingRule(r, 'tunnel-b.example.com', '/index.html')).toBe(2);
    expect(findMatchingRule(r, 'tunnel-c.example.com', '/')).toBe(2);
    expect(findMatchingRule([{ hostname: '*.example.com', service: 'http://a' }, { service: 'http_status:404' }], 'app.example.com', '/')).toBe(0);
  });
});
