// Small HTTP(S) client on node's http/https modules (Node 18's fetch prints an experimental
// warning), with Go-style error texts so messages read like K3s's and kubectl's.
import http from 'node:http';
import https from 'node:https';

export interface TlsOpts {
  ca?: string;
  cert?: string;
  key?: string;
  /** Default true when ca is given, false otherwise (like fetching /cacerts insecurely). */
  verify?: boolean;
}

export interface HttpReq {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  tls?: TlsOpts;
  basicAuth?: { user: string; password: string };
}

export interface HttpRes {
  status: number;
  statusText: string;
  body: string;
}

export class HttpError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

export function request(url: string, r: HttpReq = {}): Promise<HttpRes> {
  const u = new URL(url);
  const isHttps = u.protocol === 'https:';
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  if (r.basicAuth) headers.authorization = `Basic ${Buffer.from(`${r.basicAuth.user}:${r.basicAuth.password}`).toString('base64')}`;
  if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
  const verify = r.tls?.verify ?? r.tls?.ca !== undefined;
  const opts: https.RequestOptions = {
    method: r.method ?? 'GET',
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port || (isHttps ? 443 : 80),
    path: `${u.pathname}${u.search}`,
    headers,
    agent: false,
  };
  if (isHttps) Object.assign(opts, { ca: r.tls?.ca, cert: r.tls?.cert, key: r.tls?.key, rejectUnauthorized: verify, servername: undefined });
  const hostPort = `${u.hostname}:${u.port || (isHttps ? 443 : 80)}`;
  return new Promise((resolve, reject) => {
    const req = (isHttps ? https : http).request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => reject(goError(e, hostPort, url)));
    });
    const timeout = r.timeoutMs ?? 10_000;
    req.setTimeout(timeout, () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => reject(goError(e, hostPort, url)));
    if (r.body !== undefined) req.write(r.body);
    req.end();
  });
}

interface NodeErr extends Error {
  code?: string;
  reason?: string;
  cert?: { subjectaltname?: string };
}

/** Translate a node network/TLS error into the text Go's net/http and crypto/x509 print. */
export function goError(e: unknown, hostPort: string, url: string): HttpError {
  const err = e as NodeErr;
  const code = err.code ?? '';
  const dial = `dial tcp ${hostPort}`;
  let msg: string;
  switch (code) {
    case 'ECONNREFUSED':
      msg = `${dial}: connect: connection refused`;
      break;
    case 'EHOSTUNREACH':
      msg = `${dial}: connect: no route to host`;
      break;
    case 'ENETUNREACH':
      msg = `${dial}: connect: network is unreachable`;
      break;
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
      msg = `${dial}: i/o timeout`;
      break;
    case 'ECONNRESET':
      msg = 'read: connection reset by peer';
      break;
    case 'ERR_TLS_CERT_ALTNAME_INVALID': {
      const names = (err.cert?.subjectaltname ?? '').split(', ').map((s) => s.replace(/^(DNS|IP Address):/, '')).filter(Boolean);
      const host = hostPort.replace(/:\d+$/, '');
      msg = `tls: failed to verify certificate: x509: certificate is valid for ${names.join(', ')}, not ${host}`;
      break;
    }
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_SIGNATURE_FAILURE':
      msg = 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
      break;
    default:
      msg = err.message || String(e);
  }
  return new HttpError(`Get "${url}": ${msg}`, code);
}

/** Parse a JSON body, or throw with the HTTP status as Go clients report it. */
export function jsonOf<T>(res: HttpRes, url: string): T {
  if (res.status < 200 || res.status > 299) throw new HttpError(`${url}: ${res.status} ${res.statusText}`);
  return JSON.parse(res.body) as T;
}
