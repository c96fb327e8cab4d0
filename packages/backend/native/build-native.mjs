#!/usr/bin/env node
// Builds the optional native addon (native/build/Release/sparse_ift_native.node) with node-gyp.
// Needs a C++ compiler, make, python3 and OpenBLAS headers (Debian: `apt install g++ make python3
// libopenblas-dev`); with oneDNN's headers too (`libdnnl-dev`) convolutions run on oneDNN, else on
// im2col + OpenBLAS. Usage: `node native/build-native.mjs` in the package folder (fails loudly; in a
// project that installed the package: `npm rebuild @sparse-ift/backend --foreground-scripts`), or with
// --tolerate-failure (install time: prints why, exits 0, and everything still trains on wasm). npm hides
// install-script output, so a tolerated failure is also written to build/install-failure.txt, which the
// package reads at first use to say why the addon is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tolerate = process.argv.includes('--tolerate-failure');

const failureFile = join(here, 'build', 'install-failure.txt');

function fail(why) {
  const msg = `@sparse-ift/backend: native addon not built: ${why}. Training still works on wasm alone.`;
  if (tolerate) {
    console.warn(msg);
    try {
      mkdirSync(dirname(failureFile), { recursive: true });
      writeFileSync(failureFile, `${why}\n`);
    } catch {
      /* a read-only install: the message above is all there is */
    }
    process.exit(0);
  }
  console.error(msg);
  process.exit(1);
}

if (process.env.SPARSE_IFT_SKIP_NATIVE === '1') fail('SPARSE_IFT_SKIP_NATIVE=1');
if (process.platform !== 'linux') fail(`only Linux is supported so far (this is ${process.platform})`);
const blasHeaders = ['/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h', '/usr/include/openblas/cblas.h', '/usr/include/cblas.h'];
if (!blasHeaders.some((p) => existsSync(p))) fail('OpenBLAS headers not found (install libopenblas-dev)');

// node-gyp: the one on PATH, else the copy bundled with npm.
function findNodeGyp() {
  const which = spawnSync('node-gyp', ['--version'], { stdio: 'ignore' });
  if (which.status === 0) return ['node-gyp'];
  const npmCli = process.env.npm_execpath;
  const candidates = [];
  if (npmCli) candidates.push(join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    const require = createRequire(import.meta.url);
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed as a package */
  }
  const npmBin = spawnSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' }).stdout.trim();
  if (npmBin) candidates.push(join(dirname(npmBin), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find((p) => existsSync(p));
  return found ? [process.execPath, found] : undefined;
}

const gyp = findNodeGyp();
if (!gyp) fail('node-gyp not found (npm i -g node-gyp)');
const args = [...gyp.slice(1), 'rebuild'];
// Use local Node headers when present (no download): Debian's nodejs-dev puts them in /usr/include/node.
const nodedir = process.env.npm_config_nodedir || (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined);
if (nodedir) args.push(`--nodedir=${nodedir}`);
// Output through pipes (and passed on), so a failure can name the compiler's first errors.
const run = spawnSync(gyp[0], args, { cwd: here, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
process.stdout.write(run.stdout ?? '');
process.stderr.write(run.stderr ?? '');
if (run.status !== 0) {
  const lines = `${run.stdout ?? ''}\n${run.stderr ?? ''}`.split('\n').map((l) => l.trim());
  const errors = lines.filter((l) => /\berror\b/i.test(l) && !/^gyp (ERR|info)/.test(l)).slice(0, 3);
  const detail = errors.length > 0 ? errors : lines.filter(Boolean).slice(-3);
  fail(`node-gyp rebuild exited with ${run.status ?? run.signal}${detail.length > 0 ? `: ${detail.join(' | ')}` : ''}`);
}
const built = join(here, 'build', 'Release', 'sparse_ift_native.node');
if (!existsSync(built)) fail(`${built} missing after the build`);
const withDnnl = existsSync('/usr/include/oneapi/dnnl/dnnl.hpp');
console.log(`@sparse-ift/backend: built ${built} (${withDnnl ? 'oneDNN convolutions' : 'no oneDNN headers (libdnnl-dev): convolutions on im2col + OpenBLAS'})`);
