// Content that is worth showing as a line diff (--diff): text, not binary.

/** Text worth diffing: no NUL byte. */
export function isText(content: string | Buffer): boolean {
  return typeof content === 'string' ? !content.includes('\0') : !content.includes(0);
}
