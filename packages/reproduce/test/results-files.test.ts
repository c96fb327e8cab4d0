import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nonClobberingPath, portablePaths } from '../src/index.js';

describe('nonClobberingPath', () => {
  it('writes beside an existing file unless forced', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sift-out-'));
    const file = join(dir, 'results.json');
    expect(nonClobberingPath(file, false)).toBe(file);
    writeFileSync(file, '{}');
    expect(nonClobberingPath(file, false)).toBe(join(dir, 'results-2.json'));
    writeFileSync(join(dir, 'results-2.json'), '{}');
    expect(nonClobberingPath(file, false)).toBe(join(dir, 'results-3.json'));
    expect(nonClobberingPath(file, true)).toBe(file);
  });
});

describe('portablePaths', () => {
  const places = { outDir: '/home/ann/proj/runs/fm', cwd: '/home/ann/proj', home: '/home/ann' };

  it("rewrites this machine's folders: installed packages, the --out folder, the working folder, home", () => {
    const reason =
      "tensorflow: @tensorflow/tfjs-node fails to load (Cannot find module '/home/ann/proj/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node')";
    expect(portablePaths(reason, places)).toBe(
      "tensorflow: @tensorflow/tfjs-node fails to load (Cannot find module 'node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node')",
    );
    expect(portablePaths('Dawn: /opt/ci/x/node_modules/webgpu', places)).toBe('Dawn: node_modules/webgpu');
    expect(portablePaths('model in /home/ann/proj/runs/fm/models/a-seed0, data in /home/ann/proj/data/fm, cache /home/ann/.cache/s', places)).toBe(
      'model in models/a-seed0, data in data/fm, cache ~/.cache/s',
    );
    expect(portablePaths('{"source": "/home/ann/proj", "out": "/home/ann/proj/runs/fm"}', places)).toBe('{"source": ".", "out": "."}');
    expect(portablePaths('home: /home/ann; other: /home/anna/x', places)).toBe('home: ~; other: /home/anna/x'); // a folder, not a prefix of a name
  });

  it('leaves relative paths, system locations and URLs as they are', () => {
    for (const text of ['data: /usr/share/datasets/fashion-mnist', 'src/node_modules/x', 'see https://example.org/home/ann/proj', 'x=./node_modules/y']) {
      expect(portablePaths(text, places)).toBe(text);
    }
  });
});
