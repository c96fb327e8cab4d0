// Streaming training resumes exactly: stop after step 1 of 2, resume, and end with the weights, masks and
// top-1 of an uninterrupted run (same seed, same shard stream, RigL updating at t = 1).
import { describe, expect, it } from 'vitest';
import { initBackend } from '@sparse-ift/backend';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageNetNet, findImageNetShards, resolveConfig, trainFromStream } from '../src/index.js';
import { writeImageNetFixture } from './fixtures.js';

describe('trainFromStream', () => {
  it('stop + resume = uninterrupted', async () => {
    await initBackend({ backend: 'wasm', training: true });
    const config = resolveConfig('smoke');
    const shards = findImageNetShards(writeImageNetFixture(8, 4));
    const arch = config.archs.resnet18;
    const nets = [0, 1, 2].map(() => buildImageNetNet(arch, 'sparse-wide', 0.5, 0, 'normalized'));
    // Initial weights: all three start from the first net's (the resumed one must take everything from the checkpoint).
    nets[1]!.model.setWeights(nets[0]!.model.getWeights());
    const checkpointFile = join(mkdtempSync(join(tmpdir(), 'sift-stream-ckpt-')), 'run.bin');
    const common = { method: 'rigl' as const, seed: 0, config, shards, trainImages: 8, log: () => {} };
    const a = await trainFromStream({ ...common, net: nets[0]!, label: 'straight' });
    const b = await trainFromStream({ ...common, net: nets[1]!, label: 'interrupted', checkpointFile, stopAfterStep: 1 });
    expect(b.stoppedEarly).toBe(true);
    const c = await trainFromStream({ ...common, net: nets[2]!, label: 'resumed', checkpointFile, resume: true });
    expect(a.steps).toBe(2);
    expect(c.resumedFromStep).toBe(1);
    expect(c.history).toEqual(a.history);
    const wa = nets[0]!.model.getWeights();
    const wc = nets[2]!.model.getWeights();
    for (let i = 0; i < wa.length; i++) expect(Array.from(wc[i]!.dataSync()), nets[0]!.model.weights[i]!.name).toEqual(Array.from(wa[i]!.dataSync()));
    for (const n of nets) n.model.dispose();
  });
});
