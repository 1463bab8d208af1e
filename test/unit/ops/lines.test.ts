import { describe, expect, it } from 'vitest';
import { editBlock, editLine } from '../../../lib/ops/lines.ts';

const conf = 'PermitRootLogin yes\n#Port 22\nPasswordAuthentication yes\n';

describe('editLine (lineinfile semantics)', () => {
  it('replaces the last regexp match, keeps the rest byte-identical', () => {
    const r = editLine(conf, { line: 'PermitRootLogin prohibit-password', regexp: /^PermitRootLogin\s/ });
    expect(r).toEqual({ action: 'replaced', content: 'PermitRootLogin prohibit-password\n#Port 22\nPasswordAuthentication yes\n' });
  });

  it('is a no-op returning the same string when the line is already there', () => {
    const r = editLine('a\nb', { line: 'a' });
    expect(r.action).toBeNull();
    expect(r.content).toBe('a\nb'); // no newline added on no-change
  });

  it('appends at EOF by default, adding the missing final newline', () => {
    expect(editLine('a\nb', { line: 'c' })).toEqual({ action: 'added', content: 'a\nb\nc\n' });
    expect(editLine('', { line: 'c' }).content).toBe('c\n');
  });

  it('inserts after / before the last match, or BOF, and falls back to EOF', () => {
    expect(editLine('a\nx\nb\nx\n', { line: 'N', insertAfter: /^x$/ }).content).toBe('a\nx\nb\nx\nN\n');
    expect(editLine('a\nx\nb\nx\n', { line: 'N', insertAfter: /^x$/, firstMatch: true }).content).toBe('a\nx\nN\nb\nx\n');
    expect(editLine('a\nb\n', { line: 'N', insertBefore: 'b' }).content).toBe('a\nN\nb\n');
    expect(editLine('a\nb\n', { line: 'N', insertBefore: 'BOF' }).content).toBe('N\na\nb\n');
    expect(editLine('a\nb\n', { line: 'N', insertAfter: /^zz/ }).content).toBe('a\nb\nN\n');
  });

  it('a regexp without a match still accepts an identical existing line', () => {
    expect(editLine('x=1\n', { line: 'x=1', regexp: /^y=/ }).action).toBeNull();
  });

  it('absent removes every match (by regexp or exact line)', () => {
    expect(editLine('a\nb\na\n', { line: 'a', state: 'absent' })).toEqual({ action: 'removed', content: 'b\n' });
    expect(editLine('k=1\nx\nk=2\n', { regexp: /^k=/, state: 'absent' }).content).toBe('x\n');
    expect(editLine('x\n', { regexp: /^k=/, state: 'absent' }).action).toBeNull();
  });

  it('a global regexp is not stateful across lines', () => {
    expect(editLine('k=1\nk=2\n', { regexp: /^k=/g, state: 'absent' }).content).toBe('');
  });

  it('keeps CRLF line endings of untouched lines', () => {
    expect(editLine('a\r\nb\r\n', { line: 'c' }).content).toBe('a\r\nb\r\nc\n');
  });
});

describe('editBlock (blockinfile semantics)', () => {
  const m = { begin: '# BEGIN X', end: '# END X' };
  it('adds a block at EOF, replaces it in place, and is a no-op when equal', () => {
    const added = editBlock('a\n', { ...m, block: 'one\ntwo\n' });
    expect(added).toEqual({ action: 'added', content: 'a\n# BEGIN X\none\ntwo\n# END X\n' });
    const replaced = editBlock(added.content + 'z\n', { ...m, block: 'three' });
    expect(replaced).toEqual({ action: 'replaced', content: 'a\n# BEGIN X\nthree\n# END X\nz\n' });
    expect(editBlock(replaced.content, { ...m, block: 'three\n' }).action).toBeNull();
  });

  it('removes the block with its markers', () => {
    expect(editBlock('a\n# BEGIN X\nq\n# END X\nb\n', { ...m, block: '', state: 'absent' })).toEqual({ action: 'removed', content: 'a\nb\n' });
    expect(editBlock('a\n', { ...m, block: '', state: 'absent' }).action).toBeNull();
  });

  it('honours insertBefore', () => {
    expect(editBlock('a\nb\n', { ...m, block: 'q', insertBefore: /^b/ }).content).toBe('a\n# BEGIN X\nq\n# END X\nb\n');
  });
});
