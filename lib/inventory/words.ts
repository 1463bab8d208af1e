// A small POSIX-sh-like word splitter with offsets: INI host lines (Ansible splits them with
// shlex) and ssh argument strings (ansible_ssh_common_args) both need it, and INI errors
// need the column of each word.

export interface Word {
  /** The word with quotes removed and escapes applied. */
  text: string;
  /** 0-based offset of the word's first character in the input. */
  start: number;
  /** Any part of the word was quoted (a quoted INI value stays a string). */
  quoted: boolean;
}

export class WordSplitError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/**
 * Split on unquoted whitespace. Single quotes are literal; double quotes allow \" and \\;
 * a backslash outside quotes escapes the next character. With `comments`, an unquoted `#`
 * at the start of a word ends the line.
 */
export function splitWords(input: string, opts: { comments?: boolean } = {}): Word[] {
  const words: Word[] = [];
  let cur: Word | null = null;
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (cur) words.push(cur);
      cur = null;
      i++;
      continue;
    }
    if (!cur && opts.comments && c === '#') break;
    cur ??= { text: '', start: i, quoted: false };
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new WordSplitError('unterminated single quote', i);
      cur.text += input.slice(i + 1, end);
      cur.quoted = true;
      i = end + 1;
    } else if (c === '"') {
      const open = i;
      i++;
      let closed = false;
      while (i < input.length) {
        const d = input[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && (input[i + 1] === '"' || input[i + 1] === '\\')) {
          cur.text += input[i + 1];
          i += 2;
          continue;
        }
        cur.text += d;
        i++;
      }
      if (!closed) throw new WordSplitError('unterminated double quote', open);
      cur.quoted = true;
    } else if (c === '\\' && i + 1 < input.length) {
      cur.text += input[i + 1];
      i += 2;
    } else {
      cur.text += c;
      i++;
    }
  }
  if (cur) words.push(cur);
  return words;
}
