// Reads the parts of ansible_ssh_common_args / ansible_ssh_extra_args that Drover can honour
// with its own SSH client: the bastion (-J, -o ProxyJump, and the classic
// `ProxyCommand="ssh -W %h:%p user@bastion"`), known_hosts handling, identity files and
// timeouts. Other options are ignored; a ProxyCommand we cannot express is an error, because
// silently connecting without the bastion would reach the wrong network.
import { splitWords } from './words.ts';

export interface SshArgSettings {
  proxyJump?: string;
  knownHostsFiles?: string[];
  acceptNewHostKeys?: boolean;
  identityFiles?: string[];
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
}

// ssh(1) flags that take an argument (so the argument is not mistaken for a flag or host).
const FLAGS_WITH_ARG = new Set('BbcDEeFIiJLlmOopQRSWw'.split(''));

export function parseSshArgs(input: string): SshArgSettings {
  const out: SshArgSettings = {};
  const words = splitWords(input).map((w) => w.text);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (!w.startsWith('-') || w.length < 2) continue;
    const flag = w[1]!;
    if (!FLAGS_WITH_ARG.has(flag)) continue;
    let arg = w.slice(2);
    if (!arg) {
      arg = words[i + 1] ?? '';
      i++;
    }
    if (!arg) throw new Error(`ssh option -${flag} is missing its value`);
    if (flag === 'J') out.proxyJump = arg;
    else if (flag === 'i') (out.identityFiles ??= []).push(arg);
    else if (flag === 'o') applyOption(out, arg);
  }
  return out;
}

function applyOption(out: SshArgSettings, opt: string): void {
  const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*)$/s.exec(opt);
  if (!m) throw new Error(`ssh option -o ${JSON.stringify(opt)} is not Key=Value`);
  const key = m[1]!.toLowerCase();
  const value = m[2]!.trim();
  switch (key) {
    case 'proxyjump':
      if (value.toLowerCase() !== 'none') out.proxyJump = value;
      break;
    case 'proxycommand':
      if (value.toLowerCase() !== 'none') out.proxyJump = proxyCommandToJump(value);
      break;
    case 'userknownhostsfile':
      out.knownHostsFiles = splitWords(value).map((w) => w.text);
      break;
    case 'stricthostkeychecking': {
      const v = value.toLowerCase();
      // "no" would also accept a changed key; Drover never does that, so it is read as
      // "accept new keys" (the safe half of what the user asked for).
      if (v === 'no' || v === 'off' || v === 'accept-new') out.acceptNewHostKeys = true;
      else if (v === 'yes' || v === 'ask' || v === 'on') out.acceptNewHostKeys = false;
      else throw new Error(`StrictHostKeyChecking=${value} is not yes, no or accept-new`);
      break;
    }
    case 'identityfile':
      (out.identityFiles ??= []).push(value);
      break;
    case 'connecttimeout':
      out.connectTimeoutMs = seconds(value, 'ConnectTimeout') * 1000;
      break;
    case 'serveraliveinterval':
      out.keepaliveIntervalMs = seconds(value, 'ServerAliveInterval') * 1000;
      break;
    default:
      break; // ControlMaster, ControlPersist, ... have no meaning for Drover's client
  }
}

function seconds(v: string, what: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`${what} must be a whole number of seconds`);
  return Number(v);
}

/** `ssh [-q] [-p port] [-l user] [-i key] -W %h:%p [user@]bastion` -> `user@bastion:port`. */
function proxyCommandToJump(cmd: string): string {
  const words = splitWords(cmd).map((w) => w.text);
  const unsupported = new Error(
    'ProxyCommand other than "ssh -W %h:%p [user@]bastion" is not supported; set drover_proxy_jump instead',
  );
  if (!words[0] || !/(^|\/)ssh$/.test(words[0])) throw unsupported;
  let port: string | undefined;
  let user: string | undefined;
  let dest: string | undefined;
  let forwards = false;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w.startsWith('-') && w.length >= 2) {
      const flag = w[1]!;
      if (!FLAGS_WITH_ARG.has(flag)) continue;
      let arg = w.slice(2);
      if (!arg) arg = words[++i] ?? '';
      if (flag === 'W') forwards = arg === '%h:%p';
      else if (flag === 'p') port = arg;
      else if (flag === 'l') user = arg;
      else if (flag === 'o') {
        const m = /^\s*port\s*[= ]\s*(\d+)$/i.exec(arg);
        if (m) port = m[1];
      }
      continue;
    }
    if (dest) throw unsupported; // a remote command instead of -W
    dest = w;
  }
  if (!forwards || !dest) throw unsupported;
  if (user && !dest.includes('@')) dest = `${user}@${dest}`;
  if (port) dest += `:${port}`;
  return dest;
}
