// The experiment state folder: refuses to reuse or discard an earlier run's state silently, hands back
// finished runs only on --resume and only of the same experiment, preset and configuration, lets one
// process at a time write an --out folder (a dead owner's lock is taken over), and names a damaged file.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE } from '@sparse-ift/files';
import { prepareStateDir, runIdentity, runRecordProblem } from '../src/index.js';

const SMOKE = { epochs: 1, width: 16 };
const DEFAULT = { epochs: 3, width: 64 };
const ctx = (outDir: string, preset: string, flags: { resume?: boolean; force?: boolean } = {}) => ({ outDir, preset, resume: flags.resume ?? false, force: flags.force ?? false });
const tempOut = (): string => mkdtempSync(join(tmpdir(), 'sift-state-'));

describe('prepareStateDir', () => {
  it('creates <out>/state/finished, records who it belongs to and names the checkpoint of a run', () => {
    const outDir = join(tempOut(), 'out');
    const state = prepareStateDir(ctx(outDir, 'smoke'), { experiment: 'fm', config: SMOKE });
    expect(state.dir).toBe(join(outDir, 'state'));
    expect(existsSync(join(outDir, 'state', 'finished'))).toBe(true);
    expect(state.checkpointFile('run-a')).toBe(join(outDir, 'state', 'checkpoints', 'run-a.bin'));
    expect(state.finished('run-a')).toBeUndefined();
    const identity = JSON.parse(readFileSync(join(outDir, 'state', 'identity.json'), 'utf8'));
    expect(identity).toEqual({ experiment: 'fm', preset: 'smoke', configHash: state.identity.configHash, config: SMOKE });
    state.release();
  });

  it("deletes a run's checkpoint once its record is stored, and only that run's", () => {
    const outDir = tempOut();
    const state = prepareStateDir(ctx(outDir, 'smoke'), { experiment: 'fm', config: SMOKE });
    mkdirSync(join(outDir, 'state', 'checkpoints'), { recursive: true });
    for (const id of ['run-a', 'run-b']) writeFileSync(state.checkpointFile(id), 'weights');
    state.markFinished('run-a', { accuracy: 0.5 });
    expect(existsSync(state.checkpointFile('run-a'))).toBe(false);
    expect(existsSync(state.checkpointFile('run-b'))).toBe(true);
    state.markFinished('run-c', { accuracy: 0.5 }); // a run that never wrote a checkpoint
    expect(existsSync(join(outDir, 'state', 'finished', 'run-c.json'))).toBe(true);
    state.release();
  });

  it('hashes the resolved configuration whatever its key order, and any change to it', () => {
    const a = runIdentity('fm', 'p', { x: 1, y: { b: 2, a: [1, 2] } });
    expect(runIdentity('fm', 'p', { y: { a: [1, 2], b: 2 }, x: 1 })).toEqual(a);
    expect(runIdentity('fm', 'p', { x: 1, y: { b: 2, a: [2, 1] } }).configHash).not.toBe(a.configHash);
    expect(a.configHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a second start needs --resume (reuses finished runs) or --force (discards them)', () => {
    const outDir = tempOut();
    prepareStateDir(ctx(outDir, 'smoke'), { experiment: 'fm', config: SMOKE }).markFinished('run-a', { accuracy: 0.5 });
    const stored = JSON.parse(readFileSync(join(outDir, 'state', 'finished', 'run-a.json'), 'utf8'));
    expect(stored).toEqual({ run: { ...runIdentity('fm', 'smoke', SMOKE), id: 'run-a' }, record: { accuracy: 0.5 } });

    expect(() => prepareStateDir(ctx(outDir, 'smoke'), { experiment: 'fm', config: SMOKE })).toThrow(/--resume.*--force.*--out/);

    const resumed = prepareStateDir(ctx(outDir, 'smoke', { resume: true }), { experiment: 'fm', config: SMOKE });
    expect(resumed.finished<{ accuracy: number }>('run-a')).toEqual({ accuracy: 0.5 });
    expect(resumed.finished('run-b')).toBeUndefined();

    const fresh = prepareStateDir(ctx(outDir, 'smoke', { force: true }), { experiment: 'fm', config: SMOKE });
    expect(fresh.finished('run-a')).toBeUndefined();
    expect(existsSync(join(outDir, 'state', 'finished', 'run-a.json'))).toBe(false);
    expect(existsSync(join(outDir, 'state', 'finished'))).toBe(true);
  });

  it('--resume into the folder of another preset, configuration or experiment refuses, naming both', () => {
    const outDir = tempOut();
    const smoke = prepareStateDir(ctx(outDir, 'smoke'), { experiment: 'fm', config: SMOKE });
    smoke.markFinished('run-a', { accuracy: 0.7 });
    const was = `fm --preset smoke (configuration ${smoke.identity.configHash})`;
    const wants = `fm --preset default (configuration ${runIdentity('fm', 'default', DEFAULT).configHash})`;
    expect(() => prepareStateDir(ctx(outDir, 'default', { resume: true }), { experiment: 'fm', config: DEFAULT })).toThrow(
      `--out ${outDir} holds runs of ${was}, not of ${wants}; --resume would mix them`,
    );
    // Same preset name, edited configuration; another experiment.
    expect(() => prepareStateDir(ctx(outDir, 'smoke', { resume: true }), { experiment: 'fm', config: { ...SMOKE, epochs: 2 } })).toThrow(/holds runs of fm --preset smoke \(configuration [0-9a-f]+\), not of fm --preset smoke \(configuration [0-9a-f]+\)/);
    expect(() => prepareStateDir(ctx(outDir, 'smoke', { resume: true }), { experiment: 'cifar', config: SMOKE })).toThrow(/not of cifar --preset smoke/);
    // The smoke records are untouched; --force starts the default preset over.
    expect(existsSync(join(outDir, 'state', 'finished', 'run-a.json'))).toBe(true);
    prepareStateDir(ctx(outDir, 'default', { force: true }), { experiment: 'fm', config: DEFAULT });
    expect(readdirSync(join(outDir, 'state', 'finished'))).toEqual([]);
  });

  it('a record of another run, a 0-byte record or state of an older version: one error naming the file and what to do', () => {
    const outDir = tempOut();
    const state = prepareStateDir(ctx(outDir, 'smoke'), { experiment: 'fm', config: SMOKE });
    state.markFinished('run-a', { accuracy: 0.5 });
    const resumed = prepareStateDir(ctx(outDir, 'smoke', { resume: true }), { experiment: 'fm', config: SMOKE });
    const file = join(outDir, 'state', 'finished', 'run-b.json');
    writeFileSync(file, readFileSync(join(outDir, 'state', 'finished', 'run-a.json'))); // copied by hand
    expect(() => resumed.finished('run-b')).toThrow(`finished-run record ${file} belongs to run run-a of fm --preset smoke`);
    writeFileSync(file, '');
    expect(() => resumed.finished('run-b')).toThrow(`finished-run record ${file} is damaged (Unexpected end of JSON input); delete it (that run is then trained again), or pass --force to start over`);
    writeFileSync(file, JSON.stringify({ run: { ...resumed.identity, id: 'run-b' }, record: { id: 'run-b' } }));
    expect(() => resumed.finished('run-b', runRecordProblem)).toThrow(`finished-run record ${file} is damaged: its record lacks test, best, history, seed, sparsity`);
    writeFileSync(join(outDir, 'state', 'identity.json'), '{"experiment": "fm", "pre');
    expect(() => prepareStateDir(ctx(outDir, 'smoke', { resume: true }), { experiment: 'fm', config: SMOKE })).toThrow(/state identity .*identity\.json is damaged/);

    const legacy = tempOut();
    prepareStateDir(ctx(legacy, 'smoke'), { experiment: 'fm', config: SMOKE }).markFinished('run-a', {});
    rmSync(join(legacy, 'state', 'identity.json'));
    expect(() => prepareStateDir(ctx(legacy, 'smoke', { resume: true }), { experiment: 'fm', config: SMOKE })).toThrow(/written by an older sparse-ift.*pass --force to start over/);
  });

  it('removes temp files of killed writers on start, and says so', () => {
    const outDir = tempOut();
    prepareStateDir(ctx(outDir, 'smoke'), { experiment: 'fm', config: SMOKE }).markFinished('run-a', {});
    const dead = 2 ** 22 + 7;
    const leftovers = [join(outDir, 'state', 'finished', `run-b.json.sift-tmp-${dead}`), join(outDir, `results.json.sift-tmp-${dead}`)];
    for (const f of leftovers) writeFileSync(f, '');
    const lines: string[] = [];
    prepareStateDir({ ...ctx(outDir, 'smoke', { resume: true }), log: (l: string) => lines.push(l) }, { experiment: 'fm', config: SMOKE });
    expect(leftovers.map(existsSync)).toEqual([false, false]);
    expect(lines.sort()).toEqual(leftovers.map((f) => `removed ${f}, left by a process that was killed while writing it`).sort());
  });
});

describe('one process per --out folder', () => {
  /** A process that takes the lock of `outDir` through prepareStateDir and then waits (or is killed). */
  async function holder(outDir: string): Promise<ReturnType<typeof spawn>> {
    const script = `
      import { prepareStateDir } from ${JSON.stringify(resolve(import.meta.dirname, '../src/index.ts'))};
      prepareStateDir({ outDir: ${JSON.stringify(outDir)}, preset: 'smoke', resume: false, force: true }, { experiment: 'fm', config: {} });
      process.stdout.write('locked\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((done, fail) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && done());
      child.on('exit', (code) => fail(new Error(`holder exited early (${code})`)));
    });
    return child;
  }

  it('a second process is refused, --force included, naming the owner; after a kill -9 its stale lock is taken over', async () => {
    const outDir = tempOut();
    const child = await holder(outDir);
    try {
      for (const flags of [{}, { resume: true }, { force: true }]) {
        expect(() => prepareStateDir(ctx(outDir, 'smoke', flags), { experiment: 'fm', config: {} })).toThrow(
          new RegExp(`${outDir} is being written by process ${child.pid} on .* wait for it to finish or stop it, or choose another folder`),
        );
      }
      expect(existsSync(join(outDir, 'state', 'identity.json'))).toBe(true); // --force deleted nothing
    } finally {
      child.kill('SIGKILL');
      await new Promise((done) => child.on('exit', done));
    }
    const lines: string[] = [];
    const state = prepareStateDir({ ...ctx(outDir, 'smoke', { resume: true }), log: (l: string) => lines.push(l) }, { experiment: 'fm', config: {} });
    expect(lines[0]).toMatch(new RegExp(`^removed the lock of process ${child.pid}, which no longer runs`));
    expect(JSON.parse(readFileSync(join(outDir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    state.release();
    expect(existsSync(join(outDir, LOCK_FILE))).toBe(false);
  });

  it('an unreadable lock file is refused, naming it', () => {
    const outDir = tempOut();
    writeFileSync(join(outDir, LOCK_FILE), 'garbage');
    expect(() => prepareStateDir(ctx(outDir, 'smoke'), { experiment: 'fm', config: {} })).toThrow(`${outDir} is locked by ${join(outDir, LOCK_FILE)}, which cannot be read; if no sift process writes there, delete it`);
  });
});
