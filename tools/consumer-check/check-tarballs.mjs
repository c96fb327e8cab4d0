#!/usr/bin/env node
// What every packed tarball must hold: the repository's LICENSE, and for each source map (.js.map,
// .d.ts.map) every source it names. Usage: check-tarballs.mjs <repo-root> <tarball-dir>.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

const [root, dir] = process.argv.slice(2);
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const problems = [];
const tarballs = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
for (const file of tarballs) {
  const tgz = join(dir, file);
  const entries = new Set(execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').filter(Boolean));
  const read = (entry) => execFileSync('tar', ['-xzOf', tgz, entry], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (!entries.has('package/LICENSE')) problems.push(`${file}: no LICENSE`);
  else if (read('package/LICENSE') !== license) problems.push(`${file}: LICENSE differs from the repository's`);
  const maps = [...entries].filter((e) => e.endsWith('.map'));
  for (const map of maps) {
    for (const source of JSON.parse(read(map)).sources ?? []) {
      const target = posix.normalize(posix.join(dirname(map), source));
      if (!entries.has(target)) problems.push(`${file}: ${map} points at ${source}, which is not in the tarball (a build output whose source is gone? delete the dist folders and npm run build)`);
    }
  }
  console.log(`${file}: LICENSE, ${maps.length} source maps checked`);
}
if (tarballs.length === 0) problems.push(`no tarballs in ${dir}`);
if (problems.length > 0) {
  console.error(problems.slice(0, 20).join('\n'));
  process.exit(1);
}
