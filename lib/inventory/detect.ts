// Which parser reads a file: by extension when it has a telling one, else by content.
export type InventoryFormat = 'yaml' | 'ini' | 'json';

export function detectFormat(text: string, file: string): InventoryFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.yml') || lower.endsWith('.yaml')) return 'yaml';
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.ini')) return 'ini';
  const lines = text.split(/\r?\n/).filter((l) => l.trim() && !/^\s*[#;]/.test(l));
  const first = lines[0]?.trim() ?? '';
  if (first.startsWith('{')) return 'json';
  if (first === '---' || first.startsWith('--- ')) return 'yaml';
  if (lines.some((l) => /^\s*\[[^\]]+\]\s*$/.test(l))) return 'ini';
  // `all:` / `key: value` at column 0 with no `=` reads as YAML; a host line as INI.
  if (lines.some((l) => /^[^\s=[][^=]*:(\s|$)/.test(l))) return 'yaml';
  return 'ini';
}
