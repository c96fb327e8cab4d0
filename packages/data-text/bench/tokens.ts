// Benchmark, not a test: tokens/s of GPT-2 BPE + packing on the Brown corpus, Arrow read + tokenize,
// token-cache reads and batch assembly. Run from the repo root:
//   npx tsx packages/data-text/bench/tokens.ts [--split train] [--context 1024] [--batch 8] [--threads 2]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RecordBatch, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import {
  TokenBlocks,
  brownDocuments,
  gpt2Tokenizer,
  lmBatches,
  loadBrownCorpus,
  readBrownDocument,
  tokenizeFiles,
  type Split,
} from '../src/index.js';

const { values } = parseArgs({
  options: {
    split: { type: 'string', default: 'train' },
    context: { type: 'string', default: '1024' },
    batch: { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
  },
});
const split = values.split as Split;
const context = Number(values.context);
const batchSize = Number(values.batch);
const threads = Number(values.threads);
const work = mkdtempSync(join(tmpdir(), 'data-text-bench-'));
const seconds = (t0: number): number => (performance.now() - t0) / 1000;
const rate = (n: number, s: number): string => `${(n / s / 1e6).toFixed(2)} M/s`;

try {
  await gpt2Tokenizer(); // load the BPE ranks outside the timings
  const cacheDir = join(work, 'cache');

  // 1. Tokenize + pack the Brown split (first run: no cache yet).
  let t0 = performance.now();
  const first = await loadBrownCorpus({ split, cacheDir });
  const tokenizeSeconds = seconds(t0);
  t0 = performance.now();
  const blocks = new TokenBlocks(first.tokens, context);
  let rows = 0;
  for (const batch of lmBatches(blocks, { batchSize, shuffle: true, seed: 0 })) rows += batch.batchSize;
  const packSeconds = seconds(t0);
  console.log(`Brown ${split}: ${first.documentIds.length} documents, ${first.records} sentences, ${first.tokens.length} GPT-2 tokens`);
  console.log(`  read + detokenize + tokenize + cache write: ${tokenizeSeconds.toFixed(2)} s = ${rate(first.tokens.length, tokenizeSeconds)} tokens`);
  console.log(`  pack into ${blocks.length} blocks of ${context}+1 and assemble ${rows / batchSize} shuffled batches of ${batchSize}: ${packSeconds.toFixed(3)} s = ${rate(rows * context, packSeconds)} tokens`);
  console.log(`  tokenize + pack: ${rate(first.tokens.length, tokenizeSeconds + packSeconds)} tokens`);

  // 2. Second run: the token cache.
  t0 = performance.now();
  const second = await loadBrownCorpus({ split, cacheDir });
  const cacheSeconds = seconds(t0);
  console.log(`  second run from the token cache (hash sources + read Arrow): ${cacheSeconds.toFixed(3)} s, fromCache=${second.fromCache}`);

  // 3. The same text as a Hugging Face-style Arrow stream (one sentence a record): read + tokenize.
  const texts: string[] = [];
  for (const doc of (await brownDocuments()).filter((d) => d.split === split)) texts.push(...(await readBrownDocument(doc.file)));
  const arrowFile = join(work, 'data-00000-of-00001.arrow');
  // Record batches of 1,000 rows, as the Hugging Face datasets writer makes them.
  const batches: RecordBatch[] = [];
  for (let i = 0; i < texts.length; i += 1000) batches.push(...new Table({ text: vectorFromArray(texts.slice(i, i + 1000), new Utf8()) }).batches);
  writeFileSync(arrowFile, tableToIPC(new Table(batches), 'stream'));
  t0 = performance.now();
  const fromArrow = await tokenizeFiles([arrowFile], 'arrow', { cacheDir: false, eos: 'none' });
  const arrowSeconds = seconds(t0);
  console.log(`Arrow stream of the same ${texts.length} records: read + tokenize ${arrowSeconds.toFixed(2)} s = ${rate(fromArrow.tokens.length, arrowSeconds)} tokens`);

  // 4. The same, tokenized in worker threads (each worker loads GPT-2 BPE and starts with a cold merge cache).
  if (threads > 1) {
    t0 = performance.now();
    const parallel = await tokenizeFiles([arrowFile], 'arrow', { cacheDir: false, eos: 'none', threads });
    const parallelSeconds = seconds(t0);
    const same = Buffer.from(parallel.tokens.buffer).equals(Buffer.from(fromArrow.tokens.buffer));
    console.log(`  with ${threads} worker threads: ${parallelSeconds.toFixed(2)} s = ${rate(parallel.tokens.length, parallelSeconds)} tokens (same ids: ${same})`);
  }
  console.log(`node ${process.version}, ${process.arch}, ${(await import('node:os')).availableParallelism()} cores; load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
