import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GPT2_EOS_ID, GPT2_VOCAB_SIZE, gpt2Tokenizer, loadHuggingFaceTokenizer, resolveTokenizer } from '@sparse-ift/data-text';
import { tempDir } from './fixtures.js';

describe('GPT-2 BPE (offline)', () => {
  it('"Hello world" is [15496, 995] and decodes back', async () => {
    const gpt2 = await gpt2Tokenizer();
    expect(gpt2.encode('Hello world')).toEqual([15496, 995]);
    expect(gpt2.decode([15496, 995])).toBe('Hello world');
  });

  it('has the GPT-2 vocabulary: 50,257 ids, <|endoftext|> = 50256, and the well-known ids', async () => {
    const gpt2 = await resolveTokenizer('gpt2');
    expect(gpt2.vocabSize).toBe(GPT2_VOCAB_SIZE);
    expect(gpt2.eosId).toBe(GPT2_EOS_ID);
    expect(GPT2_VOCAB_SIZE).toBe(50257);
    expect(gpt2.decode([50256])).toBe('<|endoftext|>');
    // Ids from GPT-2's encoder.json: " the" 262, "," 11, "." 13, "\n" 198, "\n\n" 628, " " 220.
    expect(gpt2.encode(' the')).toEqual([262]);
    expect(gpt2.encode(',')).toEqual([11]);
    expect(gpt2.encode('.')).toEqual([13]);
    expect(gpt2.encode('\n')).toEqual([198]);
    expect(gpt2.encode('\n\n')).toEqual([628]);
    expect(gpt2.encode(' ')).toEqual([220]);
  });

  it('round-trips Unicode and WikiText lines byte for byte', async () => {
    const gpt2 = await gpt2Tokenizer();
    for (const text of [' Senjō no Valkyria 3 : Unrecorded Chronicles ( Japanese : 戦場のヴァルキュリア3 ) \n', 'naïve 😀 ½ — “quotes”', '']) {
      expect(gpt2.decode(gpt2.encode(text))).toBe(text);
    }
  });

  it('a literal "<|endoftext|>" in a document is text, not the end-of-text id', async () => {
    const gpt2 = await gpt2Tokenizer();
    const ids = gpt2.encode('a<|endoftext|>b');
    expect(ids).not.toContain(GPT2_EOS_ID);
    expect(gpt2.decode(ids)).toBe('a<|endoftext|>b');
  });
});

describe('Hugging Face tokenizer folder (optional transformers.js)', () => {
  it('a folder without tokenizer.json is a clear error', async () => {
    const dir = tempDir();
    await expect(loadHuggingFaceTokenizer(dir)).rejects.toThrow(/no tokenizer\.json; pass a local Hugging Face tokenizer folder/);
  });

  it('without @huggingface/transformers installed, the error says what to install or use instead', async () => {
    const dir = join(tempDir(), 'gpt2');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tokenizer.json'), '{}');
    await expect(resolveTokenizer({ huggingFace: dir })).rejects.toThrow(/needs @huggingface\/transformers, which is not installed.*tokenizer: 'gpt2'/s);
  });
});
