// The native addon's install-time failure, summarised at first use: build-native.mjs (as npm's install
// script runs it, output hidden) leaves its reason in build/install-failure.txt, and the loader's message
// names it and a fix that works in a consumer project. Run on a copy of the script in a temp folder.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { notBuiltReason } from '../src/native.js';

const script = join(import.meta.dirname, '..', 'native', 'build-native.mjs');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function nativeFolder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sift-native-install-'));
  dirs.push(dir);
  copyFileSync(script, join(dir, 'build-native.mjs'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function install(dir: string, env: Record<string, string> = {}): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [join(dir, 'build-native.mjs'), '--tolerate-failure'], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const addonIn = (dir: string) => join(dir, 'build', 'Release', 'sparse_ift_native.node');

describe('native addon: install-time failure summarised at first use', () => {
  it('a refused build exits 0 at install and its reason reaches the loader', () => {
    const dir = nativeFolder();
    const r = install(dir, { SPARSE_IFT_SKIP_NATIVE: '1' });
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'build', 'install-failure.txt'), 'utf8')).toBe('SPARSE_IFT_SKIP_NATIVE=1\n');
    expect(notBuiltReason(addonIn(dir))).toBe(
      'not built when the package was installed: SPARSE_IFT_SKIP_NATIVE=1. Fix that, then run `npm rebuild @sparse-ift/backend --foreground-scripts`',
    );
  });

  it.runIf(process.platform === 'linux' && ['/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h', '/usr/include/openblas/cblas.h', '/usr/include/cblas.h'].some(existsSync))(
    "a compiler error: the loader's message quotes it",
    () => {
      const dir = nativeFolder({
        'binding.gyp': JSON.stringify({ targets: [{ target_name: 'sparse_ift_native', sources: ['broken.cc'] }] }),
        'broken.cc': 'int main() { return undeclared_thing; }\n',
      });
      const r = install(dir);
      expect(r.status).toBe(0);
      expect(notBuiltReason(addonIn(dir))).toMatch(/^not built when the package was installed: node-gyp rebuild exited with \d+: .*broken\.cc.*error.*undeclared_thing/);
    },
  );

  it('no install script ran (--ignore-scripts, or npm blocked an unapproved one): the message says how to approve and rebuild', () => {
    expect(notBuiltReason(addonIn(nativeFolder()))).toMatch(/install script has not run .*npm install-scripts approve @sparse-ift\/backend.*npm rebuild @sparse-ift\/backend --foreground-scripts/);
  });
});
