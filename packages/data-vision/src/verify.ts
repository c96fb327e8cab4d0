// `sift data verify` for vision data: read every record, check CRCs / sizes, decode every image, check labels.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { readCifar100Bin } from './cifar.js';
import { DecodePool } from './decode-pool.js';
import type { DataError } from './errors.js';
import { FASHION_MNIST_CLASSES, checkIdxPair } from './idx.js';
import { listImageFolder, listShards, readFolderSample, readShard, type EncodedSample } from './sources.js';
import type { ExampleKeys } from './tfrecord.js';
import type { BadRecord, VerifyReport } from '@sparse-ift/files';

/** IDX file names (MNIST / Fashion-MNIST layout). */
const IDX_NAME = /-idx[13]-ubyte(\.gz)?$/;
/** Classes an IDX data set is checked against by default: the IDX sets this project trains on (Fashion-MNIST) have 10. */
export const IDX_DEFAULT_CLASSES = FASHION_MNIST_CLASSES.length;

export type VisionFormat = 'tfrecord' | 'wds' | 'cifar' | 'idx' | 'folder';
export const VISION_FORMATS: readonly VisionFormat[] = ['tfrecord', 'wds', 'cifar', 'idx', 'folder'];

export interface VerifyVisionOptions {
  format: VisionFormat;
  /** Labels must be in [0, numClasses). Default: 1000 (tfrecord, wds), 100 (cifar), 10 (idx, as the Fashion-MNIST loader), folder count. */
  numClasses?: number;
  /** Added to labels before the check, e.g. −1 for TF-slim ImageNet shards (labels 1..1000). */
  labelOffset?: number;
  exampleKeys?: ExampleKeys;
  /** Decode every image fully (default true). */
  decode?: boolean;
  /** Decode worker threads. Default min(4, CPU count). */
  workers?: number;
}

/** The vision format a file name says, or undefined. */
function formatOfName(name: string): VisionFormat | undefined {
  if (/\.tfrecords?$|\.tfrecords?-\d{5}-of-\d{5}$|-\d{5}-of-\d{5}$/.test(name)) return 'tfrecord';
  if (name.endsWith('.tar')) return 'wds';
  if (/^(train|test|data_batch_\d|test_batch)\.bin$/.test(name)) return 'cifar';
  if (IDX_NAME.test(name)) return 'idx';
  return undefined;
}

/**
 * Every vision format a path's file names say (a folder can mix several, e.g. TFRecord shards beside
 * tars: each is verified). Entries are judged by name whatever their type, so a FIFO named like a data
 * file is listed, then refused by its format's check.
 */
export function detectVisionFormats(path: string): VisionFormat[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) {
    const f = formatOfName(basename(path));
    return f ? [f] : [];
  }
  const entries = readdirSync(path, { withFileTypes: true });
  const found = new Set<VisionFormat>();
  for (const e of entries) {
    const f = e.isDirectory() ? undefined : formatOfName(e.name);
    if (f) found.add(f);
  }
  if (entries.some((e) => e.isDirectory() && e.name === 'cifar-100-binary')) found.add('cifar');
  const dirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.'));
  if (found.size === 0 && dirs.length > 0 && dirs.every((d) => readdirSync(join(path, d.name)).some((f) => /\.(jpe?g|png|webp)$/i.test(f)))) {
    found.add('folder');
  }
  return VISION_FORMATS.filter((f) => found.has(f));
}

/** The first of `detectVisionFormats`; undefined when no file name says a format. */
export function detectVisionFormat(path: string): VisionFormat | undefined {
  return detectVisionFormats(path)[0];
}

/** Decodes samples in a pool with a bounded number in flight; reports undecodable ones. */
async function decodeAll(
  samples: AsyncIterable<EncodedSample>,
  pool: DecodePool | undefined,
  onSample: (s: EncodedSample) => void,
  bad: BadRecord[],
): Promise<void> {
  const inFlight: Promise<void>[] = [];
  const limit = pool ? pool.workerCount * 4 : 1;
  for await (const s of samples) {
    onSample(s);
    if (!pool) continue;
    const job = pool.run(s.image, { mode: 'check' }).then(
      () => undefined,
      (err: Error) => {
        if (/decode worker \d+ (crashed|exited)/.test(err.message)) throw err;
        bad.push({ file: s.file, record: s.record, reason: `undecodable image (${err.message})` });
      },
    );
    inFlight.push(job);
    if (inFlight.length >= limit) await inFlight.shift();
  }
  await Promise.all(inFlight);
}

/** Reads every record of a vision data set and reports bad ones by file and record index. Never throws on bad data. */
export async function verifyVisionDataset(path: string, opts: VerifyVisionOptions): Promise<VerifyReport> {
  const report: VerifyReport = { format: opts.format, files: [], records: 0, bad: [] };
  const labels = new Set<number>();
  const onBad = (e: DataError) => report.bad.push({ file: e.file, record: e.record, reason: e.reason });
  const wantDecode = opts.decode ?? true;
  const makePool = () => (wantDecode ? new DecodePool({ workers: opts.workers ?? Math.min(4, availableParallelism()) }) : undefined);

  if (opts.format === 'tfrecord' || opts.format === 'wds') {
    const format = opts.format;
    report.files = listShards(path, format);
    const pool = makePool();
    try {
      for (const file of report.files) {
        // Count records by index: the highest index seen (good or bad) + 1.
        let maxRecord = -1;
        const badBefore = report.bad.length;
        await decodeAll(
          readShard(file, format, { numClasses: opts.numClasses ?? 1000, labelOffset: opts.labelOffset, exampleKeys: opts.exampleKeys, onBad }),
          pool,
          (s) => {
            maxRecord = Math.max(maxRecord, s.record);
            labels.add(s.label);
          },
          report.bad,
        );
        for (const b of report.bad.slice(badBefore)) if (b.file === file) maxRecord = Math.max(maxRecord, b.record);
        report.records += maxRecord + 1;
      }
    } finally {
      await pool?.close();
    }
  } else if (opts.format === 'folder') {
    const folder = listImageFolder(path);
    report.files = folder.samples.map((s) => s.file);
    report.records = folder.samples.length;
    report.classes = folder.classes.length;
    const pool = makePool();
    async function* read(): AsyncGenerator<EncodedSample> {
      for (const s of folder.samples) {
        try {
          yield readFolderSample(s);
        } catch (err) {
          report.bad.push({ file: s.file, record: 0, reason: `unreadable file (${(err as Error).message})` });
        }
      }
    }
    try {
      await decodeAll(read(), pool, () => undefined, report.bad);
    } finally {
      await pool?.close();
    }
    return report;
  } else if (opts.format === 'cifar') {
    const files = existsSync(path) && statSync(path).isDirectory()
      ? ['train.bin', 'test.bin', 'cifar-100-binary/train.bin', 'cifar-100-binary/test.bin'].map((f) => join(path, f)).filter((f) => existsSync(f))
      : [path];
    if (files.length === 0) throw new Error(`no CIFAR-100 binary files (train.bin, test.bin) in ${path}`);
    report.files = files.map((f) => resolve(f));
    for (const file of report.files) {
      const bad: BadRecord[] = [];
      const set = readCifar100Bin(file, { skipBad: true, bad });
      report.records += set.count + bad.length;
      report.bad.push(...bad);
      for (const l of set.labels) labels.add(l);
      if (opts.numClasses !== undefined) {
        // readCifar100Bin checks < 100; a smaller explicit numClasses is checked here (record indices of kept rows).
        set.labels.forEach((l, i) => {
          if (l >= opts.numClasses!) report.bad.push({ file, record: i, reason: `label ${l} outside [0, ${opts.numClasses})` });
        });
      }
    }
  } else if (opts.format === 'idx') {
    const files = statSync(path).isDirectory()
      ? readdirSync(path).filter((f) => IDX_NAME.test(f)).sort().map((f) => resolve(path, f))
      : [resolve(path)];
    if (files.length === 0) throw new Error(`no IDX files (*-idx3-ubyte[.gz], *-idx1-ubyte[.gz]) in ${path}`);
    report.files = files;
    // Pairs as the loader reads them (train-images ↔ train-labels): the same check, so verify OK ⇔ training accepts.
    const partnerName = (file: string): string =>
      basename(file).replace(/\.gz$/, '').replace(/-(images-idx3|labels-idx1)-/, (_, k: string) => (k === 'images-idx3' ? '-labels-idx1-' : '-images-idx3-'));
    const done = new Set<string>();
    for (const file of files) {
      if (done.has(file)) continue;
      done.add(file);
      const partner = files.find((f) => basename(f).replace(/\.gz$/, '') === partnerName(file));
      if (partner === undefined) {
        report.bad.push({ file, record: 0, reason: `no ${partnerName(file)}[.gz] beside it; training reads images and labels in pairs` });
        continue;
      }
      const [imagesFile, labelsFile] = /-idx3-/.test(file) ? [file, partner] : [partner, file];
      const check = checkIdxPair(imagesFile, labelsFile, opts.numClasses ?? IDX_DEFAULT_CLASSES);
      report.records += check.counts.images + check.counts.labels;
      report.bad.push(...check.bad);
      check.labels?.data.forEach((l) => labels.add(l));
      done.add(imagesFile).add(labelsFile);
    }
  } else {
    throw new Error(`unknown vision format '${String(opts.format)}'; use one of ${VISION_FORMATS.join(', ')}`);
  }
  report.classes = labels.size;
  return report;
}
