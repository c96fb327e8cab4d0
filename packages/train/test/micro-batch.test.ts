import { describe, expect, it } from 'vitest';
import { fittingMicroBatch } from '../src/index.js';

const GB = 1e9;

describe('fittingMicroBatch', () => {
  it('takes the largest divisor of the batch whose activations fit beside the fixed memory', () => {
    // 0.8 × 10 GB − 2 GB = 6 GB for activations at 1 GB a sample: 6 of the divisors of 12 (1, 2, 3, 4, 6, 12).
    const base = { batchSize: 12, perSample: { bytes: 1 * GB, largestTensor: 0.1 * GB }, fixedBytes: 2 * GB, fallback: 4 };
    expect(fittingMicroBatch({ ...base, memory: { bytes: 10 * GB, source: 'test' } }).microBatchSize).toBe(6);
    // 5.9 GB left: 6 no longer fits, 4 does.
    expect(fittingMicroBatch({ ...base, memory: { bytes: 9.875 * GB, source: 'test' } }).microBatchSize).toBe(4);
    // The largest tensor caps it: 0.35 GB binding limit / 0.1 GB per sample → 3.
    expect(fittingMicroBatch({ ...base, memory: { bytes: 100 * GB, maxTensorBytes: 0.35 * GB, source: 'test' } }).microBatchSize).toBe(3);
    expect(fittingMicroBatch({ ...base, memory: { bytes: 100 * GB, source: 'test' } }).microBatchSize).toBe(12);
  });

  it('falls back on the preset when the device does not say, and refuses when one sample cannot fit', () => {
    const base = { batchSize: 12, perSample: { bytes: 1 * GB, largestTensor: 0.1 * GB }, fixedBytes: 2 * GB, fallback: 4 };
    const unknown = fittingMicroBatch({ ...base, memory: { source: 'a GPU that does not say' } });
    expect(unknown.microBatchSize).toBe(4);
    expect(unknown.why).toMatch(/preset's 4; a GPU that does not say/);
    expect(() => fittingMicroBatch({ ...base, memory: { bytes: 3 * GB, source: 'tiny' } })).toThrow(/one sample does not fit.*tiny/);
    expect(() => fittingMicroBatch({ ...base, memory: { bytes: 100 * GB, maxTensorBytes: 0.05 * GB, source: 'limits' } })).toThrow(/largest tensor/);
  });
});
