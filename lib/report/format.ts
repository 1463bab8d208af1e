// Small text helpers shared by the plain reporter and the recap table.

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m ${String(s).padStart(2, '0')}s`;
}

/** "role : task" as Ansible writes it; just the task for role-less ones (Gathering Facts). */
export function taskLabel(role: string | undefined, task: string): string {
  return role ? `${role} : ${task}` : task;
}

/** Indent every line of a block; keep at most `max` lines (the tail, where errors are). */
export function indentBlock(text: string, prefix = '    ', max = 40): string[] {
  const lines = text.replace(/\s+$/, '').split('\n');
  const cut = lines.length > max ? lines.length - max : 0;
  const out = lines.slice(cut).map((l) => prefix + l);
  if (cut) out.unshift(`${prefix}[... ${cut} lines cut]`);
  return out;
}

/** Minimal write target: process.stdout, a file stream, or a test buffer. */
export interface OutStream {
  write(chunk: string): unknown;
}
