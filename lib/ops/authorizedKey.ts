// authorizedKey: SSH public key(s) in a user's ~/.ssh/authorized_keys (0600, owned by the user).
// Keys are matched by type + base64 blob, so a changed comment or options line is rewritten,
// not duplicated. Probe: one exec (home, primary group, ~/.ssh presence, the file's content).
import { posix } from 'node:path';
import { quote } from '../shell/quote.ts';
import { applyDecision, mustFail, type Decision } from './decision.ts';
import { decideEdit } from './edit.ts';
import { canChown, defineOp, mustProbe } from './exec.ts';
import { joinLines, splitLines } from './lines.ts';
import { EDIT_MAX_BYTES, fileProbeScript, parseFileState, parseProbe, setVar, type FileState } from './probe.ts';
import type { Op } from './types.ts';

export interface AuthorizedKeyOptions {
  state?: 'present' | 'absent';
  /** The file holds exactly these keys (others removed). */
  exclusive?: boolean;
  /** Default ~user/.ssh/authorized_keys. */
  path?: string;
}

export interface AuthorizedKeyState {
  userExists: boolean;
  home?: string;
  group?: string;
  dirExists: boolean;
  file: FileState;
}

const KEY_TYPE = /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)(-cert-v01@openssh\.com)?$/;

/** `type blob` of an authorized_keys line (options and comment ignored), or undefined. */
export function keyId(line: string): string | undefined {
  const t = line.trim().split(/\s+/);
  const i = t.findIndex((w) => KEY_TYPE.test(w));
  return i >= 0 && t[i + 1] ? `${t[i]} ${t[i + 1]}` : undefined;
}

export function authorizedKeyProbeScript(user: string, path?: string): string {
  return [
    setVar('u', user),
    'if ! pw=$(getent passwd "$u"); then echo user=absent; exit 0; fi',
    `h=$(printf '%s\\n' "$pw" | cut -d: -f6)`,
    `printf 'home=%s\\n' "$h"`,
    `printf 'ugroup=%s\\n' "$(id -gn "$u")"`,
    path ? setVar('p', path) : 'p="$h/.ssh/authorized_keys"',
    'if [ -d "$(dirname "$p")" ]; then echo dir=1; fi',
    fileProbeScript({ follow: true, contentMax: EDIT_MAX_BYTES }),
  ].join('\n');
}

export function parseAuthorizedKeyState(stdout: string): AuthorizedKeyState {
  const out = parseProbe(stdout);
  if (out.kv.get('user') === 'absent') return { userExists: false, dirExists: false, file: { type: 'absent' } };
  return {
    userExists: true,
    home: out.kv.get('home'),
    group: out.kv.get('ugroup'),
    dirExists: out.kv.has('dir'),
    file: parseFileState(out),
  };
}

/** Pure edit of authorized_keys content. */
export function editKeys(content: string, keys: string[], o: AuthorizedKeyOptions): string {
  const lines = splitLines(content);
  const wanted = new Map(keys.map((k) => [keyId(k) ?? k, k] as const));
  let next: string[];
  if (o.state === 'absent') {
    next = lines.filter((l) => !wanted.has(keyId(l) ?? l));
  } else if (o.exclusive) {
    next = keys;
  } else {
    const seen = new Set<string>();
    next = lines.map((l) => {
      const id = keyId(l);
      if (id === undefined || !wanted.has(id)) return l;
      seen.add(id);
      return wanted.get(id)!;
    });
    for (const [id, k] of wanted) if (!seen.has(id)) next.push(k);
  }
  const same = next.length === lines.length && next.every((l, i) => l === lines[i]);
  return same ? content : joinLines(next);
}

export function decideAuthorizedKey(
  s: AuthorizedKeyState,
  a: { user: string; keys: string[]; path?: string; diff: boolean; preserveOwner: boolean } & AuthorizedKeyOptions,
): Decision {
  if (!s.userExists) return mustFail(`user ${a.user} does not exist`);
  const path = a.path ?? `${s.home}/.ssh/authorized_keys`;
  const removing = a.state === 'absent';
  const d = decideEdit(s.file, (c) => {
    const next = editKeys(c, a.keys, a);
    return { content: next, action: next === c ? null : removing ? 'removed' : 'added' };
  }, {
    path,
    create: true,
    removing,
    mode: 0o600,
    owner: a.user,
    group: s.group,
    diff: a.diff,
    preserveOwner: a.preserveOwner,
    describe: (action) => `${action === 'removed' ? 'remove' : 'authorize'} key(s) for ${a.user} in ${path}`,
  });
  if (d.change && d.put && !s.dirExists) {
    const dir = quote(posix.dirname(path));
    d.before = [`mkdir -p -m 0700 ${dir}`, `chown ${quote(`${a.user}:${s.group ?? a.user}`)} ${dir}`];
  }
  return d;
}

export function authorizedKey(user: string, key: string | string[], opts: AuthorizedKeyOptions = {}): Op {
  const keys = (Array.isArray(key) ? key : [key]).flatMap((k) => splitLines(k)).map((k) => k.trim()).filter((k) => k && !k.startsWith('#'));
  return defineOp(async (ctx) => {
    const r = await mustProbe(ctx, `probe ${user}'s authorized_keys`, authorizedKeyProbeScript(user, opts.path));
    const d = decideAuthorizedKey(parseAuthorizedKeyState(r.stdout), { ...opts, user, keys, diff: ctx.diff, preserveOwner: canChown(ctx) });
    return applyDecision(ctx, d);
  });
}
