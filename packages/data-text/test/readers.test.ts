import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkArrowLayout,
  findSplitFiles,
  readAllTexts,
  TextDataError,
} from '@sparse-ift/data-text';
import { arrowTable, MINI_WIKITEXT_RAW, MINI_WIKITEXT_RECORDS, tempDir, writeArrow, writeParquet, writeText } from './fixtures.js';

// Records with what real data has: Unicode, empty strings, a long line, many batches.
const TEXTS = Array.from({ length: 2600 }, (_, i) =>
  i % 13 === 0 ? '' : i % 101 === 0 ? `${'long '.repeat(500)}\n` : ` line ${i} : Senjō no Valkyria — ½ 😀 \n`,
);

async function expectTextDataError(promise: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TextDataError);
  expect((err as TextDataError).file).toBe(file);
  expect((err as Error).message).toContain(file);
  expect((err as Error).message).toMatch(pattern);
}

describe('Arrow IPC (written by apache-arrow)', () => {
  it.each(['stream', 'file'] as const)('reads back every record of an IPC %s with several record batches', async (layout) => {
    const dir = tempDir();
    const file = join(dir, `data-00000-of-00001.arrow`);
    writeArrow(file, arrowTable({ id: TEXTS.map(String), text: TEXTS }, 700), layout);
    expect(await checkArrowLayout(file)).toBe(layout);
    expect(await readAllTexts([file], 'arrow')).toEqual(TEXTS);
  });

  it('reads another column by name, and gives null for null values', async () => {
    const dir = tempDir();
    const file = join(dir, 'x.arrow');
    writeArrow(file, arrowTable({ body: ['a', null, 'c'] }), 'stream');
    expect(await readAllTexts([file], 'arrow', 'body')).toEqual(['a', null, 'c']);
  });

  it('a missing text column is an error naming the file and the columns it has', async () => {
    const dir = tempDir();
    const file = join(dir, 'data-00000-of-00001.arrow');
    writeArrow(file, arrowTable({ title: ['a'], body: ['b'] }), 'stream');
    await expectTextDataError(readAllTexts([file], 'arrow'), file, /no "text" column; the columns are: title, body/);
  });

  it('a stream cut inside a message, or between messages, is an error naming the file', async () => {
    const dir = tempDir();
    const whole = writeArrow(join(dir, 'whole.arrow'), arrowTable({ text: TEXTS }, 500), 'stream');
    for (const cut of [whole.length - 8, Math.floor(whole.length / 2), 40]) {
      const file = join(dir, `cut-${cut}.arrow`);
      writeFileSync(file, whole.subarray(0, cut));
      await expectTextDataError(readAllTexts([file], 'arrow'), file, /truncated Arrow IPC stream/);
    }
    const tiny = join(dir, 'tiny.arrow');
    writeFileSync(tiny, whole.subarray(0, 3));
    await expectTextDataError(readAllTexts([tiny], 'arrow'), tiny, /too short/);
  });

  it('a truncated IPC file (no footer) is an error naming the file', async () => {
    const dir = tempDir();
    const whole = writeArrow(join(dir, 'whole.arrow'), arrowTable({ text: TEXTS }, 500), 'file');
    const file = join(dir, 'cut.arrow');
    writeFileSync(file, whole.subarray(0, whole.length - 100));
    await expectTextDataError(readAllTexts([file], 'arrow'), file, /truncated Arrow IPC file/);
  });

  it('a stream whose message body is corrupt (but that ends properly) is an error naming the file', async () => {
    const dir = tempDir();
    const whole = writeArrow(join(dir, 'whole.arrow'), arrowTable({ text: TEXTS }, 500), 'stream');
    // Overwrite a later message's metadata length with a huge value: the reader runs off the end.
    const bytes = Uint8Array.from(whole);
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (let message = 0; message < 3; message++) {
      // Each message: 0xFFFFFFFF, int32 metadata length, metadata, body (its length is in the metadata).
      const metaLength = view.getInt32(offset + 4, true);
      if (message === 2) {
        view.setInt32(offset + 4, 0x7ffffff0, true);
        break;
      }
      // Skip to the next message by searching for the next continuation marker after the metadata.
      let next = offset + 8 + metaLength;
      while (view.getUint32(next, true) !== 0xffffffff) next += 8;
      offset = next;
    }
    const file = join(dir, 'corrupt.arrow');
    writeFileSync(file, bytes);
    await expectTextDataError(readAllTexts([file], 'arrow'), file, /unreadable Arrow data|not a readable/);
  });
});

describe('Parquet (written by parquet-wasm, i.e. Rust arrow-rs)', () => {
  it('reads back every record across row groups', async () => {
    const dir = tempDir();
    const file = join(dir, 'wikitext-103-raw-v1', 'train-00000-of-00001.parquet');
    writeParquet(file, arrowTable({ text: TEXTS }), 1000);
    expect(await readAllTexts([file], 'parquet')).toEqual(TEXTS);
  });

  it('a missing column is an error naming the file and its columns', async () => {
    const dir = tempDir();
    const file = join(dir, 'x.parquet');
    writeParquet(file, arrowTable({ title: ['a'], content: ['b'] }));
    await expectTextDataError(readAllTexts([file], 'parquet'), file, /no "text" column; the columns are: title, content/);
  });

  it('a truncated or corrupt Parquet file is an error naming the file', async () => {
    const dir = tempDir();
    const whole = writeParquet(join(dir, 'whole.parquet'), arrowTable({ text: TEXTS }), 1000);
    const cut = join(dir, 'cut.parquet');
    writeFileSync(cut, whole.subarray(0, whole.length - 50));
    await expectTextDataError(readAllTexts([cut], 'parquet'), cut, /not a readable Parquet file/);
    // Garble the footer's Thrift metadata (the bytes just before the 4-byte length and "PAR1").
    const garbled = Uint8Array.from(whole);
    const metaLength = new DataView(garbled.buffer).getUint32(garbled.length - 8, true);
    for (let i = garbled.length - 8 - metaLength; i < garbled.length - 8; i++) garbled[i] = 0xff;
    const corrupt = join(dir, 'corrupt.parquet');
    writeFileSync(corrupt, garbled);
    await expectTextDataError(readAllTexts([corrupt], 'parquet'), corrupt, /Parquet/);
    // Garble the first data page: the row group cannot be decoded.
    const pages = Uint8Array.from(whole);
    for (let i = 4; i < 200; i++) pages[i] = 0xff;
    const badPages = join(dir, 'bad-pages.parquet');
    writeFileSync(badPages, pages);
    await expectTextDataError(readAllTexts([badPages], 'parquet'), badPages, /unreadable Parquet row group/);
  });
});

describe('raw wiki.*.tokens files', () => {
  it('gives the records the Hugging Face loading script gives: blank lines empty, newlines kept', async () => {
    const dir = tempDir();
    const file = join(dir, 'wiki.valid.tokens');
    writeText(file, MINI_WIKITEXT_RAW.join(''));
    expect(await readAllTexts([file], 'tokens')).toEqual(MINI_WIKITEXT_RECORDS);
  });

  it('keeps a last line without a newline, and reads lines across 1 MiB read buffers', async () => {
    const dir = tempDir();
    const long = `${'x'.repeat(1_500_000)}\n`;
    const file = join(dir, 'wiki.test.tokens');
    writeText(file, ` a\n${long} \nlast`);
    expect(await readAllTexts([file], 'tokens')).toEqual([' a\n', long, '', 'last']);
  });

  it('a line that is not UTF-8 comes back null (the loaders then name file and line)', async () => {
    const dir = tempDir();
    const file = join(dir, 'wiki.train.tokens');
    writeText(file, Uint8Array.from([0x20, 0x61, 0x0a, 0xff, 0xfe, 0x0a, 0x62, 0x0a]));
    expect(await readAllTexts([file], 'tokens')).toEqual([' a\n', null, 'b\n']);
  });
});

describe('finding a split', () => {
  it('finds the layouts users have', async () => {
    const dir = tempDir();
    const table = arrowTable({ text: ['a\n'] });
    // Hugging Face datasets cache.
    const hf = join(dir, 'hf', 'wikitext', 'wikitext-103-raw-v1', '0.0.0', 'abc123');
    writeArrow(join(hf, 'wikitext-train-00000-of-00002.arrow'), table, 'stream');
    writeArrow(join(hf, 'wikitext-train-00001-of-00002.arrow'), table, 'stream');
    writeArrow(join(hf, 'wikitext-validation.arrow'), table, 'stream');
    writeArrow(join(hf, 'cache-0123abcd.arrow'), table, 'stream');
    expect(await findSplitFiles(join(dir, 'hf'), 'train')).toEqual({
      format: 'arrow',
      files: [join(hf, 'wikitext-train-00000-of-00002.arrow'), join(hf, 'wikitext-train-00001-of-00002.arrow')],
    });
    expect((await findSplitFiles(join(dir, 'hf'), 'validation')).files).toEqual([join(hf, 'wikitext-validation.arrow')]);
    // save_to_disk.
    writeArrow(join(dir, 'saved', 'test', 'data-00000-of-00001.arrow'), table, 'stream');
    expect((await findSplitFiles(join(dir, 'saved'), 'test')).files).toEqual([join(dir, 'saved', 'test', 'data-00000-of-00001.arrow')]);
    // The hub's Parquet export.
    writeParquet(join(dir, 'pq', 'wikitext-103-raw-v1', 'validation-00000-of-00001.parquet'), table);
    expect(await findSplitFiles(join(dir, 'pq'), 'validation')).toEqual({
      format: 'parquet',
      files: [join(dir, 'pq', 'wikitext-103-raw-v1', 'validation-00000-of-00001.parquet')],
    });
    // The raw release.
    writeText(join(dir, 'raw', 'wikitext-103', 'wiki.valid.tokens'), ' a\n');
    writeText(join(dir, 'raw', 'wikitext-103', 'wiki.train.tokens'), ' a\n');
    expect(await findSplitFiles(join(dir, 'raw'), 'validation')).toEqual({ format: 'tokens', files: [join(dir, 'raw', 'wikitext-103', 'wiki.valid.tokens')] });
    await expect(findSplitFiles(join(dir, 'raw'), 'test')).rejects.toThrow(/found no arrow, parquet or tokens files for split "test"/);
    // Two configs of the hub snapshot side by side: refuse to mix them.
    writeParquet(join(dir, 'pq', 'wikitext-2-raw-v1', 'validation-00000-of-00001.parquet'), table);
    await expect(findSplitFiles(join(dir, 'pq'), 'validation')).rejects.toThrow(/in several folders .*wikitext-103-raw-v1.*wikitext-2-raw-v1.*pass the one folder you mean/);
    expect((await findSplitFiles(join(dir, 'pq', 'wikitext-103-raw-v1'), 'validation')).files.length).toBe(1);
  });
});
