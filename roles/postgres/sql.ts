// Small helpers shared by the role's SQL-speaking ops: SQL quoting and the probe line format
// (`key=value` lines, a key may repeat: slot=a|physical|t, slot=b|physical|f).

/** A SQL string literal ('' doubles a quote; standard_conforming_strings is on since 9.1). */
export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A quoted SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Every `key=value` line, in order (repeated keys kept). */
export function probeLines(stdout: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && /^[a-z_]+$/.test(line.slice(0, eq))) out.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

/** The last value of a key, or undefined. */
export function probeValue(lines: ReadonlyArray<[string, string]>, key: string): string | undefined {
  let v: string | undefined;
  for (const [k, val] of lines) if (k === key) v = val;
  return v;
}

/** Output of a failed psql, on one line and short, for messages (psql never echoes our stdin). */
export function oneLine(s: string, max = 400): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

/**
 * Shell lines that run `cmd`, then print `<key>_rc=<exit code>` and its output as
 * `<key>=<line>` lines (so the output of a failed query reaches the decision as data).
 */
export function captured(key: string, cmd: string): string {
  return [`__out=$(${cmd} 2>&1); echo "${key}_rc=$?"`, `printf '%s\\n' "$__out" | sed 's/^/${key}=/'`].join('\n');
}

/** All values of a key. */
export function probeValues(lines: ReadonlyArray<[string, string]>, key: string): string[] {
  return lines.filter(([k]) => k === key).map(([, v]) => v);
}
