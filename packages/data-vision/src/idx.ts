// IDX files (the MNIST / Fashion-MNIST format) and the Fashion-MNIST loader.
// IDX layout: a big-endian header [magic u32][count u32]([rows u32][cols u32])? then one u8 per pixel/label.
// magic 2051 = 0x00000803 (u8, 3 dims: images), 2049 = 0x00000801 (u8, 1 dim: labels).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** A whole image data set in memory: pixels N×H×W×C (NHWC, tf.js order) scaled to [0,1]. */
export interface ImageSet {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

/** Reads a file and gunzips it when it starts with the gzip magic (so `.gz` or raw both work). */
function readMaybeGzip(file: string): Buffer {
  if (!existsSync(file)) throw new Error(`IDX file not found: ${file}`);
  const raw = readFileSync(file);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch (err) {
      throw new Error(
        `IDX file ${file} is not a valid gzip stream (${(err as Error).message}); it is probably truncated — download it again.`,
      );
    }
  }
  return raw;
}

function checkHeader(file: string, buf: Buffer, magic: number, headerBytes: number): void {
  if (buf.length >= 4 && buf.readUInt32BE(0) !== magic) {
    const kind = magic === IDX_IMAGES_MAGIC ? 'images (idx3)' : 'labels (idx1)';
    throw new Error(
      `IDX file ${file}: magic number ${buf.readUInt32BE(0)}, expected ${magic} for ${kind}; is this the right file?`,
    );
  }
  if (buf.length < headerBytes) {
    throw new Error(
      `IDX file ${file} is truncated: expected a ${headerBytes}-byte header with magic ${magic}, got ${buf.length} bytes.`,
    );
  }
}

/** Header facts of an IDX file (for verification): how many whole records the bytes really hold. */
export function inspectIdx(file: string): { magic: number; count: number; recordBytes: number; wholeRecords: number; expectedBytes: number; bytes: number } {
  const buf = readMaybeGzip(file);
  if (buf.length < 8) throw new Error(`IDX file ${file} is truncated: ${buf.length} bytes, shorter than any IDX header`);
  const magic = buf.readUInt32BE(0);
  const count = buf.readUInt32BE(4);
  if (magic !== IDX_IMAGES_MAGIC && magic !== IDX_LABELS_MAGIC) {
    throw new Error(`IDX file ${file}: magic number ${magic}, expected ${IDX_IMAGES_MAGIC} (images) or ${IDX_LABELS_MAGIC} (labels)`);
  }
  const headerBytes = magic === IDX_IMAGES_MAGIC ? 16 : 8;
  if (buf.length < headerBytes) throw new Error(`IDX file ${file} is truncated: ${buf.length} bytes, header needs ${headerBytes}`);
  const recordBytes = magic === IDX_IMAGES_MAGIC ? buf.readUInt32BE(8) * buf.readUInt32BE(12) : 1;
  const expectedBytes = headerBytes + count * recordBytes;
  const wholeRecords = recordBytes > 0 ? Math.min(count, Math.floor((buf.length - headerBytes) / recordBytes)) : count;
  return { magic, count, recordBytes, wholeRecords, expectedBytes, bytes: buf.length };
}

/** Reads an IDX3 u8 image file (magic 2051), gzipped or raw. `data` is count×height×width bytes. */
export function readIdxImages(file: string): { data: Uint8Array; count: number; height: number; width: number } {
  const buf = readMaybeGzip(file);
  checkHeader(file, buf, IDX_IMAGES_MAGIC, 16);
  const count = buf.readUInt32BE(4);
  const height = buf.readUInt32BE(8);
  const width = buf.readUInt32BE(12);
  const expected = 16 + count * height * width;
  if (buf.length !== expected) {
    throw new Error(
      `IDX file ${file}: header says ${count} images of ${height}×${width}, so expected ${expected} bytes ` +
        `(uncompressed), got ${buf.length}; the file is ${buf.length < expected ? 'truncated' : 'longer than its header says'}.`,
    );
  }
  return { data: new Uint8Array(buf.buffer, buf.byteOffset + 16, count * height * width), count, height, width };
}

/** Reads an IDX1 u8 label file (magic 2049), gzipped or raw. */
export function readIdxLabels(file: string): Uint8Array {
  const buf = readMaybeGzip(file);
  checkHeader(file, buf, IDX_LABELS_MAGIC, 8);
  const count = buf.readUInt32BE(4);
  const expected = 8 + count;
  if (buf.length !== expected) {
    throw new Error(
      `IDX file ${file}: header says ${count} labels, so expected ${expected} bytes (uncompressed), got ${buf.length}; ` +
        `the file is ${buf.length < expected ? 'truncated' : 'longer than its header says'}.`,
    );
  }
  return new Uint8Array(buf.buffer, buf.byteOffset + 8, count);
}

/** Builds an ImageSet (grey, C=1, pixels/255) from an image file and a label file; checks they agree. */
export function loadIdxImageSet(imagesFile: string, labelsFile: string, numClasses: number): ImageSet {
  const img = readIdxImages(imagesFile);
  const lab = readIdxLabels(labelsFile);
  if (lab.length !== img.count) {
    throw new Error(`IDX pair mismatch: ${imagesFile} has ${img.count} images but ${labelsFile} has ${lab.length} labels.`);
  }
  const labels = new Int32Array(lab.length);
  for (let i = 0; i < lab.length; i++) {
    if (lab[i]! >= numClasses) {
      throw new Error(`IDX file ${labelsFile}: record ${i} has label ${lab[i]}, outside [0, ${numClasses}).`);
    }
    labels[i] = lab[i]!;
  }
  const images = new Float32Array(img.data.length);
  for (let i = 0; i < img.data.length; i++) images[i] = img.data[i]! / 255;
  return { images, labels, count: img.count, height: img.height, width: img.width, channels: 1, numClasses };
}

// ---------------------------------------------------------------------------------------------
// Fashion-MNIST

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Debian/Ubuntu package `dataset-fashion-mnist` installs the four gzipped files here. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
/** The public location named in zalandoresearch/fashion-mnist's README. */
export const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
/** MD5 of the `.gz` files served at FASHION_MNIST_URL (as listed by zalandoresearch/fashion-mnist and torchvision). */
export const FASHION_MNIST_MD5: Record<string, string> = {
  'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
  'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
  't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
  't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
};

export interface FashionMnistOptions {
  /** A folder holding the four IDX files, gzipped (`*.gz`) or not. Checked first. */
  dataDir?: string;
  /** When no local copy is found, download from FASHION_MNIST_URL into cacheDir (MD5-checked). Default false. */
  download?: boolean;
  /** Where downloads go and are looked for. Default `~/.cache/sparse-ift/fashion-mnist`. */
  cacheDir?: string;
  /** Where the Debian package's files are looked for; default DEBIAN_FASHION_MNIST_DIR (override for tests). */
  systemDir?: string;
  /** Download location (a mirror); default FASHION_MNIST_URL. Files are still MD5-checked. */
  url?: string;
}

/** Returns the four paths if all exist in `dir` (raw name or `.gz`), else the missing names. */
function findIdxFiles(dir: string): { files?: Record<keyof typeof FASHION_MNIST_FILES, string>; missing: string[] } {
  const files: Partial<Record<keyof typeof FASHION_MNIST_FILES, string>> = {};
  const missing: string[] = [];
  for (const [key, name] of Object.entries(FASHION_MNIST_FILES) as [keyof typeof FASHION_MNIST_FILES, string][]) {
    const hit = [join(dir, name), join(dir, `${name}.gz`)].find((p) => existsSync(p));
    if (hit) files[key] = hit;
    else missing.push(`${name}[.gz]`);
  }
  return missing.length === 0 ? { files: files as Record<keyof typeof FASHION_MNIST_FILES, string>, missing } : { missing };
}

async function downloadFashionMnist(cacheDir: string, baseUrl: string): Promise<void> {
  mkdirSync(cacheDir, { recursive: true });
  for (const [name, md5] of Object.entries(FASHION_MNIST_MD5)) {
    const dest = join(cacheDir, name);
    if (existsSync(dest) && createHash('md5').update(readFileSync(dest)).digest('hex') === md5) continue;
    const url = new URL(name, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`download of ${url} failed: HTTP ${res.status} ${res.statusText}`);
    const body = Buffer.from(await res.arrayBuffer());
    const got = createHash('md5').update(body).digest('hex');
    if (got !== md5) throw new Error(`download of ${url}: MD5 ${got}, expected ${md5}; the file is corrupt or was changed upstream.`);
    // Write then rename, so an interrupted download never leaves a half file under the real name.
    writeFileSync(`${dest}.part`, body);
    renameSync(`${dest}.part`, dest);
  }
}

/**
 * Loads Fashion-MNIST (60000 train / 10000 test, 28×28×1, 10 classes).
 * Looks in `dataDir`, then Debian's `/usr/share/datasets/fashion-mnist`, then (if `download`) the public
 * location into `cacheDir`. `source` says which folder was used.
 */
export async function loadFashionMnist(
  opts: FashionMnistOptions = {},
): Promise<{ train: ImageSet; test: ImageSet; source: string }> {
  const cacheDir = opts.cacheDir ?? join(homedir(), '.cache', 'sparse-ift', 'fashion-mnist');
  const tried: string[] = [];
  const candidates = [
    ...(opts.dataDir ? [{ dir: opts.dataDir, what: 'dataDir' }] : []),
    { dir: opts.systemDir ?? DEBIAN_FASHION_MNIST_DIR, what: 'Debian package dataset-fashion-mnist' },
    { dir: cacheDir, what: 'download cache' },
  ];
  for (const { dir, what } of candidates) {
    const found = findIdxFiles(dir);
    if (found.files) return loadFrom(found.files, dir);
    tried.push(`${what} ${dir} (missing ${found.missing.join(', ')})`);
    // A dataDir given explicitly but incomplete is a user mistake: say so rather than silently use another copy.
    if (what === 'dataDir' && found.missing.length < 4) {
      throw new Error(`Fashion-MNIST: dataDir ${dir} is incomplete, missing ${found.missing.join(', ')}.`);
    }
  }
  if (opts.download) {
    try {
      await downloadFashionMnist(cacheDir, opts.url ?? FASHION_MNIST_URL);
    } catch (err) {
      tried.push(`download from ${opts.url ?? FASHION_MNIST_URL}: ${(err as Error).message}`);
      throw new Error(`Fashion-MNIST not found. Tried: ${tried.join('; ')}.`);
    }
    const found = findIdxFiles(cacheDir);
    if (found.files) return loadFrom(found.files, cacheDir);
  } else {
    tried.push(`download from ${opts.url ?? FASHION_MNIST_URL} (not attempted: pass download: true)`);
  }
  throw new Error(
    `Fashion-MNIST not found. Tried: ${tried.join('; ')}. ` +
      `Fix: pass dataDir, or \`apt-get install dataset-fashion-mnist\`, or pass download: true.`,
  );
}

function loadFrom(files: Record<keyof typeof FASHION_MNIST_FILES, string>, dir: string) {
  const train = loadIdxImageSet(files.trainImages, files.trainLabels, 10);
  const test = loadIdxImageSet(files.testImages, files.testLabels, 10);
  return { train, test, source: dir };
}
