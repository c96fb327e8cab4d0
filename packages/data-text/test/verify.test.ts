import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countWords, tokenizeFiles, verifyTextDataset, type VerifyReport } from '@sparse-ift/data-text';
import { arrowTable, tempDir, writeArrow, writeParquet, writeText } from './fixtures.js';

// 3 records, 3 + 0 + 3 = 6 words (hand-counted: '=', 'A', '=' and 'x', 'y', 'z').
const GOOD = [' = A = \n', '', ' x y z\n'];

describe('verifyTextDataset', () => {
  it('counts files, records and words of good Arrow shards (stream and file) with nothing bad', async () => {
    const dir = tempDir();
    writeArrow(join(dir, 'train', 'data-00000-of-00002.arrow'), arrowTable({ text: GOOD }), 'stream');
    writeArrow(join(dir, 'train', 'data-00001-of-00002.arrow'), arrowTable({ text: GOOD }, 2), 'file');
    const report: VerifyReport = await verifyTextDataset(dir, { format: 'arrow' });
    expect(report).toEqual({
      format: 'arrow',
      files: [join(dir, 'train', 'data-00000-of-00002.arrow'), join(dir, 'train', 'data-00001-of-00002.arrow')],
      records: 6,
      tokens: 12,
      bad: [],
    });
  });

  it('reports a null record, a missing column and a truncated stream by file and record, and goes on', async () => {
    const dir = tempDir();
    const nulls = join(dir, 'a-nulls.arrow');
    writeArrow(nulls, arrowTable({ text: ['a\n', null, 'b\n', null] }, 3), 'stream');
    const noText = join(dir, 'b-no-text.arrow');
    writeArrow(noText, arrowTable({ content: ['a'] }), 'stream');
    const whole = writeArrow(join(dir, 'c-whole.arrow'), arrowTable({ text: GOOD }), 'stream');
    const truncated = join(dir, 'd-truncated.arrow');
    writeFileSync(truncated, whole.subarray(0, whole.length - 8));
    const report = await verifyTextDataset(dir, { format: 'arrow' });
    expect(report.files.length).toBe(4);
    expect(report.records).toBe(4 + 0 + 3 + 0);
    expect(report.bad.map(({ file, record }) => ({ file, record }))).toEqual([
      { file: nulls, record: 1 },
      { file: nulls, record: 3 },
      { file: noText, record: 0 },
      { file: truncated, record: 0 },
    ]);
    expect(report.bad[0]!.reason).toBe('"text" is null');
    expect(report.bad[2]!.reason).toMatch(/no "text" column; the columns are: content/);
    expect(report.bad[3]!.reason).toMatch(/truncated Arrow IPC stream/);
  });

  it('Parquet: counts a good file and reports a corrupt one', async () => {
    const dir = tempDir();
    writeParquet(join(dir, 'train-00000-of-00002.parquet'), arrowTable({ text: GOOD }), 2);
    const whole = writeParquet(join(tempDir(), 'whole.parquet'), arrowTable({ text: GOOD }));
    const corrupt = join(dir, 'train-00001-of-00002.parquet');
    writeFileSync(corrupt, whole.subarray(0, whole.length - 20));
    const report = await verifyTextDataset(dir, { format: 'parquet' });
    expect(report.records).toBe(3);
    expect(report.tokens).toBe(6);
    expect(report.bad).toHaveLength(1);
    expect(report.bad[0]).toMatchObject({ file: corrupt, record: 0 });
    expect(report.bad[0]!.reason).toMatch(/not a readable Parquet file/);
  });

  it('raw .tokens: counts lines and words, reports a line that is not UTF-8 by its index', async () => {
    const dir = tempDir();
    const file = join(dir, 'wiki.train.tokens');
    writeText(file, Buffer.concat([Buffer.from(' = A = \n \n a b\n'), Buffer.from([0xc3, 0x28, 0x0a]), Buffer.from(' c\n')]));
    const report = await verifyTextDataset(file, { format: 'tokens' });
    expect(report.records).toBe(5);
    expect(report.tokens).toBe(3 + 0 + 2 + 1);
    expect(report.bad).toEqual([{ file, record: 3, reason: 'line is not valid UTF-8' }]);
  });

  it('checks a token cache: ids within the vocabulary', async () => {
    const dir = tempDir();
    const source = join(dir, 'wiki.test.tokens');
    writeText(source, ' Hello world\n');
    const split = await tokenizeFiles([source], 'tokens', { cacheDir: join(dir, 'cache') });
    const report = await verifyTextDataset(join(dir, 'cache'), { format: 'arrow' });
    expect(report.files).toEqual([split.cacheFile]);
    // " Hello", " world", "\n", then <|endoftext|> after the record.
    expect(report.tokens).toBe(4);
    expect(report.bad).toEqual([]);
  });

  it('verify OK ⇔ loading accepts: an empty file and a FIFO are refused by both, a FIFO without blocking', async () => {
    const dir = tempDir();
    const good = join(dir, 'wiki.train.tokens');
    writeFileSync(good, ' = A = \n x y z\n');
    const empty = join(dir, 'wiki.valid.tokens');
    writeFileSync(empty, '');
    const fifo = join(dir, 'wiki.test.tokens');
    execFileSync('mkfifo', [fifo]);
    const report = await verifyTextDataset(dir, { format: 'tokens' });
    expect(report.bad.map((b) => [b.file, b.record, b.reason.replace(/ \(reading stopped here\)$/, '')])).toEqual([
      [fifo, 0, 'cannot be read: it is a FIFO (named pipe), not a regular file'],
      [empty, 0, 'holds no records: an empty data file is a mistake (a failed copy?); remove it or copy it again'],
    ]);
    expect((await verifyTextDataset(good, { format: 'tokens' })).bad).toEqual([]);
    await expect(tokenizeFiles([good], 'tokens', { cacheDir: false })).resolves.toMatchObject({ records: 2 });
    await expect(tokenizeFiles([empty], 'tokens', { cacheDir: false })).rejects.toThrow(/wiki\.valid\.tokens: holds no records/);
    await expect(tokenizeFiles([fifo], 'tokens', { cacheDir: false })).rejects.toThrow(/wiki\.test\.tokens: cannot be read: it is a FIFO/);
    await expect(tokenizeFiles([fifo], 'tokens', { cacheDir: join(dir, 'cache') })).rejects.toThrow(/wiki\.test\.tokens: cannot be read: it is a FIFO/);
  });

  it('countWords counts like wc -w', () => {
    expect(countWords(' = Valkyria Chronicles III = \n')).toBe(5);
    expect(countWords('')).toBe(0);
    expect(countWords('a\tb\u00a0c  d\n')).toBe(4);
  });

  it('a folder without files of the format, or no such path, throws (a usage error, not bad data)', async () => {
    await expect(verifyTextDataset(tempDir(), { format: 'parquet' })).rejects.toThrow(/no parquet files here.*pass the right --format or folder/);
    await expect(verifyTextDataset('/no/such/wikitext', { format: 'arrow' })).rejects.toThrow(/\/no\/such\/wikitext: no such file or directory/);
  });
});
