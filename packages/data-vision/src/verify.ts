// `sift data verify` for vision data: read every record, check CRCs / sizes, decode every image, check labels.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { readCifar100Bin } from './cifar.js';
import { DecodePool } from './decode-pool.js';
import type { DataError } from './errors.js';
import { IDX_IMAGES_MAGIC, inspectIdx, readIdxLabels } from './idx.js';
import { listImageFolder, listShards, readFolderSample, readShard, type EncodedSample } from './sources.js';
import type { ExampleKeys } from './tfrecord.js';
import type { BadRecord, VerifyReport } from '@sparse-ift/files';

export type VisionFormat = 'tfrecord' | 'wds' | 'cifar' | 'idx' | 'folder';
export const VISION_FORMATS: readonly VisionFormat[] = ['tfrecord', 'wds', 'cifar', 'idx', 'folder'];

export interface VerifyVisionOptions {
  format: VisionFormat;
  /** Labels must be in [0, numClasses). Default: 1000 (tfrecord, wds), 100 (cifar), 256 (idx), folder count. */
  numClasses?: number;
  /** Added to labels before the check, e.g. −1 for TF-slim ImageNet shards (labels 1..1000). */
  labelOffset?: number;
  exampleKeys?: ExampleKeys;
  /** Decode every image fully (default true). */
  decode?: boolean;
  /** Decode worker threads. Default min(4, CPU count). */
  workers?: number;
}

/** Guesses the format of a path from file names; undefined when unsure. */
export function detectVisionFormat(path: string): VisionFormat | undefined {
  const look = (name: string): VisionFormat | undefined => {
    if (/\.tfrecords?$|\.tfrecords?-\d{5}-of-\d{5}$|-\d{5}-of-\d{5}$/.test(name)) return 'tfrecord';
    if (name.endsWith('.tar')) return 'wds';
    if (/^(train|test|data_batch_\d|test_batch)\.bin$/.test(name)) return 'cifar';
    if (/-idx\d-ubyte(\.gz)?$/.test(name)) return 'idx';
    return undefined;
  };
  if (!existsSync(path)) return undefined;
  if (statSync(path).isFile()) return look(basename(path));
  const entries = readdirSync(path, { withFileTypes: true });
  for (const e of entries) {
    const f = e.isFile() ? look(e.name) : undefined;
    if (f) return f;
  }
  if (entries.some((e) => e.isDirectory() && e.name === 'cifar-100-binary')) return 'cifar';
  const dirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.'));
  if (dirs.length > 0 && dirs.every((d) => readdirSync(join(path, d.name)).some((f) => /\.(jpe?g|png|webp)$/i.test(f)))) {
    return 'folder';
  }
  return undefined;
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
      ? readdirSync(path).filter((f) => /-idx[13]-ubyte(\.gz)?$/.test(f)).sort().map((f) => resolve(path, f))
      : [resolve(path)];
    if (files.length === 0) throw new Error(`no IDX files (*-idx3-ubyte[.gz], *-idx1-ubyte[.gz]) in ${path}`);
    report.files = files;
    const numClasses = opts.numClasses ?? 256;
    const counts = new Map<string, number>();
    for (const file of files) {
      try {
        const h = inspectIdx(file);
        counts.set(file, h.count);
        report.records += h.count;
        if (h.bytes !== h.expectedBytes) {
          report.bad.push({
            file,
            record: h.wholeRecords,
            reason: `${h.bytes < h.expectedBytes ? 'truncated' : 'too long'}: header says ${h.count} records, expected ${h.expectedBytes} bytes, got ${h.bytes}`,
          });
          continue;
        }
        if (h.magic !== IDX_IMAGES_MAGIC) {
          readIdxLabels(file).forEach((l, i) => {
            labels.add(l);
            if (l >= numClasses) report.bad.push({ file, record: i, reason: `label ${l} outside [0, ${numClasses})` });
          });
        }
      } catch (err) {
        report.bad.push({ file, record: 0, reason: (err as Error).message });
      }
    }
    // Each images file must have a labels file of the same count (train-images ↔ train-labels).
    for (const [file, n] of counts) {
      if (!/-images-idx3-ubyte/.test(file)) continue;
      const partner = [...counts.keys()].find((f) => f.replace('-labels-idx1-', '-images-idx3-') === file);
      if (partner !== undefined && counts.get(partner) !== n) {
        report.bad.push({ file: partner, record: 0, reason: `${counts.get(partner)} labels but ${basename(file)} has ${n} images` });
      }
    }
  } else {
    throw new Error(`unknown vision format '${String(opts.format)}'; use one of ${VISION_FORMATS.join(', ')}`);
  }
  report.classes = labels.size;
  return report;
}
