// The manifest file: every object of the tunnel in one multi-document YAML, the Namespace
// first (K3s applies a file's objects in order). Golden-tested against test/fixtures/cloudflared/.
import { stringify } from 'yaml';
import { REDACTED } from '../../lib/secrets/redact.ts';
import type { CloudflaredObjects } from './model.ts';

export const CLOUDFLARED_HEADER = '# Managed by drover (role cloudflared): local changes are overwritten. Holds a secret: mode 0600.';

export function renderManifest(o: CloudflaredObjects): string {
  const docs = [o.namespace, o.secret, o.configMap, o.deployment, o.podDisruptionBudget].map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false }));
  return `${CLOUDFLARED_HEADER}\n${docs.map((d) => `---\n${d}`).join('')}`;
}

/**
 * The manifest with the Secret's data masked, for --diff: every value under a Secret's `data:`
 * (the token or credentials, base64), whatever the file held before.
 */
export function maskManifestSecrets(text: string): string {
  const out: string[] = [];
  let kind = '';
  let inData = false;
  for (const line of text.split('\n')) {
    if (line === '---') {
      kind = '';
      inData = false;
    } else if (/^kind: /.test(line)) kind = line.slice(6).trim();
    if (/^\S/.test(line) && !/^data:/.test(line)) inData = false;
    if (kind === 'Secret' && /^data:/.test(line)) {
      inData = true;
      out.push(line);
      continue;
    }
    if (inData && kind === 'Secret') {
      const m = /^(\s+[^:\s]+:)\s*\S.*$/.exec(line);
      out.push(m ? `${m[1]} ${REDACTED}` : line);
      continue;
    }
    out.push(line);
  }
  return out.join('\n');
}
