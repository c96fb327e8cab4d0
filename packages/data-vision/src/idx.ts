// IDX files (the MNIST / Fashion-MNIST format) and the Fashion-MNIST loader.
// IDX layout: a big-endian header [magic u32][count u32]([rows u32][cols u32])? then one u8 per pixel/label.
// magic 2051 = 0x00000803 (u8, 3 dims: images), 2049 = 0x00000801 (u8, 1 dim: labels).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { notRegularFileReason, writeFileAtomic, type BadRecord } from '@sparse-ift/files';

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

type IdxKind = 'images' | 'labels';
const MAGIC: Record<IdxKind, number> = { images: IDX_IMAGES_MAGIC, labels: IDX_LABELS_MAGIC };
const KIND_NAME: Record<IdxKind, string> = { images: 'images (idx3)', labels: 'labels (idx1)' };

/** One IDX file as read: its record count, record shape ([rows, cols] or []) and the bytes of whole records. */
export interface IdxContents {
  count: number;
  dims: number[];
  data: Uint8Array;
}

/**
 * Reads and checks one IDX file of `kind`: a regular file (a FIFO is refused without opening it), gzip
 * or raw, the right magic, a whole header, at least one record, records of at least 1×1, exactly the
 * bytes its header says. Returns the contents, or the one problem as a bad record (the index of the
 * first record the problem touches). The single check behind the loaders and `sift data verify`.
 */
export function readIdxChecked(file: string, kind: IdxKind): { contents: IdxContents } | { bad: BadRecord; count?: number } {
  const bad = (reason: string, record = 0, count?: number) => ({ bad: { file, record, reason }, ...(count === undefined ? {} : { count }) });
  const unreadable = notRegularFileReason(file);
  if (unreadable === 'it does not exist') return bad(`IDX file not found: ${file}`);
  if (unreadable !== undefined) return bad(`IDX file ${file} cannot be read: ${unreadable}`);
  let buf = readFileSync(file);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (err) {
      return bad(`IDX file ${file} is not a valid gzip stream (${(err as Error).message}); it is probably truncated — download it again.`);
    }
  }
  const magic = MAGIC[kind];
  const headerBytes = kind === 'images' ? 16 : 8;
  if (buf.length >= 4 && buf.readUInt32BE(0) !== magic) {
    return bad(`IDX file ${file}: magic number ${buf.readUInt32BE(0)}, expected ${magic} for ${KIND_NAME[kind]}; is this the right file?`);
  }
  if (buf.length < headerBytes) return bad(`IDX file ${file} is truncated: expected a ${headerBytes}-byte header with magic ${magic}, got ${buf.length} bytes.`);
  const count = buf.readUInt32BE(4);
  const dims = kind === 'images' ? [buf.readUInt32BE(8), buf.readUInt32BE(12)] : [];
  const recordBytes = dims.reduce((a, b) => a * b, 1);
  if (count === 0) return bad(`IDX file ${file} holds no ${kind} (its header says 0); an empty split cannot be trained or evaluated on`, 0, 0);
  if (recordBytes === 0) return bad(`IDX file ${file}: its header says images of ${dims.join('×')} pixels; images need at least 1×1`, 0, count);
  const expected = headerBytes + count * recordBytes;
  if (buf.length !== expected) {
    const what = kind === 'images' ? `${count} images of ${dims.join('×')}` : `${count} labels`;
    const whole = Math.min(count, Math.floor((buf.length - headerBytes) / recordBytes));
    return bad(
      `${buf.length < expected ? 'truncated' : 'too long'}: IDX file ${file}: header says ${what}, so expected ${expected} bytes (uncompressed), got ${buf.length}; ` +
        `the file is ${buf.length < expected ? 'truncated' : 'longer than its header says'}.`,
      whole,
      count,
    );
  }
  return { contents: { count, dims, data: new Uint8Array(buf.buffer, buf.byteOffset + headerBytes, count * recordBytes) } };
}

function readOrThrow(file: string, kind: IdxKind): IdxContents {
  const r = readIdxChecked(file, kind);
  if ('bad' in r) throw new Error(r.bad.reason);
  return r.contents;
}

/** Reads an IDX3 u8 image file (magic 2051), gzipped or raw. `data` is count×height×width bytes. */
export function readIdxImages(file: string): { data: Uint8Array; count: number; height: number; width: number } {
  const { data, count, dims } = readOrThrow(file, 'images');
  return { data, count, height: dims[0]!, width: dims[1]! };
}

/** Reads an IDX1 u8 label file (magic 2049), gzipped or raw. */
export function readIdxLabels(file: string): Uint8Array {
  return readOrThrow(file, 'labels').data;
}

/** An images file and its labels file, read and checked; `bad` lists every problem (empty: usable). */
export interface IdxPairCheck {
  images?: IdxContents;
  labels?: IdxContents;
  /** Records each file's header claims (0 when unreadable), for reports. */
  counts: { images: number; labels: number };
  bad: BadRecord[];
}

/**
 * Everything that decides whether an IDX pair can be trained on as a `numClasses` classifier: each file
 * as `readIdxChecked` checks it, the same count in both, every label below `numClasses`. Shared by
 * `loadIdxImageSet` (which refuses on any problem) and `verifyVisionDataset` (which lists them), so
 * verify says OK exactly when training accepts the pair.
 */
export function checkIdxPair(imagesFile: string, labelsFile: string, numClasses: number): IdxPairCheck {
  const check: IdxPairCheck = { counts: { images: 0, labels: 0 }, bad: [] };
  for (const [kind, file] of [['images', imagesFile], ['labels', labelsFile]] as const) {
    const r = readIdxChecked(file, kind);
    if ('bad' in r) {
      check.bad.push(r.bad);
      check.counts[kind] = r.count ?? 0;
    } else {
      check[kind] = r.contents;
      check.counts[kind] = r.contents.count;
    }
  }
  if (check.images && check.labels && check.images.count !== check.labels.count) {
    check.bad.push({ file: labelsFile, record: Math.min(check.images.count, check.labels.count), reason: `IDX pair mismatch: ${imagesFile} has ${check.images.count} images but ${labelsFile} has ${check.labels.count} labels` });
  }
  if (check.labels) {
    check.labels.data.forEach((label, i) => {
      if (label >= numClasses) check.bad.push({ file: labelsFile, record: i, reason: `label ${label} outside [0, ${numClasses})` });
    });
  }
  return check;
}

/** Builds an ImageSet (grey, C=1, pixels/255) from an image file and a label file; refuses any problem `checkIdxPair` finds. */
export function loadIdxImageSet(imagesFile: string, labelsFile: string, numClasses: number): ImageSet {
  const check = checkIdxPair(imagesFile, labelsFile, numClasses);
  if (check.bad.length > 0) {
    const first = check.bad[0]!;
    const more = check.bad.length > 1 ? ` (and ${check.bad.length - 1} more problem${check.bad.length > 2 ? 's' : ''}; \`sift data verify ${dirname(imagesFile)} --format idx\` lists them all)` : '';
    const where = first.reason.includes(first.file) ? '' : `IDX file ${first.file}: record ${first.record}: `;
    throw new Error(`${where}${first.reason}${more}`);
  }
  const img = check.images!;
  const labels = Int32Array.from(check.labels!.data);
  const images = new Float32Array(img.data.length);
  for (let i = 0; i < img.data.length; i++) images[i] = img.data[i]! / 255;
  return { images, labels, count: img.count, height: img.dims[0]!, width: img.dims[1]!, channels: 1, numClasses };
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
    // Atomic, so an interrupted download never leaves a half file under the real name.
    writeFileAtomic(dest, body);
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
    // A dataDir given explicitly is the data the user means: never silently fall back to another copy.
    if (what === 'dataDir') {
      throw new Error(
        `Fashion-MNIST: dataDir ${dir} is ${found.missing.length < 4 ? 'incomplete' : 'not a Fashion-MNIST folder'}, missing ${found.missing.join(', ')}; ` +
          'put the four IDX files there, or leave dataDir out to use the system copy (datasets/fashion-mnist.md).',
      );
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
