// Sources of encoded (image, label) samples: TFRecord shards, WebDataset tars, an image folder.
// Each shard is read lazily, in file order; `record` is the index of the sample in its file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { notRegularFileReason } from '@sparse-ift/files';
import { DataError } from './errors.js';
import { imageExample, readTfRecords, type ExampleKeys } from './tfrecord.js';
import { imageWdsSample, readWdsTar } from './wds.js';

export interface EncodedSample {
  file: string;
  record: number;
  /** Encoded image bytes (JPEG/PNG/WebP). */
  image: Uint8Array;
  label: number;
}

export type ShardFormat = 'tfrecord' | 'wds' | 'folder';

export interface ShardReadOptions {
  /** Labels must lie in [0, numClasses). Default 1000. */
  numClasses?: number;
  /** Added to every label before the range check, e.g. −1 for TF-slim shards whose classes are 1..1000. Default 0. */
  labelOffset?: number;
  /** tf.Example feature names. */
  exampleKeys?: ExampleKeys;
  /** Report a bad record here and go on instead of throwing. */
  onBad?: (err: DataError) => void;
}

function checkLabel(file: string, record: number, label: number, opts: ShardReadOptions): number {
  const numClasses = opts.numClasses ?? 1000;
  const l = label + (opts.labelOffset ?? 0);
  if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
    const off = opts.labelOffset ? ` (after labelOffset ${opts.labelOffset})` : '';
    throw new DataError(file, record, `label ${l}${off} outside [0, ${numClasses})`);
  }
  return l;
}

/**
 * Reads one shard's samples. Errors are DataErrors naming file and record (or go to onBad). A shard that
 * is not a regular file (a FIFO is refused before it is opened) or holds no records is an error too:
 * the loaders and `sift data verify` read shards through here, so they accept and refuse the same files.
 */
export async function* readShard(file: string, format: ShardFormat, opts: ShardReadOptions = {}): AsyncGenerator<EncodedSample> {
  let records = 0;
  const report = (e: DataError): void => {
    records = Math.max(records, e.record + 1);
    if (!opts.onBad) throw e;
    opts.onBad(e);
  };
  const bad = (err: unknown, record: number): void => report(err instanceof DataError ? err : new DataError(file, record, (err as Error).message));
  try {
    const unreadable = notRegularFileReason(file);
    if (unreadable !== undefined) throw new DataError(file, 0, `cannot be read: ${unreadable}`, true);
    if (format === 'tfrecord') {
      for await (const { record, data } of readTfRecords(file, report)) {
        records = Math.max(records, record + 1);
        try {
          const { image, label } = imageExample(data, opts.exampleKeys);
          yield { file, record, image, label: checkLabel(file, record, label, opts) };
        } catch (err) {
          bad(err, record);
        }
      }
    } else if (format === 'wds') {
      for await (const s of readWdsTar(file)) {
        records = Math.max(records, s.record + 1);
        try {
          const { image, label } = imageWdsSample(s);
          yield { file, record: s.record, image, label: checkLabel(file, s.record, label, opts) };
        } catch (err) {
          bad(err, s.record);
        }
      }
    } else {
      throw new Error(`readShard: format '${format}' is not a shard format; use listImageFolder for folders`);
    }
    if (records === 0) throw new DataError(file, 0, `holds no ${format === 'wds' ? 'samples' : 'records'}: an empty shard is a mistake (a failed copy?); remove it or copy it again`, true);
  } catch (err) {
    // Fatal-for-file errors (truncation, lost framing, empty): report once and end this shard.
    if (err instanceof DataError && err.fatalForFile && opts.onBad) opts.onBad(err);
    else throw err;
  }
}

const IMAGE_EXTS = new Set(['.jpg', '.jpeg', '.png', '.webp']);

export interface ImageFolder {
  root: string;
  /** Class names (sub-folder names), sorted: label i is classes[i] (torchvision ImageFolder order). */
  classes: string[];
  samples: { file: string; label: number }[];
}

/** Lists `root/<class>/<image>` (torchvision ImageFolder layout), classes and files sorted. */
export function listImageFolder(root: string): ImageFolder {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new Error(`image folder ${root} does not exist or is not a folder; expected ${root}/<class>/<image>.jpg`);
  }
  const classes = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  if (classes.length === 0) throw new Error(`image folder ${root} has no class sub-folders; expected ${root}/<class>/<image>.jpg`);
  const samples: { file: string; label: number }[] = [];
  classes.forEach((cls, label) => {
    const files = readdirSync(join(root, cls))
      .filter((f) => IMAGE_EXTS.has(extname(f).toLowerCase()) && !f.startsWith('.'))
      .sort();
    for (const f of files) samples.push({ file: resolve(root, cls, f), label });
  });
  if (samples.length === 0) throw new Error(`image folder ${root} has class folders but no images (.jpg, .jpeg, .png, .webp) in them`);
  return { root, classes, samples };
}

export function readFolderSample(s: { file: string; label: number }): EncodedSample {
  const unreadable = notRegularFileReason(s.file);
  if (unreadable !== undefined) throw new DataError(s.file, 0, `cannot be read: ${unreadable}`);
  return { file: s.file, record: 0, image: readFileSync(s.file), label: s.label };
}

/** Shard files of a format in a folder (or the file itself), sorted. */
export function listShards(path: string, format: 'tfrecord' | 'wds'): string[] {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  // A single shard, whatever its type: readShard refuses one that is not a regular file.
  if (!statSync(path).isDirectory()) return [resolve(path)];
  const match =
    format === 'wds'
      ? (f: string) => f.endsWith('.tar')
      : (f: string) => /\.tfrecords?$/.test(f) || /-\d{5}-of-\d{5}$/.test(f) || /\.tfrecord(s)?-\d{5}-of-\d{5}$/.test(f);
  const shards = readdirSync(path)
    .filter((f) => match(basename(f)))
    .sort()
    .map((f) => resolve(path, f));
  if (shards.length === 0) {
    const want = format === 'wds' ? '*.tar' : '*.tfrecord or *-00000-of-01024';
    throw new Error(`no ${format} shards (${want}) in ${path}`);
  }
  return shards;
}
