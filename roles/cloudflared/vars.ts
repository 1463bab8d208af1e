// The cloudflared role's variables: flat, prefixed `cloudflared_`. The tunnel runs in the
// cluster as a Deployment (seed 000); the role only writes manifests, so these describe the
// Kubernetes objects and the tunnel's config.yaml. The token / credentials are secret().
import { z } from 'zod';
import { secret } from '../../lib/secrets/redact.ts';
import { groupName, integer, port } from '../../lib/vars/index.ts';
import { validateIngress, VALIDATION_FAILED, withCatchAll, type IngressRule } from './ingress.ts';

/** cloudflared 2026.8.2 (the snapshot the ingress rules were ported from). */
export const CLOUDFLARED_DEFAULT_IMAGE = 'cloudflare/cloudflared:2026.8.2';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A Kubernetes name (RFC 1123 label). */
const dnsLabel = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'expected a lower-case RFC 1123 name (letters, digits, -)');

/** An image pinned by a tag other than latest, or by digest. */
const pinnedImage = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._\-/:]*[a-z0-9](?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$/, 'expected an image pinned by tag or digest: cloudflare/cloudflared:2026.8.2')
  .refine((s) => !/:latest$/.test(s), { message: 'the latest tag is not a pin: name a version (cloudflare/cloudflared:2026.8.2) or a digest' });

/** The originRequest keys cloudflared knows (config/configuration.go OriginRequestConfig). */
export const ORIGIN_REQUEST_KEYS = [
  'connectTimeout', 'tlsTimeout', 'tcpKeepAlive', 'noHappyEyeballs', 'keepAliveConnections', 'keepAliveTimeout',
  'httpHostHeader', 'originServerName', 'matchSNItoHost', 'caPool', 'noTLSVerify', 'disableChunkedEncoding',
  'bastionMode', 'proxyAddress', 'proxyPort', 'proxyType', 'ipRules', 'http2Origin', 'access',
] as const;

const originRequest = z
  .record(z.string(), z.unknown())
  .superRefine((o, ctx) => {
    for (const k of Object.keys(o)) {
      if (!(ORIGIN_REQUEST_KEYS as readonly string[]).includes(k)) {
        ctx.addIssue({ code: 'custom', path: [k], message: `"${k}" is not an originRequest setting of cloudflared (known: ${ORIGIN_REQUEST_KEYS.join(', ')})` });
      }
    }
  });

const ingressRule = z
  .object({
    hostname: z.string().optional(),
    path: z.string().optional(),
    service: z.string().min(1, 'every ingress rule needs a service'),
    originRequest: originRequest.optional(),
  })
  .strict();

/** The parts of a tunnel token (connection.TunnelToken: base64 JSON {a, s, t, e?}), or why not. */
export function parseTunnelToken(token: string): { accountTag: string; tunnelId: string } | string {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(token.trim(), 'base64').toString('utf8'));
  } catch {
    return 'the tunnel token is not base64-encoded JSON (copy it from the dashboard or `cloudflared tunnel token <name>`)';
  }
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (typeof o.a !== 'string' || !o.a || typeof o.s !== 'string' || !o.s || typeof o.t !== 'string' || !UUID.test(o.t)) {
    return 'the tunnel token lacks its account tag (a), secret (s) or tunnel id (t)';
  }
  return { accountTag: o.a, tunnelId: o.t };
}

/** The parts of a credentials file (connection.Credentials), or why not. */
export function parseCredentials(text: string): { accountTag: string; tunnelId: string } | string {
  let o: Record<string, unknown>;
  try {
    const j: unknown = JSON.parse(text);
    o = (typeof j === 'object' && j !== null ? j : {}) as Record<string, unknown>;
  } catch {
    return 'the tunnel credentials are not JSON (the <TunnelID>.json written by `cloudflared tunnel create`)';
  }
  if (typeof o.AccountTag !== 'string' || !o.AccountTag || typeof o.TunnelSecret !== 'string' || !o.TunnelSecret) {
    return 'the tunnel credentials lack AccountTag or TunnelSecret';
  }
  if (typeof o.TunnelID !== 'string' || !UUID.test(o.TunnelID)) return 'the tunnel credentials lack a TunnelID (UUID)';
  return { accountTag: o.AccountTag, tunnelId: o.TunnelID };
}

export const cloudflaredVars = z
  .object({
    /** The inventory group of K3s servers (unset: k3s_server_group, else masters); the manifest goes to its first host. */
    cloudflared_servers_group: groupName().optional(),
    cloudflared_manifests_dir: z.string().regex(/^\/\S+$/, 'expected an absolute path').default('/var/lib/rancher/k3s/server/manifests'),
    cloudflared_namespace: dnsLabel.default('cloudflared'),
    /** Name of the Deployment, ConfigMap and Secret. */
    cloudflared_name: dnsLabel.default('cloudflared'),
    cloudflared_image: pinnedImage.default(CLOUDFLARED_DEFAULT_IMAGE),
    /** At least 2: one connector per node survives a node loss (HA). */
    cloudflared_replicas: integer(2, 50).default(2),

    /** Tunnel UUID or name (credentials mode; defaults to the credentials' TunnelID). */
    cloudflared_tunnel: z.string().trim().min(1).optional(),
    /** A tunnel token (remotely managed or `cloudflared tunnel token`): passed as TUNNEL_TOKEN. */
    cloudflared_tunnel_token: secret().optional(),
    /** Or the credentials file's JSON (`cloudflared tunnel create`): mounted as credentials.json. */
    cloudflared_credentials_json: secret().optional(),

    /** Ingress rules, top to bottom; the final catch-all is appended when the last rule is not one. */
    cloudflared_ingress: z.array(ingressRule).default([]),
    cloudflared_catch_all_service: z.string().default('http_status:404'),
    /** Defaults for every rule (config.yml's top-level originRequest). */
    cloudflared_origin_request: originRequest.optional(),

    /** Metrics and /ready (the liveness probe) inside the pod. */
    cloudflared_metrics_port: port().default(2000),
    cloudflared_loglevel: z.enum(['debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  })
  .superRefine((v, ctx) => {
    const token = v.cloudflared_tunnel_token;
    const creds = v.cloudflared_credentials_json;
    if ((token === undefined) === (creds === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [token === undefined ? 'cloudflared_tunnel_token' : 'cloudflared_credentials_json'],
        message: 'set exactly one of cloudflared_tunnel_token and cloudflared_credentials_json',
      });
    }
    // Never the value in a message: only what is wrong with it.
    if (token !== undefined) {
      const t = parseTunnelToken(token);
      if (typeof t === 'string') ctx.addIssue({ code: 'custom', path: ['cloudflared_tunnel_token'], message: t });
    }
    if (creds !== undefined) {
      const c = parseCredentials(creds);
      if (typeof c === 'string') ctx.addIssue({ code: 'custom', path: ['cloudflared_credentials_json'], message: c });
      // Drover's own check (cloudflared looks the credentials up by the tunnel's id): a UUID
      // that differs from the file's TunnelID is a mix-up of two tunnels.
      else if (v.cloudflared_tunnel !== undefined && UUID.test(v.cloudflared_tunnel) && v.cloudflared_tunnel.toLowerCase() !== c.tunnelId.toLowerCase()) {
        ctx.addIssue({ code: 'custom', path: ['cloudflared_tunnel'], message: `cloudflared_tunnel is ${v.cloudflared_tunnel} but the credentials are for tunnel ${c.tunnelId}` });
      }
    }
    const rules = withCatchAll(v.cloudflared_ingress as IngressRule[], v.cloudflared_catch_all_service);
    const r = validateIngress(rules, v.cloudflared_origin_request ?? {});
    if (r instanceof Error) {
      // Point at the rule the message is about (the appended catch-all has no variable entry).
      const at = r.rule !== undefined && r.rule < v.cloudflared_ingress.length ? [r.rule] : [];
      ctx.addIssue({ code: 'custom', path: ['cloudflared_ingress', ...at], message: `${VALIDATION_FAILED}: ${r.message}` });
    }
  });

export type CloudflaredVars = z.infer<typeof cloudflaredVars>;
export { UUID };
