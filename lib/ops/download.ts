// download: a URL fetched on the target to `dest`, verified against a required sha256.
// Probe: one exec (dest's sha256/attributes and which of curl/wget exists); nothing is
// downloaded when the sha256 already matches. The download goes to a temp file beside
// dest, is verified, then renamed, so dest is never a partial or unverified file.
import { posix } from 'node:path';
import { quote } from '../shell/quote.ts';
import { applyDecision, mustFail, type Decision } from './decision.ts';
import { canChown, defineOp, mustProbe } from './exec.ts';
import { formatMode, parseMode } from './mode.ts';
import { parseFileState, parseProbe, singleFileProbe, type FileState } from './probe.ts';
import type { Op } from './types.ts';
import { attrCommands } from './write.ts';

export interface DownloadOptions {
  /** Hex sha256 of the file (required: an unverified download is never installed). */
  sha256: string;
  mode?: string | number;
  owner?: string;
  group?: string;
  /** Per-attempt timeout of the transfer in seconds (default 300). */
  timeoutSec?: number;
}

export interface DownloadState {
  file: FileState;
  tool: 'curl' | 'wget' | null;
}

export function downloadProbeScript(dest: string): string {
  return [
    singleFileProbe(dest),
    'if command -v curl >/dev/null 2>&1; then echo tool=curl; elif command -v wget >/dev/null 2>&1; then echo tool=wget; fi',
  ].join('\n');
}

export function parseDownloadState(stdout: string): DownloadState {
  const out = parseProbe(stdout);
  const tool = out.kv.get('tool');
  return { file: parseFileState(out), tool: tool === 'curl' || tool === 'wget' ? tool : null };
}

/** The transfer script: temp file beside dest, fetch, verify sha256, set attributes, rename. */
export function downloadScript(
  url: string,
  dest: string,
  a: { sha256: string; tool: 'curl' | 'wget'; mode?: number; owner?: string; group?: string; timeoutSec?: number },
): string {
  const secs = a.timeoutSec ?? 300;
  const fetch =
    a.tool === 'curl'
      ? `curl -fsSL --retry 3 --connect-timeout 20 --max-time ${secs} -o "$t" ${quote(url)}`
      : `wget -q --tries=3 --timeout=${secs} -O "$t" ${quote(url)}`;
  const own = a.owner !== undefined && a.group !== undefined ? `${a.owner}:${a.group}` : a.owner;
  return [
    'set -e',
    `t=$(mktemp ${quote(posix.join(posix.dirname(dest), `.${posix.basename(dest)}.drover.XXXXXX`))})`,
    `trap 'rm -f "$t"' EXIT`,
    fetch,
    `s=$(sha256sum < "$t"); s=\${s%% *}`,
    `if [ "$s" != ${a.sha256} ]; then echo "sha256 mismatch for ${url.replace(/["\\$`]/g, '')}: got $s, want ${a.sha256}" >&2; exit 3; fi`,
    ...(a.mode !== undefined ? [`chmod ${formatMode(a.mode)} "$t"`] : []),
    ...(own !== undefined ? [`chown ${quote(own)} "$t"`] : a.group !== undefined ? [`chgrp ${quote(a.group)} "$t"`] : []),
    `mv -f "$t" ${quote(dest)}`,
  ].join('\n');
}

export function decideDownload(
  s: DownloadState,
  a: { url: string; dest: string; sha256: string; mode?: number; owner?: string; group?: string; timeoutSec?: number; check: boolean },
): Decision {
  const want = a.sha256.toLowerCase().replace(/^sha256:/, '');
  if (!/^[0-9a-f]{64}$/.test(want)) return mustFail(`download ${a.dest}: sha256 must be 64 hex digits`);
  if (s.file.type === 'directory' || s.file.type === 'other') return mustFail(`${a.dest} exists and is not a regular file`);
  if (s.file.type === 'file' && s.file.sha256 === want) {
    const { commands, reasons } = attrCommands(s.file, { path: a.dest, mode: a.mode, owner: a.owner, group: a.group });
    if (!commands.length) return { change: false, commands: [], msg: `${a.dest} is up to date` };
    return { change: true, commands, msg: `update ${a.dest} (${reasons.join(', ')})` };
  }
  const msg = `download ${a.url} to ${a.dest}`;
  if (!s.tool) {
    // In check mode an earlier task may be the one installing curl: report, do not fail.
    if (!a.check) return mustFail(`cannot download ${a.url}: neither curl nor wget is installed`);
    return { change: true, commands: [], msg: `${msg} (neither curl nor wget is installed yet)` };
  }
  return { change: true, commands: [downloadScript(a.url, a.dest, { ...a, sha256: want, tool: s.tool })], msg };
}

export function download(url: string, dest: string, opts: DownloadOptions): Op {
  return defineOp(async (ctx) => {
    const r = await mustProbe(ctx, `probe ${dest}`, downloadProbeScript(dest));
    const d = decideDownload(parseDownloadState(r.stdout), {
      ...opts,
      url,
      dest,
      mode: parseMode(opts.mode),
      check: ctx.check,
    });
    if (!canChown(ctx) && (opts.owner || opts.group)) ctx.log(`download ${dest}: owner/group need root or become`);
    return applyDecision(ctx, { ...d, data: { path: dest, sha256: opts.sha256 } }, { timeoutMs: ((opts.timeoutSec ?? 300) * 3 + 60) * 1000 });
  });
}
