#!/usr/bin/env node
// Extracts what the READMEs tell a user to type, as written: every ```ts block of the packages' READMEs
// (examples/<package>-<n>.ts), every `npm i …` line of their ```bash blocks that installs an @sparse-ift
// package (install.sh), and the root README's consumer quick start, the ```bash block under
// "## Use it in your own project" (quickstart.sh).
// Usage: extract.mjs <repo-root> <out-dir>. Prints one line per example: <file> <README>#<block>.
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const [root, out] = process.argv.slice(2);
if (!root || !out) throw new Error('usage: extract.mjs <repo-root> <out-dir>');

/** Fenced blocks of a markdown file: { lang, code, heading } in order (heading: the last ## above it). */
function blocks(markdown) {
  const found = [];
  let heading = '';
  let open;
  for (const line of markdown.split('\n')) {
    if (open) {
      if (/^```\s*$/.test(line)) {
        found.push(open);
        open = undefined;
      } else open.code += `${line}\n`;
    } else if (/^```/.test(line)) open = { lang: line.slice(3).trim(), code: '', heading };
    else if (/^## /.test(line)) heading = line.slice(3).trim();
  }
  if (open) throw new Error(`unclosed code block (${open.lang}) under '${open.heading}'`);
  return found;
}

mkdirSync(join(out, 'examples'), { recursive: true });
const installs = [];
const listed = [];
for (const group of ['packages', 'reproductions']) {
  for (const name of readdirSync(join(root, group)).sort()) {
    const readme = join(root, group, name, 'README.md');
    if (!existsSync(readme)) continue;
    const prefix = group === 'reproductions' ? `repro-${name}` : name;
    let n = 0;
    blocks(readFileSync(readme, 'utf8')).forEach((b, i) => {
      if (b.lang === 'ts' || b.lang === 'typescript') {
        const file = join('examples', `${prefix}-${++n}.ts`);
        writeFileSync(join(out, file), `// ${relative(root, readme)}, code block ${i + 1}\n${b.code}`);
        listed.push(`${file} ${relative(root, readme)}#${i + 1}`);
      } else if (['bash', 'sh', 'shell'].includes(b.lang)) {
        // Only the lines that install our packages (others, e.g. tfjs-node's, download from elsewhere).
        for (const line of b.code.split('\n')) if (/^npm (i|install) .*@sparse-ift\//.test(line.trim())) installs.push(line.trim().replace(/\s+#.*$/, ''));
      }
    });
  }
}
writeFileSync(join(out, 'install.sh'), `set -euxo pipefail\n${[...new Set(installs)].join('\n')}\n`);

const quick = blocks(readFileSync(join(root, 'README.md'), 'utf8')).find((b) => b.heading === 'Use it in your own project' && ['bash', 'sh'].includes(b.lang));
if (!quick) throw new Error('README.md has no ```bash block under "## Use it in your own project"');
writeFileSync(join(out, 'quickstart.sh'), `set -euxo pipefail\n${quick.code}`);
process.stdout.write(`${listed.join('\n')}\n`);
