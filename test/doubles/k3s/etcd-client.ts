// etcd v3 through its JSON gateway (/v3/...), which etcd 3.4 serves on the client port: no
// gRPC library and no etcdctl needed. Reads are linearizable unless asked otherwise, so they
// fail (time out) without quorum, exactly what the API and /readyz must show.
import { request } from './http.ts';

export interface EtcdMember {
  ID: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

export interface Kv {
  key: string;
  value: string;
  modRevision: string;
}

export class EtcdError extends Error {}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

function prefixEnd(prefix: string): string {
  const buf = Buffer.from(prefix);
  buf[buf.length - 1] = buf[buf.length - 1]! + 1;
  return buf.toString('base64');
}

export class Etcd {
  constructor(
    readonly endpoint: string,
    readonly timeoutMs = 3000,
  ) {}

  async call<T>(path: string, body: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    let res;
    try {
      res = await request(`${this.endpoint}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, timeoutMs });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ETIMEDOUT') throw new EtcdError('etcdserver: request timed out');
      throw new EtcdError((e as Error).message);
    }
    let parsed: { error?: string; message?: string } & Record<string, unknown>;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      throw new EtcdError(`etcd ${path}: ${res.status} ${res.body.slice(0, 200)}`);
    }
    if (res.status !== 200 || parsed.error) throw new EtcdError(String(parsed.message ?? parsed.error ?? `etcd ${path}: ${res.status}`));
    return parsed as T;
  }

  async get(key: string, opts: { serializable?: boolean } = {}): Promise<Kv | undefined> {
    const r = await this.call<{ kvs?: { key: string; value?: string; mod_revision: string }[] }>('/v3/kv/range', { key: b64(key), serializable: opts.serializable ?? false });
    const kv = r.kvs?.[0];
    return kv ? { key, value: unb64(kv.value), modRevision: kv.mod_revision } : undefined;
  }

  async list(prefix: string): Promise<Kv[]> {
    const r = await this.call<{ kvs?: { key: string; value?: string; mod_revision: string }[] }>('/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix) });
    return (r.kvs ?? []).map((kv) => ({ key: unb64(kv.key), value: unb64(kv.value), modRevision: kv.mod_revision }));
  }

  async put(key: string, value: string): Promise<void> {
    await this.call('/v3/kv/put', { key: b64(key), value: b64(value) });
  }

  async del(key: string): Promise<void> {
    await this.call('/v3/kv/deleterange', { key: b64(key) });
  }

  /** Put only if the key is unchanged since modRevision ("0" = does not exist). */
  async putIf(key: string, value: string, modRevision: string): Promise<boolean> {
    const r = await this.call<{ succeeded?: boolean }>('/v3/kv/txn', {
      compare: [{ key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: modRevision }],
      success: [{ request_put: { key: b64(key), value: b64(value) } }],
    });
    return r.succeeded === true;
  }

  /** Read-modify-write a JSON value with compare-and-swap; fn returns undefined to skip. */
  async update<T>(key: string, fn: (cur: T | undefined) => T | undefined): Promise<T | undefined> {
    for (let i = 0; i < 10; i++) {
      const kv = await this.get(key);
      const next = fn(kv ? (JSON.parse(kv.value) as T) : undefined);
      if (next === undefined) return undefined;
      if (await this.putIf(key, JSON.stringify(next), kv?.modRevision ?? '0')) return next;
    }
    throw new EtcdError(`too many conflicts updating ${key}`);
  }

  async members(): Promise<EtcdMember[]> {
    const r = await this.call<{ members?: EtcdMember[] }>('/v3/cluster/member/list', {});
    return r.members ?? [];
  }

  async addLearner(peerUrl: string): Promise<{ member: EtcdMember; members: EtcdMember[] }> {
    return this.call('/v3/cluster/member/add', { peerURLs: [peerUrl], isLearner: true });
  }

  async promote(id: string): Promise<void> {
    await this.call('/v3/cluster/member/promote', { ID: id });
  }

  async remove(id: string): Promise<void> {
    await this.call('/v3/cluster/member/remove', { ID: id });
  }

  async status(): Promise<{ header?: { member_id?: string }; leader?: string; isLearner?: boolean; errors?: string[] }> {
    return this.call('/v3/maintenance/status', {});
  }
}
