import { describe, expect, it } from 'vitest';
import { diffLines } from '../../../ui/diff-lines.ts';

const show = (lines: ReturnType<typeof diffLines>) =>
  lines.map((l) => (l.kind === 'gap' ? `~${l.count}` : `${l.kind === 'add' ? '+' : l.kind === 'del' ? '-' : ' '}${l.text}`));

describe('diffLines', () => {
  it('marks a changed line with context around it', () => {
    expect(show(diffLines('a\nb\nc\n', 'a\nB\nc\n'))).toEqual([' a', '-b', '+B', ' c']);
  });

  it('folds unchanged lines far from any change', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const after = before.replace('line 10', 'line ten');
    expect(show(diffLines(before, after, { context: 2 }))).toEqual(['~8', ' line 8', ' line 9', '-line 10', '+line ten', ' line 11', ' line 12', '~7']);
  });

  it('shows a new file as all additions and a removed one as all deletions', () => {
    expect(show(diffLines('', 'x\ny\n'))).toEqual(['+x', '+y']);
    expect(show(diffLines('x\n', ''))).toEqual(['-x']);
  });

  it('finds insertions in the middle without re-adding what is unchanged', () => {
    expect(show(diffLines('a\nb\nc\nd', 'a\nb\nX\nc\nd'))).toEqual([' a', ' b', '+X', ' c', ' d']);
  });

  it('returns nothing for identical text', () => {
    expect(diffLines('same\n', 'same\n')).toEqual([]);
  });

  it('caps the output and says how many lines were left out', () => {
    const after = Array.from({ length: 50 }, (_, i) => `n${i}`).join('\n');
    const out = show(diffLines('', after, { maxLines: 10 }));
    expect(out).toHaveLength(11);
    expect(out[10]).toBe('~40');
  });

  it('stays fast on large rewritten files', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`).join('\n');
    const t = performance.now();
    const out = diffLines(a, b);
    expect(performance.now() - t).toBeLessThan(1000);
    expect(out).toHaveLength(201);
  });
});
