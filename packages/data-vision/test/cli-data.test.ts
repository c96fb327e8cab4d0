// `sift data verify` (packages/cli/src/commands/data.ts), tested here because its vision half is this package's.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerDataCommand, runDataVerify, detectDataFormat } from '../../cli/src/commands/data.js';
import { encodeExampleByHand, frameByHand, sampleJpeg, tempDir } from './fixtures.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const dir = tempDir('cli');
const shards = join(dir, 'shards');
mkdirSync(shards);
const frames = [0, 1, 2].map((i) => frameByHand(encodeExampleByHand({ 'image/encoded': { bytes: sampleJpeg(i) }, 'image/class/label': { int64: i } })));
writeFileSync(join(shards, 'good.tfrecord'), Buffer.concat(frames));
const bad = Buffer.concat(frames);
bad[bad.length - 10]! ^= 0xff; // last record's data CRC fails
writeFileSync(join(shards, 'bad.tfrecord'), bad);
const good = join(shards, 'good.tfrecord');

describe('sift data verify', () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it('--json prints exactly one JSON object and exits 1 when a record is bad', async () => {
    const c = capture();
    expect(await runDataVerify(shards, { json: true, workers: 1 }, c.io)).toBe(1);
    expect(c.out).toHaveLength(1);
    const report = JSON.parse(c.out[0]!);
    expect(report.format).toBe('tfrecord');
    expect(report.files).toEqual([join(shards, 'bad.tfrecord'), good]);
    expect(report.records).toBe(6);
    expect(report.bad).toEqual([{ file: join(shards, 'bad.tfrecord'), record: 2, reason: expect.stringMatching(/bad data CRC/) }]);
  });

  it('human output lists files, records, classes and each bad record; a clean file exits 0', async () => {
    const c = capture();
    expect(await runDataVerify(shards, { decode: false }, c.io)).toBe(1);
    const text = c.out.join('\n');
    expect(text).toMatch(/files: +2/);
    expect(text).toMatch(/records: 6/);
    expect(text).toMatch(/classes: 3/);
    expect(text).toMatch(/bad\.tfrecord: record 2: bad data CRC/);
    const ok = capture();
    expect(await runDataVerify(good, { format: 'tfrecord', workers: 1 }, ok.io)).toBe(0);
    expect(ok.out.at(-1)).toMatch(/^OK/);
  });

  it('usage errors exit 2: missing path, unknown format, format not detectable', async () => {
    const c = capture();
    expect(await runDataVerify(join(dir, 'nope'), {}, c.io)).toBe(2);
    expect(await runDataVerify(shards, { format: 'jpeg2000' }, c.io)).toBe(2);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(await runDataVerify(empty, {}, c.io)).toBe(2);
    expect(await runDataVerify(empty, { format: 'wds' }, c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(/nope does not exist[\s\S]*unknown format 'jpeg2000'[\s\S]*pass --format[\s\S]*no wds shards/);
  });

  it('text formats go to @sparse-ift/data-text with the same report shape', async () => {
    const t = join(dir, 'wikitext');
    mkdirSync(t);
    writeFileSync(join(t, 'wiki.test.tokens'), ' = Valkyria Chronicles = \n\n Senjō no Valkyria 3 is a game . \n');
    expect(detectDataFormat(t)).toBe('tokens');
    const c = capture();
    expect(await runDataVerify(t, { json: true }, c.io)).toBe(0);
    const report = JSON.parse(c.out[0]!);
    expect(report.format).toBe('tokens');
    expect(report.files).toHaveLength(1);
    expect(report.bad).toEqual([]);
    expect(report.tokens).toBeGreaterThan(0);
  });

  it('registers `data verify` on a commander program and sets the exit code', async () => {
    const program = new Command('sift');
    registerDataCommand(program);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await program.parseAsync(['node', 'sift', 'data', 'verify', shards, '--json', '--no-decode']);
    expect(process.exitCode).toBe(1);
    const printed = write.mock.calls.map((c) => String(c[0])).join('');
    expect(JSON.parse(printed).records).toBe(6);
  });
});

describe('sift data verify usage errors through commander', () => {
  it('throws a CommanderError (sift maps it to exit 2) for a bad --workers value', async () => {
    const program = new Command('sift').exitOverride();
    registerDataCommand(program);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(program.parseAsync(['node', 'sift', 'data', 'verify', '.', '--workers', 'zero'])).rejects.toMatchObject({
      code: 'commander.invalidArgument',
    });
    vi.restoreAllMocks();
  });
});
