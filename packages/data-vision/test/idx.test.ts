import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadFashionMnist, readIdxImages, readIdxLabels, DEBIAN_FASHION_MNIST_DIR } from '@sparse-ift/data-vision';
import { existsSync } from 'node:fs';

// Independent IDX writer: big-endian header by hand via DataView.
function idx(magic: number, dims: number[], body: number[]): Buffer {
  const header = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  header.setUint32(0, magic, false);
  dims.forEach((d, i) => header.setUint32(4 + 4 * i, d, false));
  return Buffer.concat([Buffer.from(header.buffer), Buffer.from(body)]);
}

describe('IDX reader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'idx-'));
  // 3 images of 2×2: pixel values 0..11.
  const pixels = Array.from({ length: 12 }, (_, i) => i * 20);
  writeFileSync(join(dir, 'img'), idx(2051, [3, 2, 2], pixels));
  writeFileSync(join(dir, 'img.gz'), gzipSync(idx(2051, [3, 2, 2], pixels)));
  writeFileSync(join(dir, 'lab'), idx(2049, [3], [7, 0, 9]));

  it('reads raw and gzipped image files identically', () => {
    for (const f of ['img', 'img.gz']) {
      const r = readIdxImages(join(dir, f));
      expect([r.count, r.height, r.width]).toEqual([3, 2, 2]);
      expect(Array.from(r.data)).toEqual(pixels);
    }
    expect(Array.from(readIdxLabels(join(dir, 'lab')))).toEqual([7, 0, 9]);
  });

  it('names the file, the magic and the byte counts on bad input', () => {
    writeFileSync(join(dir, 'short'), idx(2051, [3, 2, 2], pixels.slice(0, 10)));
    expect(() => readIdxImages(join(dir, 'short'))).toThrow(/short.*3 images of 2×2.*expected 28 bytes.*got 26.*truncated/);
    expect(() => readIdxImages(join(dir, 'lab'))).toThrow(/lab: magic number 2049, expected 2051/);
    expect(() => readIdxLabels(join(dir, 'img'))).toThrow(/magic number 2051, expected 2049/);
    expect(() => readIdxImages(join(dir, 'nope'))).toThrow(/not found: .*nope/);
    const gz = gzipSync(idx(2051, [3, 2, 2], pixels));
    writeFileSync(join(dir, 'cut.gz'), gz.subarray(0, gz.length - 6));
    expect(() => readIdxImages(join(dir, 'cut.gz'))).toThrow(/cut\.gz.*truncated/);
  });

  it('loadFashionMnist reads a dataDir and names all three places when nothing is found', async () => {
    const d = mkdtempSync(join(tmpdir(), 'fm-'));
    writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), gzipSync(idx(2051, [3, 2, 2], pixels)));
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), idx(2049, [3], [7, 0, 9]));
    writeFileSync(join(d, 't10k-images-idx3-ubyte'), idx(2051, [1, 2, 2], [0, 51, 102, 255]));
    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), idx(2049, [1], [3]));
    const fm = await loadFashionMnist({ dataDir: d });
    expect(fm.source).toBe(d);
    expect(fm.train.count).toBe(3);
    expect(Array.from(fm.test.images)).toEqual([0, 0.2, 0.4, 1].map(Math.fround));
    expect(Array.from(fm.train.labels)).toEqual([7, 0, 9]);
    expect([fm.test.height, fm.test.width, fm.test.channels, fm.test.numClasses]).toEqual([2, 2, 1, 10]);
    const empty = mkdtempSync(join(tmpdir(), 'fm-empty-'));
    const err = loadFashionMnist({ systemDir: join(empty, 'sys'), cacheDir: join(empty, 'cache') });
    await expect(err).rejects.toThrow(/Debian package .*sys.*download cache .*cache.*download from http:\/\/fashion-mnist/);
    // An explicit dataDir holding none of the files is an error, never a silent fall-back to another copy.
    await expect(loadFashionMnist({ dataDir: empty, systemDir: DEBIAN_FASHION_MNIST_DIR })).rejects.toThrow(
      /dataDir .*fm-empty-.* is not a Fashion-MNIST folder, missing train-images-idx3-ubyte\[\.gz\].*leave dataDir out to use the system copy/,
    );
    writeFileSync(join(empty, 'train-labels-idx1-ubyte'), idx(2049, [3], [7, 0, 9]));
    await expect(loadFashionMnist({ dataDir: empty })).rejects.toThrow(/incomplete, missing train-images-idx3-ubyte/);
  });
});

describe.runIf(existsSync(DEBIAN_FASHION_MNIST_DIR))('real Fashion-MNIST (Debian dataset-fashion-mnist)', () => {
  it('has 60000/10000 images of 28×28 and 6000 train images per class', async () => {
    const fm = await loadFashionMnist();
    expect(fm.source).toBe(DEBIAN_FASHION_MNIST_DIR);
    expect(fm.train.count).toBe(60000);
    expect(fm.test.count).toBe(10000);
    expect([fm.train.height, fm.train.width, fm.train.channels]).toEqual([28, 28, 1]);
    expect(fm.train.images.length).toBe(60000 * 784);
    const hist = new Array(10).fill(0);
    fm.train.labels.forEach((l) => hist[l]++);
    expect(hist).toEqual(new Array(10).fill(6000));
    const testHist = new Array(10).fill(0);
    for (const l of fm.test.labels) testHist[l]++;
    expect(testHist).toEqual(new Array(10).fill(1000));
    let max = 0;
    const px = fm.train.images;
    for (let i = 0; i < px.length; i += 7) if (px[i]! > max) max = px[i]!;
    expect(max).toBe(1);
  });
});

describe('Fashion-MNIST download', () => {
  it('checks the MD5 of what it downloads and leaves no file behind when it does not match', async () => {
    const { createServer } = await import('node:http');
    const { readdirSync } = await import('node:fs');
    // A mirror serving wrong bytes for every file.
    const server = createServer((req, res) => {
      res.writeHead(req.url?.endsWith('.gz') ? 200 : 404);
      res.end('not the real file');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const d = mkdtempSync(join(tmpdir(), 'fm-dl-'));
    try {
      await expect(
        loadFashionMnist({ systemDir: join(d, 'sys'), cacheDir: join(d, 'cache'), download: true, url: `http://127.0.0.1:${port}` }),
      ).rejects.toThrow(/download from http:\/\/127\.0\.0\.1:\d+: .*MD5 [0-9a-f]{32}, expected [0-9a-f]{32}/);
      expect(readdirSync(join(d, 'cache'))).toEqual([]);
    } finally {
      server.close();
    }
  });
});
