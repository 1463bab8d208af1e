// fetch: copy a remote file to a path on the controller (e.g. a kubeconfig). One exec reads
// the remote sha256; the file is only transferred when it differs from the local copy (or
// when `transform` must run, e.g. rewriting a kubeconfig's server to the VIP). The local
// write is atomic (temp file + rename) and skipped in check mode.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile, chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import { quote } from '../shell/quote.ts';
import { isText } from './text.ts';
import { defineOp, mustProbe, OpFailure, sudoFor } from './exec.ts';
import { parseProbe } from './probe.ts';
import { changed, ok, skipped, type Op } from './types.ts';
import { sha256 } from './write.ts';

export interface FetchOptions {
  /** Local file mode (default 0600: fetched files are often credentials). */
  mode?: number;
  /** Rewrite the content before it is compared and written. */
  transform?: (content: Buffer) => string | Buffer;
  /** A missing remote file fails (default); false reports skipped. */
  failOnMissing?: boolean;
  /** Read the remote file with sudo (default: the context's become). */
  sudo?: boolean;
  noLog?: boolean;
}

async function readLocal(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Atomic local write: temp file in the same directory, then rename over the target. */
export async function writeLocalAtomic(path: string, content: string | Buffer, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.drover-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, content, { mode });
    await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export function fetchFile(remote: string, local: string, opts: FetchOptions = {}): Op {
  return defineOp(async (ctx) => {
    const sudo = sudoFor(ctx, opts.sudo);
    const current = await readLocal(local);
    let remoteContent: Buffer | undefined;
    if (!opts.transform) {
      const r = await mustProbe(
        ctx,
        `probe ${remote}`,
        `if [ -f ${quote(remote)} ]; then h=$(sha256sum < ${quote(remote)}) || exit 3; echo "sha256=\${h%% *}"; else echo missing=1; fi`,
        { sudo },
      );
      const { kv } = parseProbe(r.stdout);
      if (kv.has('missing')) {
        if (opts.failOnMissing === false) return skipped(`remote file ${remote} does not exist`);
        throw new OpFailure(`remote file ${remote} does not exist`);
      }
      if (current && sha256(current) === kv.get('sha256')) return ok(`${local} is up to date`);
    }
    // Read the content when it is needed: to write, to transform, or to show a diff.
    const showDiff = ctx.diff && !opts.noLog;
    if (!ctx.check || opts.transform || showDiff) {
      try {
        remoteContent = await ctx.transport.get(remote, { sudo });
      } catch (e) {
        if (opts.transform && opts.failOnMissing === false) return skipped(`cannot read ${remote}: ${(e as Error).message}`);
        // In check mode without a transform the content was only wanted for the diff.
        if (!ctx.check || opts.transform) throw new OpFailure(`cannot read ${remote}: ${(e as Error).message}`);
        ctx.log(`fetch: no diff for ${remote}: ${(e as Error).message}`);
      }
    }
    let next: string | Buffer | undefined = remoteContent;
    if (remoteContent && opts.transform) next = opts.transform(remoteContent);
    if (next !== undefined && current && sha256(current) === sha256(next)) return ok(`${local} is up to date`);
    const diff =
      showDiff && next !== undefined && isText(next) && (!current || isText(current))
        ? [{ path: local, before: current?.toString() ?? '', after: next.toString() }]
        : undefined;
    const msg = `fetch ${remote} to ${local}`;
    if (ctx.check) return changed(`would ${msg}`, diff ? { diff } : {});
    try {
      await writeLocalAtomic(local, next!, opts.mode ?? 0o600);
    } catch (e) {
      throw new OpFailure(`cannot write ${local}: ${(e as Error).message}`);
    }
    return changed(msg, { ...(diff ? { diff } : {}), data: { path: local } });
  });
}
