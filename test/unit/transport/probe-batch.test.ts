// parseProbeBatchScript: the inverse of probeBatchScript, used to record and replay a
// read-ahead batch probe by probe (lib/testing/replay-transport.ts).
import { describe, expect, it } from 'vitest';
import { batchNonce, parseProbeBatchScript, probeBatchScript } from '../../../lib/transport/probe-batch.ts';

describe('parseProbeBatchScript', () => {
  it('gives back the nonce and every probe of a batch, exactly', () => {
    const probes = [
      'p=/etc/hosts\nif [ -f "$p" ]; then echo type=file; fi',
      "printf 'no newline at the end'",
      'echo trailing newline\n',
      'echo a # a comment',
      'echo ") </dev/null; looks like the tail"',
      ':',
      'x',
    ];
    const nonce = batchNonce();
    const script = probeBatchScript(probes, nonce);
    expect(parseProbeBatchScript(script)).toEqual({ nonce, commands: probes });
    expect(parseProbeBatchScript(probeBatchScript(['only one'], nonce))).toEqual({ nonce, commands: ['only one'] });
  });

  it('an empty probe comes back as ":" (what the batch runs for it)', () => {
    const nonce = batchNonce();
    expect(parseProbeBatchScript(probeBatchScript(['echo a', ''], nonce))?.commands).toEqual(['echo a', ':']);
  });

  it('anything that is not a batch script is undefined', () => {
    const nonce = batchNonce();
    const script = probeBatchScript(['echo a', 'echo b'], nonce);
    expect(parseProbeBatchScript('echo a')).toBeUndefined();
    expect(parseProbeBatchScript(`echo ${nonce}`)).toBeUndefined();
    expect(parseProbeBatchScript(script.slice(0, -3))).toBeUndefined();
    expect(parseProbeBatchScript(`${script}\necho more`)).toBeUndefined();
    expect(parseProbeBatchScript(script.replace(nonce, batchNonce()))).toBeUndefined();
  });
});
