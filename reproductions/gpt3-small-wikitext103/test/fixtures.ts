// Writes a tiny WikiText-103 raw release (wiki.train.raw / wiki.valid.raw / wiki.test.raw): UTF-8 lines,
// " = Title = " headings, paragraphs, blank lines, as the real files lay them out.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WORDS = 'the river valley station was built in 1887 by the northern railway company and served the town until its closure after the second world war when traffic moved to the new road bridge across the estuary'.split(' ');

function article(title: string, paragraphs: number, seed: number): string {
  let state = seed;
  const word = (): string => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return WORDS[(state >>> 16) % WORDS.length]!;
  };
  const lines = [' \n', ` = ${title} = \n`, ' \n'];
  for (let p = 0; p < paragraphs; p++) lines.push(` ${Array.from({ length: 60 }, word).join(' ')} . \n`, ' \n');
  return lines.join('');
}

export function writeWikiTextFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sift-wikitext-'));
  writeFileSync(join(dir, 'wiki.train.raw'), article('River Valley station', 4, 1) + article('Estuary bridge', 4, 2));
  writeFileSync(join(dir, 'wiki.valid.raw'), article('Northern railway', 2, 3));
  writeFileSync(join(dir, 'wiki.test.raw'), article('Town hall', 2, 4));
  return dir;
}
