// The repository's docs stay navigable: every relative link in the user-facing markdown (docs/, the
// READMEs, the data set cards) names a file that exists and, with a #fragment, an anchor in it; and
// every `docs/<page>.md#anchor` that a source comment or string cites exists too.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

function markdownIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.md')).map((f) => join(dir, f)) : [];
}

function readmesUnder(group: string): string[] {
  const dir = join(root, group);
  return readdirSync(dir)
    .map((name) => join(dir, name, 'README.md'))
    .filter((file) => existsSync(file));
}

/** Markdown outside fenced code blocks; inline code removed unless kept (links in examples are not links). */
function prose(markdown: string, keepInlineCode = false): string {
  let fenced = false;
  const lines: string[] = [];
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced) lines.push(keepInlineCode ? line : line.replace(/`[^`]*`/g, ''));
  }
  return lines.join('\n');
}

/** GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  const text = heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

const anchorCache = new Map<string, Set<string>>();

/** The anchors a markdown file offers: explicit `id`s and its headings' slugs (duplicates numbered). */
function anchorsOf(file: string): Set<string> {
  const cached = anchorCache.get(file);
  if (cached) return cached;
  const text = readFileSync(file, 'utf8');
  const anchors = new Set<string>();
  for (const m of text.matchAll(/\b(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  const seen = new Map<string, number>();
  // Headings keep their code spans: GitHub slugs their text (`Selection (\`initBackend\`)` → selection-initbackend).
  for (const m of prose(text, true).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  anchorCache.set(file, anchors);
  return anchors;
}

/** What is wrong with `target` linked from `from`, or undefined when it resolves. */
function brokenTarget(from: string, target: string): string | undefined {
  const [path, fragment] = target.split('#', 2) as [string, string | undefined];
  const file = path === '' ? from : resolve(dirname(from), decodeURIComponent(path));
  if (!existsSync(file)) return `no file ${relative(root, file)}`;
  if (fragment === undefined || fragment === '' || !file.endsWith('.md') || statSync(file).isDirectory()) return undefined;
  return anchorsOf(file).has(decodeURIComponent(fragment)) ? undefined : `no anchor #${fragment} in ${relative(root, file)}`;
}

const markdownFiles = [
  ...markdownIn(join(root, 'docs')),
  join(root, 'README.md'),
  ...readmesUnder('packages'),
  ...readmesUnder('reproductions'),
  ...markdownIn(join(root, 'datasets')),
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mjs|cc|h|py|sh)$/.test(entry.name)) out.push(path);
  }
  return out;
}

describe('documentation links', () => {
  it('finds the markdown it checks', () => {
    expect(markdownFiles.length).toBeGreaterThan(20);
    expect(anchorsOf(join(root, 'docs/sparse-ift.md')).has('sparse-wide')).toBe(true);
    expect(slug('`sift plan …` and `sift data verify …`')).toBe('sift-plan--and-sift-data-verify-');
  });

  it('every relative link names an existing file and anchor', () => {
    const broken: string[] = [];
    for (const file of markdownFiles) {
      for (const m of prose(readFileSync(file, 'utf8')).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        const target = m[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …
        const problem = brokenTarget(file, target);
        if (problem) broken.push(`${relative(root, file)}: (${target}) ${problem}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every docs/<page>.md#anchor cited in source exists', () => {
    const broken: string[] = [];
    for (const dir of ['packages', 'reproductions', 'tools']) {
      for (const file of sourceFiles(join(root, dir))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/\bdocs\/([\w-]+\.md)(?:#([\w-]+))?/g)) {
          const problem = brokenTarget(join(root, 'docs', 'x.md'), `${m[1]!}${m[2] ? `#${m[2]}` : ''}`);
          if (problem) broken.push(`${relative(root, file)}: docs/${m[0].slice(5)} ${problem}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
