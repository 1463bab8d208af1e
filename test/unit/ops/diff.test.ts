import { describe, expect, it } from 'vitest';
import { isText, renderFileDiff, unifiedDiff } from '../../../lib/ops/diff.ts';

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n')).toBe('');
  });

  it('renders one changed line with context and hunk header', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\n';
    const after = 'a\nb\nc\nD\ne\nf\ng\n';
    expect(unifiedDiff(before, after, { path: '/etc/x' })).toBe(
      ['--- /etc/x (before)', '+++ /etc/x (after)', '@@ -1,7 +1,7 @@', ' a', ' b', ' c', '-d', '+D', ' e', ' f', ' g', ''].join('\n'),
    );
  });

  it('splits distant changes into separate hunks', () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n') + '\n';
    const after = before.replace('l1\n', 'L1\n').replace('l18\n', 'L18\n');
    const d = unifiedDiff(before, after, { context: 1 });
    expect(d.match(/^@@/gm)).toHaveLength(2);
    expect(d).toContain('@@ -1,3 +1,3 @@');
    expect(d).toContain('@@ -18,3 +18,3 @@');
  });

  it('handles creation from empty and pure insertions', () => {
    expect(unifiedDiff('', 'x\ny\n')).toContain('@@ -0,0 +1,2 @@\n+x\n+y\n');
    const d = unifiedDiff('a\nc\n', 'a\nb\nc\n', { context: 0 });
    expect(d).toContain('@@ -1,0 +2 @@\n+b\n');
  });

  it('keeps the LCS (no spurious delete/insert of common lines)', () => {
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
