import { describe, expect, it } from 'vitest';
import { TokenBlocks, blockOrder, isWikiTextArticleHeading, lmBatches, tokenizeChunks, type TextChunk, type TextTokenizer } from '@sparse-ift/data-text';

const ids = (n: number): Uint16Array => Uint16Array.from({ length: n }, (_, i) => i);

describe('packing into blocks of context + 1', () => {
  it('shared layout: block i covers ids [4i, 4i + 4]; the tail is dropped (hand-checked, 11 ids, context 4)', () => {
    const blocks = new TokenBlocks(ids(11), 4);
    expect(blocks.length).toBe(2); // blocks need ids 0..4 and 4..8; 9 and 10 cannot fill a third (8..12)
    expect([...blocks.inputs(0)]).toEqual([0, 1, 2, 3]);
    expect([...blocks.targets(0)]).toEqual([1, 2, 3, 4]);
    expect([...blocks.inputs(1)]).toEqual([4, 5, 6, 7]);
    expect([...blocks.targets(1)]).toEqual([5, 6, 7, 8]);
    expect(new TokenBlocks(ids(13), 4).length).toBe(3); // 8..12 fits exactly
    expect(new TokenBlocks(ids(4), 4).length).toBe(0);
    expect(() => blocks.inputs(2)).toThrow(/block 2 out of range \[0, 2\)/);
  });

  it('disjoint layout: chunks of context + 1 that do not share ids (hand-checked)', () => {
    const blocks = new TokenBlocks(ids(11), 4, 'disjoint');
    expect(blocks.length).toBe(2);
    expect([...blocks.inputs(1)]).toEqual([5, 6, 7, 8]);
    expect([...blocks.targets(1)]).toEqual([6, 7, 8, 9]);
    expect(new TokenBlocks(ids(14), 4, 'disjoint').length).toBe(2);
    expect(new TokenBlocks(ids(15), 4, 'disjoint').length).toBe(3);
  });

  it('batches are row-major [batch, context], in order by default, last partial batch dropped', () => {
    const blocks = new TokenBlocks(ids(21), 4); // 5 blocks
    const batches = [...lmBatches(blocks, { batchSize: 2 })];
    expect(batches.length).toBe(2);
    expect([...batches[0]!.inputs]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...batches[0]!.targets]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...batches[1]!.blocks]).toEqual([2, 3]);
    const all = [...lmBatches(blocks, { batchSize: 2, dropLast: false })];
    expect(all.map((b) => b.batchSize)).toEqual([2, 2, 1]);
    expect([...all[2]!.inputs]).toEqual([16, 17, 18, 19]);
  });

  it('a seed fixes the shuffled order; another seed or epoch gives another; each block once per epoch', () => {
    const a = blockOrder(1000, { shuffle: true, seed: 1, epoch: 0 });
    expect([...blockOrder(1000, { shuffle: true, seed: 1, epoch: 0 })]).toEqual([...a]);
    expect([...blockOrder(1000, { shuffle: true, seed: 2, epoch: 0 })]).not.toEqual([...a]);
    expect([...blockOrder(1000, { shuffle: true, seed: 1, epoch: 1 })]).not.toEqual([...a]);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(1000).keys()]);
    expect([...a]).not.toEqual([...Array(1000).keys()]);
  });

  it('process shards see every block of the epoch exactly once between them', () => {
    const seen: number[] = [];
    for (let index = 0; index < 3; index++) seen.push(...blockOrder(100, { shuffle: true, seed: 7, shard: { index, count: 3 } }));
    expect(seen.sort((x, y) => x - y)).toEqual([...Array(100).keys()]);
    expect(() => blockOrder(10, { shard: { index: 3, count: 3 } })).toThrow(/shard must have 0 <= index < count/);
  });
});

/** A tokenizer whose ids are the char codes, so expected streams can be written by hand. */
const charTokenizer: TextTokenizer = {
  id: 'chars',
  vocabSize: 65536,
  eosId: 0,
  encode: (text) => [...text].map((c) => c.charCodeAt(0)),
  decode: (ids) => String.fromCharCode(...ids),
};
const chunk = (file: string, texts: Array<string | null>, start = 0): TextChunk => ({ file, start, texts, reasons: new Map() });
async function* chunks(...list: TextChunk[]): AsyncGenerator<TextChunk> {
  yield* list;
}
const stream = (tokens: ArrayLike<number>): string => [...Array.from(tokens)].map((t) => (t === 0 ? '|' : String.fromCharCode(t))).join('');

describe('end-of-text placement', () => {
  it('WikiText: EOS before each article heading but the first, and at the end; section headings are not articles', async () => {
    expect(isWikiTextArticleHeading(' = Valkyria Chronicles III = \n')).toBe(true);
    expect(isWikiTextArticleHeading(' = = Gameplay = = \n')).toBe(false);
    expect(isWikiTextArticleHeading(' a = b = \n')).toBe(false);
    const records = [' = A = \n', '', 'x\n', ' = = S = = \n', 'y\n', ' = B = \n', 'z\n'];
    const out = await tokenizeChunks(chunks(chunk('f', records)), charTokenizer, { eos: 'wikitext-article' });
    expect(stream(out.tokens)).toBe(' = A = \nx\n = = S = = \ny\n| = B = \nz\n|');
    expect(out.documents).toBe(2);
    expect(out.records).toBe(7);
  });

  it('file, record and none rules', async () => {
    const twoFiles = (): AsyncGenerator<TextChunk> => chunks(chunk('f1', ['ab', 'c']), chunk('f2', ['d', '', 'e']));
    expect(stream((await tokenizeChunks(twoFiles(), charTokenizer, { eos: 'file' })).tokens)).toBe('abc|de|');
    expect(stream((await tokenizeChunks(twoFiles(), charTokenizer, { eos: 'record' })).tokens)).toBe('ab|c|d|e|');
    expect(stream((await tokenizeChunks(twoFiles(), charTokenizer, { eos: 'none' })).tokens)).toBe('abcde');
  });

  it('a null record is an error naming file and record, or skipped and counted', async () => {
    const bad = (): AsyncGenerator<TextChunk> => chunks(chunk('data.arrow', ['a', 'b'], 0), { file: 'data.arrow', start: 2, texts: ['c', null], reasons: new Map([[1, '"text" is null']]) });
    await expect(tokenizeChunks(bad(), charTokenizer, { eos: 'none' })).rejects.toThrow(/data\.arrow: record 3: "text" is null; fix the file or pass onBadRecord: 'skip'/);
    const skipped = await tokenizeChunks(bad(), charTokenizer, { eos: 'none', onBadRecord: 'skip' });
    expect(stream(skipped.tokens)).toBe('abc');
    expect(skipped.skipped).toBe(1);
    expect(skipped.records).toBe(4);
  });

  it('uses 16-bit ids for vocabularies up to 65,536 and 32-bit above', async () => {
    const small = await tokenizeChunks(chunks(chunk('f', ['ab'])), charTokenizer, { eos: 'none' });
    expect(small.tokens).toBeInstanceOf(Uint16Array);
    const big = await tokenizeChunks(chunks(chunk('f', ['ab'])), { ...charTokenizer, vocabSize: 100_000, encode: () => [70_000, 1] }, { eos: 'none' });
    expect(big.tokens).toBeInstanceOf(Int32Array);
    expect([...big.tokens]).toEqual([70_000, 1]);
  });
});
