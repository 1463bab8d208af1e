// Terminal styles (SGR escape codes) for lines the UI prints as strings: the scroll-back is
// formatted here rather than laid out by Ink, which measures and tokenizes every character of
// every line it draws (bench/tui.ts: ~1.5 ms a line on a busy machine; these cost microseconds).
import type { Color } from './format.ts';

export interface Style {
  color?: Color;
  bold?: boolean;
  dim?: boolean;
}

const FG: Readonly<Record<Color, number>> = { gray: 90, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, white: 37 };

/** `text` in `style`, or as is when colours are off. */
export function paint(text: string, style: Style, colors: boolean): string {
  if (!colors || text === '') return text;
  let open = '';
  let close = '';
  if (style.bold) open += '\u001b[1m';
  if (style.dim) open += '\u001b[2m';
  if (style.bold || style.dim) close = '\u001b[22m';
  if (style.color) {
    open += `\u001b[${FG[style.color]}m`;
    close = '\u001b[39m' + close;
  }
  return open + text + close;
}

/** Colours unless NO_COLOR is set (https://no-color.org) or the stream is not a terminal. */
export function wantsColors(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0';
  return stream.isTTY === true;
}
