import { describe, expect, it } from 'vitest';
import {
  CIFAR100_MEAN, CIFAR100_STD, centerCropBox, normalizeInto, randomResizedCropBox, resizeShorterSide, roundHalfEven,
} from '@sparse-ift/data-vision';
import { Rng } from '@sparse-ift/core/rng';

describe('ImageNet geometry (torchvision semantics, hand-computed)', () => {
  it('resize 256 then centre-crop 224 of a 500×375 image', () => {
    // int(256 · 500 / 375) = int(341.33) = 341
    expect(resizeShorterSide(500, 375, 256)).toEqual({ width: 341, height: 256 });
    expect(resizeShorterSide(375, 500, 256)).toEqual({ width: 256, height: 341 });
    // left = int(round((341 − 224) / 2)) = round(58.5) = 58 in Python (half to even); top = round(16) = 16
    expect(centerCropBox(341, 256, 224)).toEqual({ left: 58, top: 16, width: 224, height: 224 });
    expect([roundHalfEven(2.5), roundHalfEven(3.5), roundHalfEven(-0.5), roundHalfEven(1.2)]).toEqual([2, 4, -0, 1]);
    expect(() => centerCropBox(100, 300, 224)).toThrow(/larger than the 100×300 image/);
  });

  it('random-resized-crop boxes lie inside the image with area 8–100 % and aspect 3/4–4/3', () => {
    const rng = Rng.fromSeed(7);
    let flat = 0;
    for (let i = 0; i < 2000; i++) {
      const b = randomResizedCropBox(500, 375, rng);
      expect(b.left).toBeGreaterThanOrEqual(0);
      expect(b.top).toBeGreaterThanOrEqual(0);
      expect(b.left + b.width).toBeLessThanOrEqual(500);
      expect(b.top + b.height).toBeLessThanOrEqual(375);
      const area = (b.width * b.height) / (500 * 375);
      expect(area).toBeGreaterThan(0.08 - 0.01);
      expect(area).toBeLessThanOrEqual(1);
      // rounding w and h to integers moves the ratio by at most ~1/h either way
      expect(b.width / b.height).toBeGreaterThan(0.75 * (1 - 2 / b.height));
      expect(b.width / b.height).toBeLessThan((4 / 3) * (1 + 2 / b.height));
      if (b.width < 250) flat++;
    }
    expect(flat).toBeGreaterThan(100); // small crops do happen
  });

  it('falls back to a centre crop with the ratio clamped when no try fits (1000×10 image)', () => {
    // No crop of area ≥ 800 px fits in 10 rows; fallback: h = 10, w = round(10 · 4/3) = 13, left = floor(987 / 2) = 493.
    expect(randomResizedCropBox(1000, 10, Rng.fromSeed(1))).toEqual({ left: 493, top: 0, width: 13, height: 10 });
    // Tall: w = 10, h = round(10 / (3/4)) = 13, top = floor(987 / 2) = 493.
    expect(randomResizedCropBox(10, 1000, Rng.fromSeed(1))).toEqual({ left: 0, top: 493, width: 10, height: 13 });
  });

  it('normalizes u8 HWC pixels as (x/255 − mean)/std', () => {
    const out = new Float32Array(6);
    normalizeInto(Uint8Array.from([0, 255, 128, 10, 20, 30]), 3, CIFAR100_MEAN, CIFAR100_STD, out);
    const want = [0, 255, 128, 10, 20, 30].map((v, i) => (v / 255 - CIFAR100_MEAN[i % 3]!) / CIFAR100_STD[i % 3]!);
    out.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
  });
});

describe('jpegSize', () => {
  it('reads width and height from the frame header of JPEGs written by jpeg-js', async () => {
    const { makeJpeg, decodeJpegIndependently } = await import('./fixtures.js');
    const { jpegSize } = await import('@sparse-ift/data-vision');
    const j = makeJpeg(37, 21, () => [1, 2, 3]);
    expect(jpegSize(j)).toEqual({ width: 37, height: 21 });
    const ref = decodeJpegIndependently(j);
    expect([ref.width, ref.height]).toEqual([37, 21]);
    expect(jpegSize(Buffer.from('not a jpeg'))).toBeUndefined();
    expect(jpegSize(j.subarray(0, 10))).toBeUndefined();
  });
});
