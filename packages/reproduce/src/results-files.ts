import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
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

/** The folders whose absolute paths {@link portablePaths} rewrites (defaults: this process's). */
export interface PathPlaces {
  /** The experiment's --out folder: paths inside it become relative to it. */
  outDir?: string;
  /** The working folder (default: process.cwd()): paths inside it become relative to it. */
  cwd?: string;
  /** The home folder (default: os.homedir()): paths inside it start with `~/`. */
  home?: string;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Characters that start and end a path inside a sentence: space, quotes, brackets, separators. */
const PATH_START = `(?<![^\\s'"\`()\\[\\],;:=])`;
const PATH_END = `(?=[\\s'"\`()\\[\\],;:]|$)`;
/** An absolute path (at the start of the text or after a space, quote, bracket or separator) up to and including a `node_modules/` folder. */
const INSTALL_PREFIX = /(?<![^\s'"`()[\],;:=])(?:[A-Za-z]:)?(?:[\\/][^\s'"`()[\],;:\\/]+)*[\\/]node_modules[\\/]/g;

/**
 * `text` without this machine's absolute paths, for files and lines a person reads elsewhere (results
 * files are shared and committed; the reader's machine has none of this one's folders): an installed
 * package as `node_modules/<package>/…`, a path in the --out folder or the working folder relative to it,
 * one in the home folder as `~/…`. Paths elsewhere (system data such as /usr/share/datasets/…) are the
 * same on every machine and stay as they are.
 */
export function portablePaths(text: string, places: PathPlaces = {}): string {
  let out = text.replace(INSTALL_PREFIX, 'node_modules/');
  const prefixes: [string, string][] = [];
  if (places.outDir) prefixes.push([places.outDir, '']);
  prefixes.push([places.cwd ?? process.cwd(), ''], [places.home ?? homedir(), '~/']);
  // The longest folder first: the --out folder usually lies inside the working folder, which may lie in home.
  for (const [folder, replacement] of prefixes.filter(([f]) => f.length > 1).sort((a, b) => b[0].length - a[0].length)) {
    const dir = folder.replace(/[\\/]+$/, '');
    out = out.replace(new RegExp(`${PATH_START}${escapeRegExp(dir)}[\\/](?=[^\\s])`, 'g'), replacement);
    out = out.replace(new RegExp(`${PATH_START}${escapeRegExp(dir)}${PATH_END}`, 'g'), replacement === '' ? '.' : '~');
  }
  return out;
}
