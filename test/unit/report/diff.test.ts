// The project's one line diff (lib/report/diff.ts on jsdiff): diff -u text for the plain
// reporter and FileDiffs, typed lines with folded gaps for the UI.
import { describe, expect, it } from 'vitest';
import { diffLines, renderFileDiff, unifiedDiff, unifiedDiffLines } from '../../../lib/report/diff.ts';
import { isText } from '../../../lib/ops/text.ts';

describe('unifiedDiff (diff -u format)', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n')).toBe('');
    expect(unifiedDiffLines('same', 'same', 'f')).toEqual([]);
  });

  it('renders one changed line with context and hunk header', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\n';
    const after = 'a\nb\nc\nD\ne\nf\ng\n';
    expect(unifiedDiff(before, after, { path: '/etc/x' })).toBe(
      ['--- /etc/x (before)', '+++ /etc/x (after)', '@@ -1,7 +1,7 @@', ' a', ' b', ' c', '-d', '+D', ' e', ' f', ' g', ''].join('\n'),
    );
  });

  it('matches diff -u hunks', () => {
    const a = Array.from({ length: 10 }, (_, i) => `l${i + 1}`).join('\n') + '\n';
    const b = a.replace('l3\n', 'l3x\n') + 'l11\n';
    expect(unifiedDiffLines(a, b, 'f')).toEqual([
      '--- f (before)', '+++ f (after)',
      '@@ -1,6 +1,6 @@', ' l1', ' l2', '-l3', '+l3x', ' l4', ' l5', ' l6',
      '@@ -8,3 +8,4 @@', ' l8', ' l9', ' l10', '+l11',
    ]);
  });

  it('splits distant changes into separate hunks', () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n';
    const after = before.replace('l1\n', 'L1\n').replace('l18\n', 'L18\n');
    const d = unifiedDiff(before, after, { context: 1 });
    expect(d.match(/^@@/gm)).toHaveLength(2);
    expect(d).toContain('@@ -1,3 +1,3 @@');
    expect(d).toContain('@@ -18,3 +18,3 @@');
  });

  it('handles creation from empty and pure insertions as diff -u does', () => {
    expect(unifiedDiff('', 'x\ny\n')).toContain('@@ -0,0 +1,2 @@\n+x\n+y\n');
    expect(unifiedDiffLines('', 'new\n', 'f')).toEqual(['--- f (before)', '+++ f (after)', '@@ -0,0 +1 @@', '+new']);
    const d = unifiedDiff('a\nc\n', 'a\nb\nc\n', { context: 0 });
    expect(d).toContain('@@ -1,0 +2 @@\n+b\n');
  });

  it('says when only the final newline differs', () => {
    expect(unifiedDiff('a\n', 'a')).toContain('\\ No newline at end of file');
  });

  it('keeps the common lines (no spurious delete/insert)', () => {
    const d = unifiedDiff('x\na\nb\nc\n', 'a\nb\nc\ny\n', { context: 5 });
    expect(d.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'))).toEqual(['-x']);
    expect(d.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'))).toEqual(['+y']);
  });

  it('renders FileDiff and detects binary', () => {
    expect(renderFileDiff({ path: 'p', before: 'a\n', after: 'b\n' })).toContain('-a\n+b\n');
    expect(isText('abc')).toBe(true);
    expect(isText(Buffer.from([1, 0, 2]))).toBe(false);
  });
});

const show = (lines: ReturnType<typeof diffLines>) =>
  lines.map((l) => (l.kind === 'gap' ? `~${l.count}` : `${l.kind === 'add' ? '+' : l.kind === 'del' ? '-' : ' '}${l.text}`));

describe('diffLines (the UI)', () => {
  it('marks a changed line with context around it', () => {
    expect(show(diffLines('a\nb\nc\n', 'a\nB\nc\n'))).toEqual([' a', '-b', '+B', ' c']);
  });

  it('folds unchanged lines far from any change', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const after = before.replace('line 10', 'line ten');
    expect(show(diffLines(before, after, { context: 2 }))).toEqual(['~8', ' line 8', ' line 9', '-line 10', '+line ten', ' line 11', ' line 12', '~7']);
  });

  it('folds the unchanged lines between two hunks', () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n';
    const after = before.replace('l1\n', 'L1\n').replace('l18\n', 'L18\n');
    expect(show(diffLines(before, after, { context: 1 }))).toEqual([' l0', '-l1', '+L1', ' l2', '~14', ' l17', '-l18', '+L18', ' l19']);
  });

  it('shows a new file as all additions and a removed one as all deletions', () => {
    expect(show(diffLines('', 'x\ny\n'))).toEqual(['+x', '+y']);
    expect(show(diffLines('x\n', ''))).toEqual(['-x']);
  });

  it('finds insertions in the middle without re-adding what is unchanged', () => {
    expect(show(diffLines('a\nb\nc\nd', 'a\nb\nX\nc\nd'))).toEqual([' a', ' b', '+X', ' c', ' d']);
    expect(show(diffLines('a\nb\nc\nd\ne\nf\ng\nh\n', 'a\nb\nc\nd\nX\ne\nf\ng\nh\n', { context: 1 }))).toEqual(['~3', ' d', '+X', ' e', '~3']);
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

  it('handles a large rewritten file', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n');
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}`).join('\n');
    expect(diffLines(a, b)).toHaveLength(201);
  });
});
