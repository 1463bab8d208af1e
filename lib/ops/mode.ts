// File modes and ownership comparisons shared by the file-like ops.

/** Parse '0644', '644', '0o644' or a number into a mode; undefined passes through. */
export function parseMode(mode: string | number | undefined): number | undefined {
  if (mode === undefined) return undefined;
  if (typeof mode === 'number') {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`invalid mode: ${mode}`);
    return mode;
  }
  const s = mode.trim().replace(/^0o/i, '');
  if (!/^[0-7]{1,4}$/.test(s)) throw new Error(`invalid mode: ${JSON.stringify(mode)} (use octal such as '0644')`);
  return parseInt(s, 8);
}

/** Four-digit octal, as chmod and PutOptions take it. */
export function formatMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** A wanted owner/group matches by name or by numeric id. */
export function idMatches(want: string, name: string | undefined, id: number | undefined): boolean {
  return want === name || (id !== undefined && want === String(id));
}
