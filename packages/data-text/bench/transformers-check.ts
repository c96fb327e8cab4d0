// Check, not a test (transformers.js is optional and ≈470 MB): the `{ huggingFace: folder }` tokenizer path gives
// the same ids as the built-in GPT-2 BPE. It writes a GPT-2 `tokenizer.json` from gpt-tokenizer's r50k_base ranks
// (vocab in GPT-2's byte-to-unicode alphabet; each merge recovered by running BPE on the token with lower ranks
// only), loads it through transformers.js, and compares ids on Brown documents and some Unicode.
// Run from a folder where @huggingface/transformers is installed:
//   cd /my/project && npx --prefix /path/to/sparse-ift tsx /path/to/sparse-ift/packages/data-text/bench/transformers-check.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brownDocuments, gpt2Tokenizer, loadHuggingFaceTokenizer, readBrownDocument } from '../src/index.js';

/** GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to U+0100 onwards. */
function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table = new Array<string>(256);
  for (const b of printable) table[b] = String.fromCharCode(b);
  let next = 256;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCharCode(next++);
  return table;
}

async function writeGpt2TokenizerJson(dir: string): Promise<void> {
  const { default: ranks } = (await import('gpt-tokenizer/bpeRanks/r50k_base')) as { default: Array<string | number[]> };
  const encoder = new TextEncoder();
  const table = byteToUnicode();
  const bytesOf = (v: string | number[]): number[] => (typeof v === 'string' ? [...encoder.encode(v)] : v);
  const unicode = (bytes: number[]): string => bytes.map((b) => table[b]).join('');
  const key = (bytes: number[]): string => String.fromCharCode(...bytes);
  const rankOf = new Map<string, number>();
  const vocab: Record<string, number> = {};
  ranks.forEach((v, id) => {
    rankOf.set(key(bytesOf(v)), id);
    vocab[unicode(bytesOf(v))] = id;
  });
  const merges: string[] = [];
  ranks.forEach((v, id) => {
    const bytes = bytesOf(v);
    if (bytes.length < 2) return;
    const parts = bytes.map((b) => [b]);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = rankOf.get(key([...parts[i]!, ...parts[i + 1]!]));
        if (r !== undefined && r < id && r < bestRank) [best, bestRank] = [i, r];
      }
      if (best < 0) break;
      parts.splice(best, 2, [...parts[best]!, ...parts[best + 1]!]);
    }
    if (parts.length !== 2) throw new Error(`token ${id} does not come from one merge`);
    merges.push(`${unicode(parts[0]!)} ${unicode(parts[1]!)}`);
  });
  vocab['<|endoftext|>'] = 50256;
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
      post_processor: { type: 'ByteLevel', ...byteLevel },
      decoder: { type: 'ByteLevel', ...byteLevel },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
    }),
  );
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ tokenizer_class: 'GPT2Tokenizer', bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', model_max_length: 1024 }),
  );
  console.log(`wrote GPT-2 tokenizer.json: ${Object.keys(vocab).length} ids, ${merges.length} merges (first: ${merges.slice(0, 3).join(' | ')})`);
}

const work = mkdtempSync(join(tmpdir(), 'gpt2-tokenizer-'));
try {
  const folder = join(work, 'gpt2');
  (await import('node:fs')).mkdirSync(folder);
  await writeGpt2TokenizerJson(folder);
  const hf = await loadHuggingFaceTokenizer(folder);
  const gpt2 = await gpt2Tokenizer();
  console.log(`${hf.id}: vocab ${hf.vocabSize}, eos ${hf.eosId}, "Hello world" -> [${hf.encode('Hello world').join(', ')}]`);
  const texts: string[] = [' Senjō no Valkyria 3 : ( Japanese : 戦場のヴァルキュリア3 ) \n', 'naïve 😀 ½ — “quotes”  \n\n  x', "it's we'll I'M 1,234.5"];
  for (const doc of (await brownDocuments()).slice(0, 60)) texts.push(...(await readBrownDocument(doc.file)));
  let differ = 0;
  let ids = 0;
  for (const text of texts) {
    const a = hf.encode(text);
    const b = gpt2.encode(text);
    ids += b.length;
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
      if (differ++ < 3) console.log('differs:', JSON.stringify(text), a.slice(0, 12), b.slice(0, 12));
    }
  }
  console.log(`${texts.length} texts, ${ids} ids: ${differ === 0 ? 'transformers.js and gpt-tokenizer agree on every id' : `${differ} texts differ`}`);
  process.exitCode = differ === 0 ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
