import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { brownCorpusDir, brownDocuments, detokenizeBrownSentence, gpt2Tokenizer, loadBrownCorpus } from '@sparse-ift/data-text';
import { tempDir } from './fixtures.js';

describe('Brown corpus', () => {
  it('detokenizes a tagged sentence (hand-checked)', () => {
    expect(detokenizeBrownSentence("\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, (/( 1-1/2/cd )/) ./.\n")).toBe(
      'The jury said "no evidence", (1-1/2).',
    );
    expect(detokenizeBrownSentence('Shortcuts/nns-hl unnoticed/jj-hl ')).toBe('Shortcuts unnoticed');
  });

  it('splits the 500 documents 400 / 50 / 50, fixed by document and disjoint', async () => {
    const docs = await brownDocuments();
    expect(docs.length).toBe(500);
    const bySplit = (s: string): string[] => docs.filter((d) => d.split === s).map((d) => d.id);
    expect([bySplit('train').length, bySplit('validation').length, bySplit('test').length]).toEqual([400, 50, 50]);
    expect(bySplit('validation').slice(0, 2)).toEqual(['ca09', 'ca19']);
    expect(bySplit('test').slice(0, 2)).toEqual(['ca10', 'ca20']);
    expect(new Set(docs.map((d) => d.id)).size).toBe(500);
    expect(readdirSync(brownCorpusDir()).filter((n) => /^c[a-r]\d\d$/.test(n)).length).toBe(500);
  });

  it('loads a split as GPT-2 ids, one <|endoftext|> per document, starting with its first sentence', async () => {
    const split = await loadBrownCorpus({ split: 'validation', cacheDir: tempDir() });
    expect(split.documentIds.length).toBe(50);
    expect(split.documents).toBe(50);
    const eos = [...split.tokens].filter((t) => t === 50256).length;
    expect(eos).toBe(50);
    expect(split.tokens[split.tokens.length - 1]).toBe(50256);
    const gpt2 = await gpt2Tokenizer();
    // ca09's first sentence, detokenized by hand from the tagged file.
    const firstSentence = 'City Controller Alexander Hemphill charged Tuesday that the bids on the Frankford Elevated repair project were rigged';
    expect(gpt2.decode(split.tokens.subarray(0, 40)).startsWith(firstSentence)).toBe(true);
    // ≈2,000 words a document: a few thousand GPT-2 ids each.
    expect(split.tokens.length / 50).toBeGreaterThan(2000);
    expect(split.tokens.length / 50).toBeLessThan(4000);
  });
});
