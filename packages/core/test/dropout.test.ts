import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { layers } from '@tensorflow/tfjs-layers';
import {
  DROPOUT,
  Dropout,
  dropout,
  dropoutReference,
  dropoutStreamId,
  dropoutThreshold,
  mulhi32,
  nextDropoutAttrs,
  philox4x32,
  withDropoutContext,
  type DropoutAttrs,
} from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Philox 4x32-10 in BigInt, written from the paper's round function: an independent reference. */
function philoxBig(counter: number[], key: number[]): number[] {
  const mask = (1n << 32n) - 1n;
  let c = counter.map(BigInt);
  let k = key.map(BigInt);
  for (let r = 0; r < 10; r++) {
    const p0 = 0xd2511f53n * c[0]!;
    const p1 = 0xcd9e8d57n * c[2]!;
    c = [((p1 >> 32n) ^ c[1]! ^ k[0]!) & mask, p1 & mask, ((p0 >> 32n) ^ c[3]! ^ k[1]!) & mask, p0 & mask];
    k = [(k[0]! + 0x9e3779b9n) & mask, (k[1]! + 0xbb67ae85n) & mask];
  }
  return c.map(Number);
}

describe('Philox 4x32-10', () => {
  it("matches Random123's known-answer vectors", () => {
    const kat: [number[], number[], number[]][] = [
      [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
      [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
      [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
    ];
    for (const [counter, key, expected] of kat) {
      expect(Array.from(philox4x32(counter, key))).toEqual(expected);
      expect(philoxBig(counter, key)).toEqual(expected);
    }
  });

  it('mulhi32 and philox4x32 agree with BigInt arithmetic on random words', () => {
    let s = 12345;
    const word = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
    for (let i = 0; i < 2000; i++) {
      const a = word();
      const b = word();
      expect(mulhi32(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
    }
    expect(mulhi32(0xffffffff, 0xffffffff)).toBe(0xfffffffe);
    for (let i = 0; i < 50; i++) {
      const counter = [word(), word(), word(), word()];
      const key = [word(), word()];
      expect(Array.from(philox4x32(counter, key))).toEqual(philoxBig(counter, key));
    }
  });
});

describe('dropout (Philox mask drawn by the kernel)', () => {
  const attrs: DropoutAttrs = { rate: 0.3, key: [7, 0xdeadbeef], counter: [5, 1, 2] };

  it('keeps element i when word i mod 4 of Philox([i/4, step, micro-batch, call], key) ≥ round(rate·2^32), scaled by 1/(1−rate)', () => {
    const n = 37; // not a multiple of 4
    const x = Float32Array.from({ length: n }, (_, i) => i - 10.5);
    const y = dropoutReference(x, attrs);
    const threshold = Math.round(0.3 * 2 ** 32);
    expect(dropoutThreshold(0.3)).toBe(threshold);
    for (let i = 0; i < n; i++) {
      const word = philoxBig([Math.floor(i / 4), 5, 1, 2], [7, 0xdeadbeef])[i % 4]!;
      expect(y[i]).toBe(word >= threshold ? Math.fround(x[i]! * Math.fround(1 / 0.7)) : 0);
    }
  });

  it('the cpu kernel gives the reference; the gradient applies the same mask to dy', () => {
    const x = tf.randomNormal([3, 5, 7]);
    const y = tf.engine().runKernel(DROPOUT, { x }, attrs as never) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual(Array.from(dropoutReference(x.dataSync() as Float32Array, attrs)));
    const w = tf.randomNormal([3, 5, 7]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.engine().runKernel(DROPOUT, { x: t }, attrs as never) as tf.Tensor, w)))(x);
    const kept = dropoutReference(new Float32Array(x.size).fill(1), attrs);
    const wv = w.dataSync();
    // + 0: a dropped element's gradient may be -0 or +0.
    g.dataSync().forEach((v, i) => expect(v + 0).toBe(Math.fround(wv[i]! * kept[i]!) + 0));
  });

  it('drops a fraction close to the rate', () => {
    const y = dropoutReference(new Float32Array(200_000).fill(1), { rate: 0.1, key: [1, 2], counter: [0, 0, 0] });
    const dropped = y.filter((v) => v === 0).length / y.length;
    expect(Math.abs(dropped - 0.1)).toBeLessThan(0.003); // 4.5 standard deviations
  });

  it('a context makes masks a function of (seed, step, micro-batch, stream, call); rate 0 is the identity', () => {
    const x = tf.ones([64]);
    const draw = (seed: number, step: number, microBatch: number, stream: string) =>
      withDropoutContext({ seed, step, microBatch }, () => Array.from(dropout(x, 0.5, stream).dataSync()));
    const a = draw(1, 3, 0, 'block0/attn_drop');
    expect(draw(1, 3, 0, 'block0/attn_drop')).toEqual(a);
    for (const other of [draw(2, 3, 0, 'block0/attn_drop'), draw(1, 4, 0, 'block0/attn_drop'), draw(1, 3, 1, 'block0/attn_drop'), draw(1, 3, 0, 'block1/attn_drop')]) {
      expect(other).not.toEqual(a);
    }
    // The second call of one stream in a context (a layer applied twice) gets its own mask.
    withDropoutContext({ seed: 1, step: 3 }, () => {
      expect(Array.from(dropout(x, 0.5, 'block0/attn_drop').dataSync())).toEqual(a);
      expect(Array.from(dropout(x, 0.5, 'block0/attn_drop').dataSync())).not.toEqual(a);
    });
    expect(nextDropoutAttrs(0.5, 'block0/attn_drop').key[1]).toBe(dropoutStreamId('block0/attn_drop'));
    expect(dropout(x, 0, 's')).toBe(x);
    expect(() => dropout(x, 1, 's')).toThrow(/rate/);
    expect(() => withDropoutContext({ seed: -1, step: 0 }, () => 0)).toThrow(/seed/);
  });

  it('the Dropout layer drops only while training and round-trips through its config', () => {
    const layer = new Dropout({ rate: 0.5, name: 'drop' });
    const x = tf.ones([4, 16]);
    expect(Array.from((layer.apply(x, { training: false }) as tf.Tensor).dataSync())).toEqual(Array.from(x.dataSync()));
    const trained = withDropoutContext({ seed: 9, step: 0 }, () => Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync()));
    expect(new Set(trained)).toEqual(new Set([0, 2]));
    const copy = layers.Layer.fromConfig(Dropout, layer.getConfig()) as Dropout;
    expect(copy.rate).toBe(0.5);
  });
});
