#!/usr/bin/env node
// A read-only npm registry for the @sparse-ift scope, serving the tarballs in one folder, so a consumer
// project outside the workspace installs the packed packages exactly as it would from npmjs.com:
// `npm i @sparse-ift/cli` resolves our packages here (npm's `@sparse-ift:registry` setting) and every
// other dependency from the usual registry. Usage: registry.mjs <tarball-dir> <port-file>; prints nothing,
// writes the port it listens on to <port-file>, and serves until killed.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const [dir, portFile] = process.argv.slice(2);
if (!dir || !portFile) throw new Error('usage: registry.mjs <tarball-dir> <port-file>');

/** name → { version → manifest } from each tarball's package.json. */
const packages = new Map();
const files = new Map();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.tgz'))) {
  const bytes = readFileSync(join(dir, file));
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', join(dir, file), 'package/package.json'], { encoding: 'utf8' }));
  files.set(file, bytes);
  const versions = packages.get(manifest.name) ?? {};
  versions[manifest.version] = {
    ...manifest,
    _file: file,
    dist: {
      shasum: createHash('sha1').update(bytes).digest('hex'),
      integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
    },
  };
  packages.set(manifest.name, versions);
}

const server = createServer((req, res) => {
  const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
  const base = `http://127.0.0.1:${server.address().port}`;
  if (path.startsWith('/-/tarballs/') && files.has(path.slice('/-/tarballs/'.length))) {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(files.get(path.slice('/-/tarballs/'.length)));
    return;
  }
  const versions = packages.get(path.slice(1));
  if (!versions) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `${path.slice(1)} is not among the packed packages` }));
    return;
  }
  const body = { name: path.slice(1), 'dist-tags': {}, versions: {} };
  for (const [version, { _file, dist, ...manifest }] of Object.entries(versions)) {
    body.versions[version] = { ...manifest, dist: { ...dist, tarball: `${base}/-/tarballs/${encodeURIComponent(_file)}` } };
    body['dist-tags'].latest = version;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
});
server.listen(0, '127.0.0.1', () => writeFileSync(portFile, String(server.address().port)));
