// OpenSSH ProxyJump syntax: "[user@]host[:port][,[user@]host[:port]...]", also
// "ssh://[user@]host[:port]" and "[v6addr]:port". Hops are listed in connection order.

export interface JumpHop {
  user: string;
  host: string;
  port: number;
}

export function parseJumpHop(spec: string, defaultUser: string): JumpHop {
  let s = spec.trim();
  if (!s) throw new Error('empty ProxyJump hop');
  if (s.startsWith('ssh://')) s = s.slice('ssh://'.length).replace(/\/$/, '');
  let user = defaultUser;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
    if (!user) throw new Error(`ProxyJump hop "${spec}": empty user`);
  }
  let host: string;
  let port = 22;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1]!;
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else {
    const parts = s.split(':');
    if (parts.length > 2) throw new Error(`ProxyJump hop "${spec}": write an IPv6 address as [addr]:port`);
    host = parts[0]!;
    if (parts[1] !== undefined) port = Number(parts[1]);
  }
  if (!host) throw new Error(`ProxyJump hop "${spec}": empty host`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`ProxyJump hop "${spec}": invalid port`);
  return { user, host, port };
}

export function parseProxyJump(spec: string | undefined, defaultUser: string): JumpHop[] {
  if (!spec || spec.trim() === '' || spec.trim().toLowerCase() === 'none') return [];
  return spec.split(',').map((h) => parseJumpHop(h, defaultUser));
}
