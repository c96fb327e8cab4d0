// The smoke preset end to end on a raw WikiText-103 release written by the test (GPT-2 BPE, real ids).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as tfl from '@tensorflow/tfjs-layers';
import { describeBackend, initBackend } from '@sparse-ift/backend';
import { exportedModelInfo } from '@sparse-ift/core';
import { getExperiment, type RunRecord } from '@sparse-ift/reproduce';
import { evaluate, languageModelling } from '@sparse-ift/train';
import { gptTrainable, loadWikiText, resolveConfig, wikiTextBatches } from '../src/index.js';
import { writeWikiTextFixture } from './fixtures.js';

describe('gpt3-small-wikitext103 smoke preset', () => {
  it('trains dense, SW 50 % static and SW 75 % RigL and writes the result files', async () => {
    process.env['SIFT_CACHE_DIR'] = mkdtempSync(join(tmpdir(), 'sift-token-cache-'));
    const backend = await initBackend({ backend: 'wasm', training: true });
    const out = mkdtempSync(join(tmpdir(), 'sift-gpt-out-'));
    const dataDir = writeWikiTextFixture();
    const outcome = await getExperiment('gpt3-small-wikitext103')!.run({
      preset: 'smoke',
      seeds: 1,
      outDir: out,
      resume: false,
      force: false,
      dataDir,
      backend: { ...backend },
      backendLine: describeBackend(backend),
      progress: false,
      log: () => {},
    });
    const results = JSON.parse(readFileSync(outcome.files['results.json']!, 'utf8')) as { runs: RunRecord[]; data: { trainTokens: number } };
    expect(results.runs.map((r) => `${r.family}/${r.sparsity}/${r.method}`)).toEqual(['dense/0/dense', 'sparse-wide/0.5/static', 'sparse-wide/0.75/rigl']);
    for (const run of results.runs) {
      expect(run.steps).toBe(4);
      expect(run.history.map((e) => e.step)).toEqual([2, 4]);
      // An untrained model over 50,257 ids sits near perplexity 50,257; a few steps cannot move it far.
      expect(run.test['perplexity']).toBeGreaterThan(1);
      expect(Number.isFinite(run.test['perplexity'])).toBe(true);
      expect(run.test['perplexity']).toBeCloseTo(Math.exp(run.test.loss), 6);
    }
    // RigL makes the mask count exact at its first update (docs/sparse-training.md#rigl): density 1 − 0.75.
    expect(results.runs[2]!.realisedDensity).toBeCloseTo(0.25, 2);
    expect(results.runs[1]!.params).toBeGreaterThan(results.runs[0]!.params); // Sparse Wide is wider
    const md = readFileSync(outcome.files['results.md']!, 'utf8');
    expect(md).toContain('| Dense |');
    expect(md).toContain('NOT FOUND');
    expect(md).toContain('−0.4 [A-v1]');

    // Every run's exported GPT (embeddings, attention, masked linears) loads with tf.loadLayersModel and scores
    // the validation loss the trainer recorded, to the last bit.
    const config = resolveConfig('smoke');
    const text = await loadWikiText(dataDir, () => {});
    for (const run of results.runs) {
      const loaded = await tfl.loadLayersModel(`file://${join(out, run.exportDir!, 'model.json')}`);
      const validation = wikiTextBatches({ train: text.train.tokens, validation: text.validation.tokens }, config, run.seed, config.microBatchSize as number).test;
      expect((await evaluate(gptTrainable(loaded), validation, { objective: languageModelling() })).loss, run.id).toBe(run.test.loss);
      expect(exportedModelInfo(loaded)?.dataset).toBe('wikitext-103');
      loaded.dispose();
    }
  });
});
