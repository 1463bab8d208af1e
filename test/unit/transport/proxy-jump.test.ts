import { describe, expect, it } from 'vitest';
import { parseJumpHop, parseProxyJump } from '../../../lib/transport/proxy-jump.ts';

describe('parseProxyJump', () => {
  it('parses user@host:port lists in order, defaulting user and port', () => {
    expect(parseProxyJump('ops@bastion.example:2222,10.0.0.1', 'root')).toEqual([
      { user: 'ops', host: 'bastion.example', port: 2222 },
      { user: 'root', host: '10.0.0.1', port: 22 },
    ]);
  });
  it('accepts ssh:// URIs and bracketed IPv6', () => {
    expect(parseJumpHop('ssh://jump@[fd00::1]:2200', 'root')).toEqual({ user: 'jump', host: 'fd00::1', port: 2200 });
    expect(parseJumpHop('[::1]', 'me')).toEqual({ user: 'me', host: '::1', port: 22 });
  });
  it('treats empty and "none" as no jump', () => {
    expect(parseProxyJump(undefined, 'root')).toEqual([]);
    expect(parseProxyJump(' ', 'root')).toEqual([]);
    expect(parseProxyJump('none', 'root')).toEqual([]);
  });
  it('rejects malformed hops', () => {
    expect(() => parseJumpHop('host:0', 'r')).toThrow(/port/);
    expect(() => parseJumpHop('host:99999', 'r')).toThrow(/port/);
    expect(() => parseJumpHop('fd00::1', 'r')).toThrow(/IPv6/);
    expect(() => parseJumpHop('@host', 'r')).toThrow(/user/);
    expect(() => parseProxyJump('a,,b', 'r')).toThrow(/empty/);
  });
});
