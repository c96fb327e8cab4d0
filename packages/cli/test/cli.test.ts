// The CLI's exit codes and messages, run in-process through `main(argv)` (same code as the bin).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerExperiment } from '@sparse-ift/reproduce';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/index.js';
import { mountTmpfs, unmount } from '../../files/test/helpers.js';
import { initBackend } from '@sparse-ift/backend';
import { sift } from './run-sift.js';
// Register the experiment from its sources: until vitest.config.ts maps @sparse-ift/repro-* to
// reproductions/*/src, the CLI's own import of the package cannot resolve in tests (it warns and goes on).
import '../../../reproductions/fashion-mnist/src/index.js';

afterEach(() => vi.restoreAllMocks());

describe('sift usage errors exit 2 and say what is valid', () => {
  it('unknown experiment lists the valid ones', async () => {
    const r = await sift('reproduce', 'mnist-fashion');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toMatch(/unknown experiment 'mnist-fashion'; valid experiments: .*fashion-mnist/);
  });

  it('unknown preset lists the presets', async () => {
    const r = await sift('reproduce', 'fashion-mnist', '--preset', 'huge');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain("unknown preset 'huge' for fashion-mnist; valid presets: smoke, default, full, cnn");
  });

  it.each(['0', '21', 'two', '1.5', ''])('--seeds %j names the flag and the range', async (value) => {
    const r = await sift('reproduce', 'fashion-mnist', '--preset', 'smoke', '--seeds', value);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain(`--seeds '${value}' must be an integer from 1 to 20`);
  });

  it('a bad --backend names the allowed ones', async () => {
    const r = await sift('reproduce', 'fashion-mnist', '--backend', 'cuda');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain("--backend 'cuda' is not a backend; use one of: auto, webgpu, tensorflow-gpu, native, tensorflow, wasm, cpu");
  });

  it('a missing --data folder is named', async () => {
    const r = await sift('reproduce', 'fashion-mnist', '--data', '/nonexistent/fmnist');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain("--data '/nonexistent/fmnist' is not a folder");
  });

  it('unknown options and missing arguments are usage errors', async () => {
    expect((await sift('reproduce', 'fashion-mnist', '--sedes', '2')).code).toBe(EXIT_USAGE);
    expect((await sift('reproduce')).code).toBe(EXIT_USAGE);
    expect((await sift('frobnicate')).code).toBe(EXIT_USAGE);
  });

  it('--help works everywhere and exits 0', async () => {
    for (const args of [['--help'], ['reproduce', '--help'], ['list', '--help'], ['doctor', '--help']]) {
      const r = await sift(...args);
      expect(r.code).toBe(EXIT_OK);
      expect(r.stdout).toMatch(/Usage: sift/);
    }
  });
});

describe('sift list and doctor', () => {
  it('list --json gives the experiments and their presets', async () => {
    const r = await sift('list', '--json');
    expect(r.code).toBe(EXIT_OK);
    const parsed = JSON.parse(r.stdout) as { experiments: { name: string; defaultPreset: string; presets: { name: string }[] }[] };
    const fm = parsed.experiments.find((e) => e.name === 'fashion-mnist')!;
    expect(fm.defaultPreset).toBe('default');
    expect(fm.presets.map((p) => p.name)).toEqual(['smoke', 'default', 'full', 'cnn']);
  });

  it('doctor --json reports the backend, its reason and where Fashion-MNIST is', async () => {
    const r = await sift('doctor', '--json', '--backend', 'wasm');
    expect(r.code).toBe(EXIT_OK);
    const report = JSON.parse(r.stdout) as { backend: { name: string; reason: string; threads: number }; dataSets: { name: string; found: boolean; location?: string }[] };
    expect(report.backend.name).toBe('wasm');
    expect(report.backend.reason).toContain('--backend wasm');
    const auto = JSON.parse((await sift('doctor', '--json')).stdout) as { backend: { name: string; unavailable: { backend: string; why: string }[] } };
    expect(auto.backend.unavailable).toContainEqual({ backend: 'tensorflow-gpu', why: '@tensorflow/tfjs-node-gpu not installed; add it with `npm i @tensorflow/tfjs-node-gpu`' });
    // tfjs-node comes after the native backend: auto tries it only where the addon is not built.
    if (auto.backend.name !== 'native') {
      expect(auto.backend.unavailable).toContainEqual({ backend: 'tensorflow', why: '@tensorflow/tfjs-node not installed; add it with `npm i @tensorflow/tfjs-node`' });
    }
    expect(report.backend.threads).toBeGreaterThanOrEqual(1);
    const fm = report.dataSets.find((d) => d.name === 'fashion-mnist')!;
    // Debian's dataset-fashion-mnist is installed on the CI image.
    expect(fm).toEqual(expect.objectContaining({ found: true, location: '/usr/share/datasets/fashion-mnist' }));
  });

  it('doctor says each reason once, with no absolute path of this machine', async () => {
    const r = await sift('doctor');
    expect(r.code).toBe(EXIT_OK);
    const lines = r.stdout.trimEnd().split('\n');
    // tfjs-node(-gpu) is not installed here: auto passes over it (tfjs-node only where the native addon is not
    // built, as native comes first), and says so in one line, without Node's "imported from <file>".
    const native = lines[0]!.startsWith('backend: native');
    expect(lines.filter((l) => l.includes('@tensorflow/tfjs-node not installed'))).toEqual(native ? [] : ['  not used: tensorflow: @tensorflow/tfjs-node not installed; add it with `npm i @tensorflow/tfjs-node`']);
    expect(lines.filter((l) => l.includes('tfjs-node-gpu not installed'))).toHaveLength(1);
    expect(lines[0]).toMatch(native ? /\| auto: (webgpu, )?tensorflow-gpu unavailable$/ : /\| auto: (webgpu, )?tensorflow-gpu, tensorflow unavailable$/); // the headline names them, the lines below say why
    expect(r.stdout).not.toContain(process.cwd());
    expect(r.stdout).not.toMatch(/\/node_modules\//);
    expect(lines).toContain('  Dawn: node_modules/webgpu');
    for (const line of lines) expect(lines.filter((l) => l === line).length, line).toBe(1);
  });

  it('doctor --json explains every GPU path: what was found, or what is missing and the fix', async () => {
    const r = await sift('doctor', '--json', '--backend', 'wasm');
    const { gpuPaths } = JSON.parse(r.stdout) as { gpuPaths: { path: string; usable: boolean; lines: string[]; fixes: string[] }[] };
    expect(gpuPaths.map((p) => p.path)).toEqual(['webgpu', 'tensorflow-gpu']);
    for (const p of gpuPaths) if (!p.usable) expect(p.fixes.length, `${p.path}: a fix is given`).toBeGreaterThan(0);
    const webgpu = gpuPaths[0]!;
    expect(webgpu.lines.some((l) => l.startsWith('Vulkan loader:'))).toBe(true);
    expect(webgpu.lines.filter((l) => l.startsWith('adapter:')).length).toBe(3); // GPU, software Vulkan, software OpenGL ES
    const tfGpu = gpuPaths[1]!;
    if (!tfGpu.usable) expect(tfGpu.fixes.join(' ')).toMatch(/CUDA 11\.2 and cuDNN 8\.1/);
  });
});

describe('sift reproduce', () => {
  it('runs the smoke preset, prints JSON, and never overwrites earlier results', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sift-cli-'));
    const first = await sift('reproduce', 'fashion-mnist', '--preset', 'smoke', '--out', out, '--backend', 'wasm', '--json');
    expect(first.code).toBe(EXIT_OK);
    const summary = JSON.parse(first.stdout) as { files: Record<string, string>; rows: { family: string }[] };
    expect(summary.files['results.json']).toBe(join(out, 'results.json'));
    expect(summary.rows).toHaveLength(7);
    const runs = (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { runs: { id: string; exportDir: string; test: { accuracy: number; loss: number } }[] }).runs;
    expect(runs).toHaveLength(7);

    // sift evaluate reads each exported model as it is and scores the smoke preset's 1,000 test images as
    // training did (its model.json records the 2×2 pooling and the training set's mean and std).
    for (const run of [runs[0]!, runs[3]!]) {
      const evaluated = await sift('evaluate', join(out, run.exportDir), '--limit', '1000', '--batch-size', '1000', '--backend', 'wasm', '--json');
      expect(evaluated.code, evaluated.stderr).toBe(EXIT_OK);
      const r = JSON.parse(evaluated.stdout) as { dataset: string; images: number; accuracy: number; loss: number };
      expect(r).toMatchObject({ dataset: 'fashion-mnist', images: 1000, accuracy: run.test.accuracy, loss: run.test.loss });
    }

    const again = await sift('reproduce', 'fashion-mnist', '--preset', 'smoke', '--out', out, '--backend', 'wasm', '--json');
    expect(again.code).toBe(EXIT_FAILURE);
    expect(again.stderr).toMatch(/holds checkpoints or finished runs of an earlier run.*--resume.*--force/);

    const resumed = await sift('reproduce', 'fashion-mnist', '--preset', 'smoke', '--out', out, '--backend', 'wasm', '--json', '--resume');
    expect(resumed.code).toBe(EXIT_OK);
    expect((JSON.parse(resumed.stdout) as { files: Record<string, string> }).files['results.json']).toBe(join(out, 'results-2.json'));
  });
});

describe('sift at the edges', () => {
  it('--version is the package version', async () => {
    const own = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
    const r = await sift('--version');
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout.trim()).toBe(own.version);
  });

  it('an empty --out, or one that is a file, is a usage error naming it', async () => {
    const empty = await sift('reproduce', 'fashion-mnist', '--preset', 'smoke', '--out', '');
    expect(empty.code).toBe(EXIT_USAGE);
    expect(empty.stderr).toContain("sift: --out '' is empty; pass the folder for results and checkpoints (default: runs/fashion-mnist-smoke)");
    const file = join(mkdtempSync(join(tmpdir(), 'sift-cli-')), 'results.json');
    writeFileSync(file, '{}');
    const notFolder = await sift('reproduce', 'fashion-mnist', '--preset', 'smoke', '--out', file);
    expect(notFolder.code).toBe(EXIT_USAGE);
    expect(notFolder.stderr).toContain(`sift: --out ${file}: ${file} is a file, not a folder`);
  });

  it('an --out on a read-only file system is a usage error naming it and the fix (a read-only tmpfs, where mounting is allowed)', async (ctx) => {
    const ro = mountTmpfs(64, true);
    if (!ro) return ctx.skip();
    try {
      const r = await sift('reproduce', 'fashion-mnist', '--preset', 'smoke', '--out', join(ro, 'runs'));
      expect(r.code).toBe(EXIT_USAGE);
      expect(r.stderr.trim()).toBe(`sift: --out ${join(ro, 'runs')}: cannot write into ${join(ro, 'runs')}: the file system is read-only (EROFS); write to a folder on a writable disk`);
    } finally {
      unmount(ro);
    }
  });

  it('a system error during a command (ENOSPC, EROFS, EACCES) is one line naming the path and the fix, exit 1', async () => {
    registerExperiment({
      name: 'test-disk-full',
      description: 'fails as a full disk does',
      presets: { only: { description: 'x', defaultSeeds: 1 } },
      defaultPreset: 'only',
      run: () => Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, write '/runs/x/results.json'"), { code: 'ENOSPC', path: '/runs/x/results.json' })),
    });
    const out = mkdtempSync(join(tmpdir(), 'sift-cli-'));
    const r = await sift('reproduce', 'test-disk-full', '--out', out, '--backend', 'cpu');
    expect(r.code).toBe(EXIT_FAILURE);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('sift:'))).toEqual([
      'sift: cannot write /runs/x/results.json: no space left on the device (ENOSPC); free some space on that disk or write somewhere else',
    ]);
  });

  it.each([
    ['resnet-mini-cifar', 'widht=3', "unknown option 'widht' for model 'resnet-mini-cifar'"],
    ['gpt-nano', 'sequenceLenght=8', "unknown option 'sequenceLenght' for model 'gpt-nano'; did you mean 'sequenceLength'?"],
    ['vit-mini-28', 'numClases=3', "unknown option 'numClases' for model 'vit-mini-28'; did you mean 'numClasses'?"],
    ['mixer-mini-28', 'numClases=3', "unknown option 'numClases' for model 'mixer-mini-28'"],
  ])('every zoo refuses an unknown --opt: %s %s', async (model, opt, message) => {
    const r = await sift('plan', model, '--family', 'sparse-wide', '--sparsity', '0.5', '--opt', opt);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain(message);
  });

  it('an option value the model refuses is a usage error (exit 2) that names the option', async () => {
    const r = await sift('plan', 'gpt-nano', '--opt', 'sequenceLength=-3');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain('sequenceLength must be an integer in [1, ');
  });

  it('a reader that closes the pipe early (sift list | head -1) ends the writer quietly with exit 0', () => {
    // The writer writes until the pipe breaks; without the handler the EPIPE is an uncaught exception.
    const writer = join(mkdtempSync(join(tmpdir(), 'sift-epipe-')), 'writer.mts');
    writeFileSync(
      writer,
      `import { endQuietlyOnBrokenPipe } from ${JSON.stringify(join(import.meta.dirname, '..', 'src', 'output.ts'))};\n` +
        'endQuietlyOnBrokenPipe();\n' +
        "setInterval(() => process.stdout.write('a line of output\\n'), 2);\n",
    );
    const script = `node --import tsx ${JSON.stringify(writer)} | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd: join(import.meta.dirname, '..'), timeout: 60_000 });
    expect(r.stdout).toBe('a line of output\n');
    expect(r.stderr).toBe('exit=0\n');
  });
});

describe('sift reproduce --backend webgpu', () => {
  // On the software adapter in CI (tools/setup.sh installs it): the whole smoke grid, end to end.
  it('runs the fashion-mnist smoke preset with every row within 2 accuracy points of wasm, and records the adapter', async (ctx) => {
    try {
      await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
    } catch (e) {
      if (process.env['CI']) throw e;
      console.warn(`webgpu reproduce test skipped: ${(e as Error).message}`);
      ctx.skip();
    }
    const run = async (backend: string) => {
      const out = mkdtempSync(join(tmpdir(), `sift-cli-${backend}-`));
      const r = await sift('reproduce', 'fashion-mnist', '--preset', 'smoke', '--out', out, '--backend', backend, '--json');
      expect(r.code, r.stderr).toBe(EXIT_OK);
      return JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
        backend: { name: string; adapter?: { software: boolean; limits: { maxStorageBufferBindingSize: number } } };
        rows: { family: string; sparsity: number; method: string; mean: number }[];
      };
    };
    const webgpu = await run('webgpu');
    const wasm = await run('wasm');
    expect(webgpu.backend.name).toBe('webgpu');
    expect(webgpu.backend.adapter?.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(webgpu.rows.length).toBe(wasm.rows.length);
    expect(wasm.rows[0]!.mean, 'scores are in percent').toBeGreaterThan(1);
    webgpu.rows.forEach((row, i) => {
      const other = wasm.rows[i]!;
      expect([row.family, row.sparsity, row.method]).toEqual([other.family, other.sparsity, other.method]);
      // The row's score: test accuracy in percent.
      expect(Math.abs(row.mean - other.mean), `${row.family} ${row.method}: webgpu ${row.mean} % vs wasm ${other.mean} %`).toBeLessThanOrEqual(2);
    });
  });
});
