import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/**
 * The path to write `file` to without overwriting an earlier result: `file` itself when free or when
 * `force`, else `name-2.ext`, `name-3.ext`, … beside it.
 */
export function nonClobberingPath(file: string, force: boolean): string {
  if (force || !existsSync(file)) return file;
  const ext = extname(file);
  const stem = basename(file, ext);
  for (let i = 2; ; i++) {
    const candidate = join(dirname(file), `${stem}-${i}${ext}`);
    if (!existsSync(candidate)) return candidate;
  }
}
