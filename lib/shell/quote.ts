// POSIX sh quoting. Targets run dash as /bin/sh (Debian) or busybox/bash elsewhere,
// so never emit bash-only forms such as $'...'.

/** Quote one word for POSIX sh: wrap in single quotes, escape embedded ones as '\'' . */
export function quote(word: string | number): string {
  const s = String(word);
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Join words into one command line, each quoted. */
export function quoteArgs(args: ReadonlyArray<string | number>): string {
  return args.map(quote).join(' ');
}

/** `export K='v'; ` prefix: sshd drops client env (AcceptEnv), so env is inlined. */
export function envPrefix(env: Readonly<Record<string, string>> | undefined): string {
  if (!env) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name: ${k}`);
    parts.push(`${k}=${quote(v)}`);
  }
  return parts.length ? `export ${parts.join(' ')}; ` : '';
}
