// template: a typed render function is the template; the result is written like file().
import { file, type FileOptions } from './file.ts';
import { failed, type Op } from './types.ts';

export function template<V>(path: string, render: (vars: V) => string, vars: V, opts: FileOptions = {}): Op {
  return async (ctx) => {
    let content: string;
    try {
      content = render(vars);
    } catch (e) {
      return failed(`template for ${path} failed to render: ${e instanceof Error ? e.message : String(e)}`);
    }
    return file(path, content, opts)(ctx);
  };
}
