// The K3s release: asset names per architecture, URLs, the sha256sum-<arch>.txt file and
// `k3s --version` output, as pure functions.

export interface K3sArch {
  /** The release's name for the architecture (sha256sum-<arch>.txt, k3s-airgap-images-<arch>.*). */
  arch: 'amd64' | 'arm64' | 'arm';
  /** The binary's asset name. */
  binary: 'k3s' | 'k3s-arm64' | 'k3s-armhf';
}

/** uname -m -> the release's assets; undefined when K3s ships no binary for it. */
export function k3sArch(machine: string): K3sArch | undefined {
  const m = machine.trim();
  if (m === 'x86_64' || m === 'amd64') return { arch: 'amd64', binary: 'k3s' };
  if (m === 'aarch64' || m === 'arm64') return { arch: 'arm64', binary: 'k3s-arm64' };
  if (/^armv[67]/.test(m) || m === 'arm') return { arch: 'arm', binary: 'k3s-armhf' };
  return undefined;
}

export const sumsFile = (a: K3sArch): string => `sha256sum-${a.arch}.txt`;

/** The air-gap images tarballs the release ships, most compressed first. */
export const imageTarballs = (a: K3sArch): string[] => ['tar.zst', 'tar.gz', 'tar'].map((e) => `k3s-airgap-images-${a.arch}.${e}`);

/** <base>/<version>/<file>, the version's `+` encoded as %2B as GitHub expects. */
export function releaseUrl(base: string, version: string, file: string): string {
  return `${base.replace(/\/+$/, '')}/${encodeURIComponent(version)}/${file}`;
}

/** sha256sum output (`<hex>  <name>` or `<hex> *<name>`) -> name -> hex. */
export function parseSums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(\S+)\s*$/.exec(line.trim());
    if (m) out.set(m[2]!, m[1]!.toLowerCase());
  }
  return out;
}

/** `k3s version v1.31.12+k3s1 (abcdef12)` (first line of k3s --version) -> v1.31.12+k3s1. */
export function parseVersion(output: string): string | undefined {
  const m = /^k3s version (v\S+)/m.exec(output);
  return m?.[1];
}
