import { afterEach, describe, expect, it } from 'vitest';
import type { DroverEvent } from '../../../lib/report/events.ts';
import { PlainReporter } from '../../../lib/report/plain.ts';
import { formatRecap } from '../../../lib/report/recap-format.ts';
import { redactingSink } from '../../../lib/report/redacting-sink.ts';
import { addSecret, clearSecrets, REDACTED } from '../../../lib/secrets/redact.ts';

afterEach(() => clearSecrets());

class Buf {
  text = '';
  write(s: string) {
    this.text += s;
    return true;
  }
  get lines() {
    return this.text.split('\n').filter((l) => l !== '');
  }
}

const ts = 1_700_000_000_000;
const base = { ts, host: 'lb1', play: 'lb', role: 'haproxy' };

function feed(r: PlainReporter, events: DroverEvent[]) {
  for (const e of events) r.emit(e);
}

describe('PlainReporter', () => {
  it('one grep-friendly line per result: keyword [role : task] host status (duration): msg', () => {
    const out = new Buf();
    feed(new PlainReporter({ out }), [
      { ts, type: 'run_start', playbook: 'site', check: true, diff: false, hosts: ['lb1', 'lb2'], forks: 10 },
      { ts, type: 'play_start', play: 'lb', hosts: ['lb1', 'lb2'], strategy: 'linear', serial: 1 },
      { ...base, type: 'task_start', task: 'render config' },
      { ...base, type: 'task_end', task: 'render config', status: 'changed', durationMs: 120, msg: 'wrote /etc/haproxy/haproxy.cfg' },
      { ...base, type: 'task_end', task: 'reload', handler: true, status: 'ok', durationMs: 1500 },
      { ts, type: 'task_end', host: 'lb2', play: 'lb', task: 'Gathering Facts', status: 'ok', durationMs: 15 },
      { ...base, type: 'task_end', task: 'join', status: 'ok', durationMs: 3, delegatedTo: 'db1', attempts: 3 },
      { ts, type: 'host_state', host: 'lb3', state: 'unreachable', msg: 'connect ECONNREFUSED' },
      { ts, type: 'host_state', host: 'lb1', state: 'running' },
      { ts, type: 'log', host: 'lb1', level: 'warn', msg: 'careful' },
      { ts, type: 'log', host: 'lb1', level: 'debug', msg: 'hidden at -v0' },
    ]);
    expect(out.lines).toEqual([
      'RUN [site] 2 hosts, forks 10, check mode',
      'PLAY [lb] hosts: lb1, lb2 (linear, serial 1)',
      'TASK [haproxy : render config] lb1 changed (120 ms): wrote /etc/haproxy/haproxy.cfg',
      'HANDLER [haproxy : reload] lb1 ok (1.5 s)',
      'TASK [Gathering Facts] lb2 ok (15 ms)',
      'TASK [haproxy : join] lb1 -> db1 ok (3 ms) attempts=3',
      'UNREACHABLE [lb3] connect ECONNREFUSED',
      'WARN [lb1] careful',
    ]);
  });

  it('prints rc, stderr and stdout of a failure indented below it', () => {
    const out = new Buf();
    feed(new PlainReporter({ out }), [
      { ...base, type: 'task_end', task: 'validate', status: 'failed', durationMs: 40, msg: 'haproxy -c failed\nsee below', rc: 1, stderr: 'line 3: unknown keyword\nfatal', stdout: 'checking' },
    ]);
    expect(out.lines).toEqual([
      'TASK [haproxy : validate] lb1 failed (40 ms): haproxy -c failed',
      '    see below',
      '    rc: 1',
      '    stderr:',
      '      line 3: unknown keyword',
      '      fatal',
      '    stdout:',
      '      checking',
    ]);
  });

  it('shows diffs only under --diff; -v adds debug logs and notifications; -vv task starts', () => {
    const diffEvent: DroverEvent = { ...base, type: 'task_end', task: 'cfg', status: 'changed', durationMs: 1, diff: [{ path: '/etc/x', before: 'a\nb\n', after: 'a\nc\n' }] };
    const quiet = new Buf();
    feed(new PlainReporter({ out: quiet }), [diffEvent]);
    expect(quiet.lines).toHaveLength(1);
    const loud = new Buf();
    feed(new PlainReporter({ out: loud, diff: true }), [diffEvent]);
    expect(loud.lines.slice(1)).toEqual(['    --- /etc/x (before)', '    +++ /etc/x (after)', '    @@ -1,2 +1,2 @@', '     a', '    -b', '    +c']);

    const events: DroverEvent[] = [
      { ts, type: 'log', host: 'lb1', level: 'debug', msg: 'probe' },
      { ts, type: 'handler_notify', host: 'lb1', handler: 'reload', by: 'cfg' },
      { ...base, type: 'task_start', task: 'cfg' },
    ];
    const v1 = new Buf();
    feed(new PlainReporter({ out: v1, verbosity: 1 }), events);
    expect(v1.lines).toEqual(['DEBUG [lb1] probe', 'NOTIFY [lb1] reload <- cfg']);
    const v2 = new Buf();
    feed(new PlainReporter({ out: v2, verbosity: 2 }), events);
    expect(v2.lines).toEqual(['DEBUG [lb1] probe', 'NOTIFY [lb1] reload <- cfg', 'START [haproxy : cfg] lb1']);
  });

  it('ends with the PLAY RECAP, including the slowest tasks it saw', () => {
    const out = new Buf();
    feed(new PlainReporter({ out }), [
      { ...base, type: 'task_end', task: 'slow one', status: 'ok', durationMs: 4200 },
      { ...base, type: 'task_end', task: 'quick', status: 'ok', durationMs: 2 },
      { ts, type: 'recap', hosts: { lb1: { ok: 2, changed: 0, failed: 0, skipped: 0, unreachable: 0, durationMs: 4202 } }, durationMs: 4300, exitCode: 0 },
    ]);
    expect(out.text).toContain('PLAY RECAP');
    expect(out.text).toMatch(/Slowest tasks:\n\s+4\.2 s {2}lb1 {2}haproxy : slow one\n\s+2 ms {2}lb1 {2}haproxy : quick/);
  });

  it('-v adds each host\'s network round trips to the recap (when the transport counted them)', () => {
    const recap = { ts, type: 'recap' as const, hosts: { lb1: { ok: 2, changed: 0, failed: 0, skipped: 0, unreachable: 0, durationMs: 4, roundTrips: 17, connectRoundTrips: 5 }, local: { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: 0, durationMs: 1 } }, durationMs: 5, exitCode: 0 };
    const quiet = new Buf();
    feed(new PlainReporter({ out: quiet }), [recap]);
    expect(quiet.text).not.toContain('roundtrips');
    const v1 = new Buf();
    feed(new PlainReporter({ out: v1, verbosity: 1 }), [recap]);
    expect(v1.text).toMatch(/^lb1 .* time=4 ms {2}roundtrips=17 \(connect 5\)$/m);
    expect(v1.text).toMatch(/^local .* time=1 ms$/m);
  });

  it('never prints a registered secret, even if handed an unredacted event', () => {
    addSecret('s3cr3t-token-value');
    const out = new Buf();
    feed(new PlainReporter({ out, diff: true, verbosity: 2 }), [
      { ...base, type: 'task_end', task: 'token s3cr3t-token-value', status: 'failed', durationMs: 1, msg: 'bad s3cr3t-token-value', stderr: 's3cr3t-token-value', diff: [{ path: '/t', before: '', after: 's3cr3t-token-value' }] },
      { ts, type: 'recap', hosts: { lb1: { ok: 0, changed: 0, failed: 1, skipped: 0, unreachable: 0, durationMs: 1 } }, durationMs: 1, exitCode: 2 },
    ]);
    expect(out.text).not.toContain('s3cr3t-token-value');
    expect(out.text).toContain(REDACTED);
  });
});

describe('formatRecap', () => {
  it('an Ansible-like table with per-host time; aborted column only when aborted', () => {
    const text = formatRecap({
      hosts: {
        master1: { ok: 12, changed: 3, failed: 0, skipped: 1, unreachable: 0, durationMs: 65_000 },
        lb2: { ok: 1, changed: 0, failed: 1, skipped: 0, unreachable: 0, durationMs: 800 },
      },
      durationMs: 70_000,
      exitCode: 2,
    });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^PLAY RECAP \*+$/);
    expect(lines[1]).toBe('master1                   : ok=12   changed=3    unreachable=0    failed=0    skipped=1    time=1m 05s');
    expect(lines[2]).toMatch(/^lb2 +: ok=1 +changed=0 +unreachable=0 +failed=1 +skipped=0 +time=800 ms$/);
    expect(text).not.toContain('aborted=');
    expect(text).toContain('exit code 2 (failed hosts)');

    const ab = formatRecap({ hosts: { a: { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: 0, aborted: 4, durationMs: 1 } }, durationMs: 1, exitCode: 130, aborted: true });
    expect(ab).toContain('aborted=4');
    expect(ab).toContain('ABORTED by the user: 4 tasks not run');
  });
});

describe('redactingSink', () => {
  it('redacts every string of every event before the wrapped sink sees it, and wraps once', () => {
    addSecret('pa55word!');
    const seen: DroverEvent[] = [];
    const inner = { emit: (e: DroverEvent) => seen.push(e) };
    const sink = redactingSink(inner);
    expect(redactingSink(sink)).toBe(sink);
    sink.emit({ ...base, type: 'task_end', task: 't', status: 'failed', durationMs: 1, msg: 'x pa55word! y', diff: [{ path: '/p', before: 'pa55word!', after: '' }] });
    expect(JSON.stringify(seen)).not.toContain('pa55word!');
  });
});
