import { loadBrownCorpus } from '../src/index.js';
for (const split of ['train', 'validation', 'test'] as const) {
  const s = await loadBrownCorpus({ split, cacheDir: '/tmp/bc2' });
  console.log(split, s.documentIds.length, 'docs', s.records, 'sentences', s.tokens.length, 'tokens', Math.floor((s.tokens.length - 1025) / 1024) + 1, 'blocks of 1024');
}
