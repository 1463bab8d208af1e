// From a host's variables to a Connection (lib/transport/connection.ts). drover_* names win
// over ansible_* ones, which win over Ansible's legacy ansible_ssh_* aliases; explicit
// variables win over what ansible_ssh_common_args/extra_args imply; all of them win over
// `defaults` (command-line options, like Ansible's -u losing to ansible_user).
import { homedir } from 'node:os';
import { InputError, type SourcePos } from '../errors.ts';
import { ConnectionSchema, type Connection, type ConnectionInput } from '../transport/connection.ts';
import { parseConnectionVar } from './known-vars.ts';
import type { SshArgSettings } from './ssh-args.ts';
import type { InventoryHost } from './types.ts';

type Field = keyof ConnectionInput;

const NAMES = {
  address: ['drover_host', 'ansible_host', 'ansible_ssh_host'],
  port: ['drover_port', 'ansible_port', 'ansible_ssh_port'],
  user: ['drover_user', 'ansible_user', 'ansible_ssh_user'],
  password: ['drover_password', 'ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password'],
  privateKeyFiles: ['drover_private_key_file', 'ansible_ssh_private_key_file', 'ansible_private_key_file'],
  kind: ['drover_connection', 'ansible_connection'],
  become: ['drover_become', 'ansible_become'],
  becomeUser: ['drover_become_user', 'ansible_become_user'],
  becomePassword: ['drover_become_password', 'ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass'],
  proxyJump: ['drover_proxy_jump'],
  knownHostsFiles: ['drover_known_hosts'],
  acceptNewHostKeys: ['drover_accept_new_host_keys'],
  agent: ['drover_agent'],
  connectTimeoutMs: ['drover_connect_timeout', 'ansible_timeout', 'ansible_ssh_timeout'],
  commandTimeoutMs: ['drover_command_timeout'],
  keepaliveIntervalMs: ['drover_keepalive_interval'],
  maxSessions: ['drover_max_sessions'],
  pipelining: ['drover_pipelining'],
} satisfies Partial<Record<Field, string[]>>;

const SECONDS = new Set<Field>(['connectTimeoutMs', 'keepaliveIntervalMs', 'commandTimeoutMs']);
const PATHS = new Set<Field>(['privateKeyFiles', 'knownHostsFiles', 'agent']);

function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? homedir() + p.slice(1) : p;
}

export function connectionFor(host: InventoryHost, defaults: Partial<ConnectionInput> = {}): Connection {
  const input: Record<string, unknown> = { ...defaults, name: host.name, address: defaults.address ?? host.name };
  /** Which variable set each field, to blame it if the final check fails. */
  const blame = new Map<string, { key: string; pos: SourcePos }>();
  const origin = (k: string): SourcePos => host.origins[k] ?? { file: `<vars of ${host.name}>` };

  // ssh args first: explicit variables below override what they imply.
  for (const k of ['ansible_ssh_extra_args', 'ansible_ssh_common_args']) {
    const raw = host.vars[k];
    if (raw == null) continue;
    const s = parseConnectionVar(k, raw, origin(k)) as SshArgSettings;
    const set = (f: Field, v: unknown) => {
      input[f] = v;
      blame.set(f, { key: k, pos: origin(k) });
    };
    if (s.proxyJump !== undefined) set('proxyJump', s.proxyJump);
    if (s.knownHostsFiles) set('knownHostsFiles', s.knownHostsFiles.map(expandHome));
    if (s.acceptNewHostKeys !== undefined) set('acceptNewHostKeys', s.acceptNewHostKeys);
    if (s.identityFiles) set('privateKeyFiles', s.identityFiles.map(expandHome));
    if (s.connectTimeoutMs !== undefined) set('connectTimeoutMs', s.connectTimeoutMs);
    if (s.keepaliveIntervalMs !== undefined) set('keepaliveIntervalMs', s.keepaliveIntervalMs);
  }

  for (const [field, names] of Object.entries(NAMES) as [Field, string[]][]) {
    const key = names.find((n) => host.vars[n] != null);
    if (!key) continue;
    let v = parseConnectionVar(key, host.vars[key], origin(key));
    if (SECONDS.has(field)) v = Math.round((v as number) * 1000);
    if (PATHS.has(field)) v = Array.isArray(v) ? v.map((p: string) => expandHome(p)) : expandHome(v as string);
    if (field === 'privateKeyFiles' && !Array.isArray(v)) v = [v];
    input[field] = v;
    blame.set(field, { key, pos: origin(key) });
  }

  const r = ConnectionSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  const who = blame.get(field);
  const detail = `connection ${field || 'settings'} for host "${host.name}": ${issue.message}`;
  if (who) throw new InputError(detail, who.pos, who.key);
  throw new InputError(`${detail} (from the command-line defaults)`, undefined, field || undefined);
}
