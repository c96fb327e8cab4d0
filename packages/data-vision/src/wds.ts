// WebDataset tar shards: consecutive tar members sharing a key form one sample, e.g.
// `n01440764_10026.jpg` + `n01440764_10026.cls` (the class as decimal text).
// Key/extension split as in webdataset: the key is the path up to the first '.' of the file name.
import { createReadStream } from 'node:fs';
import { extract as tarExtract } from 'tar-stream';
import { DataError } from './errors.js';

export interface WdsSample {
  /** 0-based sample index within the tar. */
  record: number;
  key: string;
  /** Extension (lower case, e.g. 'jpg', 'cls') → bytes. */
  parts: Map<string, Uint8Array>;
}

export const WDS_IMAGE_EXTS = ['jpg', 'jpeg', 'png', 'webp'] as const;
export const WDS_LABEL_EXTS = ['cls', 'label', 'class'] as const;

export function splitWdsName(name: string): { key: string; ext: string } | undefined {
  const m = /^((?:.*\/|)[^./]+)\.([^/]*)$/.exec(name);
  return m ? { key: m[1]!, ext: m[2]!.toLowerCase() } : undefined;
}

/** Streams the samples of a WebDataset tar. A truncated or malformed tar throws DataError naming the sample. */
export async function* readWdsTar(file: string): AsyncGenerator<WdsSample> {
  const extract = tarExtract();
  const input = createReadStream(file);
  // pipe() does not forward errors: forward read errors so the iterator below throws instead of hanging.
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);
  let current: WdsSample | undefined;
  let record = 0;
  try {
    for await (const entry of extract) {
      const split = entry.header.type === 'file' ? splitWdsName(entry.header.name) : undefined;
      // A new key closes the previous sample: hand it out before reading this member's bytes, so a
      // truncation inside this member is blamed on this sample, not the previous one.
      if (split && current && current.key !== split.key) {
        yield current;
        current = undefined;
        record++;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      if (!split) continue; // directories, links, files without an extension: not part of a sample (as in webdataset)
      current ??= { record, key: split.key, parts: new Map() };
      current.parts.set(split.ext, Buffer.concat(chunks));
    }
    if (current) yield current;
  } catch (err) {
    throw new DataError(file, record, `unreadable tar (${(err as Error).message}); the tar is truncated or corrupt`, true);
  } finally {
    // Also on an early return by the consumer: close the file now rather than at garbage collection.
    input.destroy();
    extract.destroy();
  }
}

/** The (image, label) of a WebDataset sample; a plain Error says what is missing or wrong. */
export function imageWdsSample(s: WdsSample): { image: Uint8Array; label: number } {
  const imageExt = WDS_IMAGE_EXTS.find((e) => s.parts.has(e));
  const labelExt = WDS_LABEL_EXTS.find((e) => s.parts.has(e));
  const have = [...s.parts.keys()].join(', ');
  if (!imageExt) throw new Error(`sample '${s.key}' has no image (.jpg/.jpeg/.png/.webp); it has: ${have}`);
  if (!labelExt) throw new Error(`sample '${s.key}' has no label (.cls); it has: ${have}`);
  const text = Buffer.from(s.parts.get(labelExt)!).toString('utf8').trim();
  if (!/^-?\d+$/.test(text)) throw new Error(`sample '${s.key}': .${labelExt} is '${text.slice(0, 40)}', not an integer`);
  return { image: s.parts.get(imageExt)!, label: Number(text) };
}
