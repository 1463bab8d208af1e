// user: a local account present (with uid, groups, shell, home, password hash) or absent.
// Probe: one exec of getent passwd + id (+ the shadow hash only when a password is managed).
// The password hash is a secret: registered for redaction, fed to `chpasswd -e` on stdin,
// never on argv nor in any message.
import { addSecret } from '../secrets/redact.ts';
import { quote, quoteArgs } from '../shell/quote.ts';
import { applyDecision, noChange, type Decision } from './decision.ts';
import { defineOp, mustProbe } from './exec.ts';
import { parseProbe, setVar } from './probe.ts';
import type { Op } from './types.ts';

export interface UserOptions {
  state?: 'present' | 'absent';
  uid?: number;
  /** Primary group (must exist). */
  group?: string;
  /** Supplementary groups. */
  groups?: string[];
  /** Add to `groups` keeping others (default true); false makes the list exact. */
  append?: boolean;
  shell?: string;
  home?: string;
  comment?: string;
  system?: boolean;
  /** Create the home directory on creation (default: not for system users). */
  createHome?: boolean;
  /** A crypt(3) hash, e.g. from `openssl passwd -6`. A secret. */
  password?: string;
  /** absent: also remove the home directory. */
  removeHome?: boolean;
}

export interface UserState {
  exists: boolean;
  uid?: number;
  gid?: number;
  comment?: string;
  home?: string;
  shell?: string;
  primaryGroup?: string;
  /** Supplementary groups (primary excluded). */
  groups?: string[];
  /** Current hash, when probed. */
  hash?: string;
}

export function userProbeScript(name: string, withShadow: boolean): string {
  return [
    setVar('u', name),
    'if pw=$(getent passwd "$u"); then',
    `  printf 'passwd=%s\\n' "$pw"`,
    `  printf 'pgroup=%s\\n' "$(id -gn "$u")"`,
    `  printf 'groups=%s\\n' "$(id -Gn "$u")"`,
    ...(withShadow ? [`  printf 'hash=%s\\n' "$(getent shadow "$u" | cut -d: -f2)"`] : []),
    'fi',
  ].join('\n');
}

export function parseUserState(stdout: string): UserState {
  const { kv } = parseProbe(stdout);
  const pw = kv.get('passwd');
  if (!pw) return { exists: false };
  const [, , uid, gid, comment, home, shell] = pw.split(':');
  const primary = kv.get('pgroup') ?? '';
  const all = (kv.get('groups') ?? '').split(/\s+/).filter(Boolean);
  const s: UserState = {
    exists: true,
    uid: Number(uid),
    gid: Number(gid),
    comment: comment ?? '',
    home: home ?? '',
    shell: shell ?? '',
    primaryGroup: primary,
    groups: all.filter((g) => g !== primary),
  };
  if (kv.has('hash')) s.hash = kv.get('hash');
  return s;
}

export function decideUser(s: UserState, name: string, o: UserOptions): Decision {
  const n = quote(name);
  if ((o.state ?? 'present') === 'absent') {
    if (!s.exists) return noChange(`user ${name} absent`);
    return { change: true, commands: [`userdel ${o.removeHome ? '-r ' : ''}${n}`], msg: `remove user ${name}` };
  }
  const pw = o.password !== undefined ? { commands: ['chpasswd -e'], stdin: `${name}:${o.password}\n` } : undefined;
  if (!s.exists) {
    const args: Array<string | number> = ['useradd'];
    if (o.system) args.push('-r');
    if (o.uid !== undefined) args.push('-u', o.uid);
    if (o.group) args.push('-g', o.group);
    if (o.groups?.length) args.push('-G', o.groups.join(','));
    if (o.home) args.push('-d', o.home);
    if (o.shell) args.push('-s', o.shell);
    if (o.comment !== undefined) args.push('-c', o.comment);
    args.push((o.createHome ?? !o.system) ? '-m' : '-M', name);
    return {
      change: true,
      commands: [quoteArgs(args), ...(pw?.commands ?? [])],
      ...(pw ? { stdin: pw.stdin } : {}),
      msg: `create user ${name}`,
    };
  }
  const args: Array<string | number> = [];
  const what: string[] = [];
  const set = (label: string, ...flags: Array<string | number>) => {
    args.push(...flags);
    what.push(label);
  };
  if (o.uid !== undefined && s.uid !== o.uid) set('uid', '-u', o.uid);
  if (o.group && s.primaryGroup !== o.group && String(s.gid) !== o.group) set('group', '-g', o.group);
  if (o.groups) {
    const have = new Set(s.groups ?? []);
    const want = o.groups.filter((g) => g !== (o.group ?? s.primaryGroup));
    if (o.append ?? true) {
      const missing = want.filter((g) => !have.has(g));
      if (missing.length) set(`groups +${missing.join(',')}`, '-a', '-G', missing.join(','));
    } else if (want.length !== have.size || want.some((g) => !have.has(g))) {
      set(`groups = ${want.join(',') || '(none)'}`, '-G', want.join(','));
    }
  }
  if (o.shell && s.shell !== o.shell) set('shell', '-s', o.shell);
  if (o.home && s.home !== o.home) set('home', '-d', o.home);
  if (o.comment !== undefined && s.comment !== o.comment) set('comment', '-c', o.comment);
  const commands = args.length ? [quoteArgs(['usermod', ...args, name])] : [];
  let stdin: string | undefined;
  if (pw && s.hash !== o.password) {
    commands.push(...pw.commands);
    stdin = pw.stdin;
    what.push('password');
  }
  if (!commands.length) return noChange(`user ${name} is up to date`);
  return { change: true, commands, ...(stdin ? { stdin } : {}), msg: `update user ${name} (${what.join(', ')})` };
}

export function user(name: string, opts: UserOptions = {}): Op {
  addSecret(opts.password);
  return defineOp(async (ctx) => {
    const r = await mustProbe(ctx, `probe user ${name}`, userProbeScript(name, opts.password !== undefined));
    return applyDecision(ctx, decideUser(parseUserState(r.stdout), name, opts), { noLog: opts.password !== undefined });
  });
}
