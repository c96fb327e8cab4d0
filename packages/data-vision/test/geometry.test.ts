// Where output pixels come from: the worker's crop, resize and flip, checked against the source image's
// stripes (an independent description of the geometry), on a JPEG written by jpeg-js.
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DecodePool, randomResizedCropBox } from '@sparse-ift/data-vision';
import { makeJpeg } from './fixtures.js';
import { Rng } from '@sparse-ift/core/rng';

// 600×300: red in 32-px vertical stripes (on for even stripes), green in 32-px horizontal stripes.
const W = 600;
const H = 300;
const redOn = (x: number) => Math.floor(x / 32) % 2 === 0;
const greenOn = (y: number) => Math.floor(y / 32) % 2 === 0;
const img = makeJpeg(W, H, (x, y) => [redOn(x) ? 255 : 0, greenOn(y) ? 255 : 0, 0], 95);
const nearEdge = (v: number) => Math.abs(((v % 32) + 32) % 32 - 16) > 11; // within 5 px of a stripe edge
const pool = new DecodePool({ workers: 1 });
afterAll(() => pool.close());

/** Red/green on-off of the output at (x, y), from the normalized values (0 → −mean/std < 0, 255 → > 0). */
function onOff(pixels: Float32Array, size: number, x: number, y: number): [boolean, boolean] {
  const o = (y * size + x) * 3;
  return [pixels[o]! > 0, pixels[o + 1]! > 0];
}

describe('decode worker geometry', () => {
  it('eval: shorter side to 256, then the centre 224 (resize before crop)', async () => {
    const { pixels } = await pool.run(img, { mode: 'eval' });
    // 600×300 → 512×256 (scale 256/300), centre crop at left (512−224)/2 = 144, top (256−224)/2 = 16.
    const s = 256 / 300;
    let checked = 0;
    for (let y = 0; y < 224; y += 7) {
      for (let x = 0; x < 224; x += 7) {
        const sx = (x + 144 + 0.5) / s;
        const sy = (y + 16 + 0.5) / s;
        if (nearEdge(sx) || nearEdge(sy)) continue;
        expect(onOff(pixels, 224, x, y), `(${x}, ${y})`).toEqual([redOn(sx), greenOn(sy)]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('train: the crop box drawn from the seed, resized to 224, flipped when the next draw is < 0.5', async () => {
    let flips = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const { pixels } = await pool.run(img, { mode: 'train', seed });
      const rng = Rng.fromSeed(seed);
      const box = randomResizedCropBox(W, H, rng);
      const flip = rng.uniform() < 0.5;
      if (flip) flips++;
      let checked = 0;
      for (let y = 0; y < 224; y += 5) {
        for (let x = 0; x < 224; x += 5) {
          const ux = flip ? 223 - x : x;
          const sx = box.left + ((ux + 0.5) * box.width) / 224;
          const sy = box.top + ((y + 0.5) * box.height) / 224;
          // Skip stripe edges, and stripes thinner than ~3 output pixels (JPEG ringing, resampling blur).
          if (nearEdge(sx) || nearEdge(sy)) continue;
          expect(onOff(pixels, 224, x, y), `seed ${seed} (${x}, ${y})`).toEqual([redOn(sx), greenOn(sy)]);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(50);
    }
    expect(flips).toBeGreaterThan(0);
    expect(flips).toBeLessThan(8);
  });
});

// A PNG written by hand (zlib + CRC32 from node:zlib): colour type 0 grey, 2 RGB, 6 RGBA; bit depth 8 or 16.
function png(width: number, height: number, colourType: 0 | 2 | 6, depth: 8 | 16, sample: number[]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colourType;
  const bytesPerSample = depth / 8;
  const row = Buffer.alloc(1 + width * sample.length * bytesPerSample); // filter byte 0 + pixels
  for (let x = 0; x < width; x++) {
    sample.forEach((v, c) => {
      const o = 1 + (x * sample.length + c) * bytesPerSample;
      if (depth === 16) row.writeUInt16BE(v * 257, o);
      else row[o] = v;
    });
  }
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('decode worker colour handling', () => {
  it('grey, 16-bit RGB and RGBA PNGs all become 3-channel normalized RGB', async () => {
    const MEAN = [0.485, 0.456, 0.406];
    const STD = [0.229, 0.224, 0.225];
    for (const [name, file, rgb] of [
      ['grey 8-bit', png(40, 30, 0, 8, [200]), [200, 200, 200]],
      ['RGB 16-bit', png(40, 30, 2, 16, [10, 120, 250]), [10, 120, 250]],
      ['RGBA 8-bit, opaque', png(40, 30, 6, 8, [90, 30, 160, 255]), [90, 30, 160]],
    ] as const) {
      const { pixels } = await pool.run(file, { mode: 'eval', size: 8, resize: 10 });
      expect(pixels.length, name).toBe(8 * 8 * 3);
      for (let c = 0; c < 3; c++) expect(pixels[(3 * 8 + 3) * 3 + c], `${name} channel ${c}`).toBeCloseTo((rgb[c]! / 255 - MEAN[c]!) / STD[c]!, 2);
    }
  });
});
