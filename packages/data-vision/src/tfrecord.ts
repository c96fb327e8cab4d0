// TFRecord files and tf.Example protos (the layout of TF/TFDS ImageNet shards). The framing and its
// masked CRC32C live in @sparse-ift/files (shared with TensorBoard event files); this file reads shards
// record by record and decodes tf.Example.
import { open } from 'node:fs/promises';
import protobuf from 'protobufjs';
import { TFRECORD_FOOTER_BYTES, TFRECORD_HEADER_BYTES, readTfRecordHeader, tfRecordDataOk } from '@sparse-ift/files';
import { DataError } from './errors.js';

// A record larger than this is a corrupt length field, not an image (ImageNet's largest JPEG is ~15 MB).
const MAX_RECORD_BYTES = 1 << 30;

/**
 * Reads a TFRecord file record by record, checking both CRCs. Throws DataError naming file and record on
 * a bad CRC or truncation. A bad data CRC leaves the framing intact: with `onBadData` the caller may
 * continue (the record is reported and skipped); a bad length CRC or truncation ends the file.
 */
export async function* readTfRecords(
  file: string,
  onBadData?: (err: DataError) => void,
): AsyncGenerator<{ record: number; data: Uint8Array }> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const header = Buffer.alloc(TFRECORD_HEADER_BYTES);
    let pos = 0;
    for (let record = 0; pos < size; record++) {
      if (size - pos < TFRECORD_HEADER_BYTES) {
        throw new DataError(file, record, `truncated header: ${size - pos} of ${TFRECORD_HEADER_BYTES} bytes at offset ${pos}`, true);
      }
      await fh.read(header, 0, TFRECORD_HEADER_BYTES, pos);
      const parsed = readTfRecordHeader(header);
      if ('error' in parsed) throw new DataError(file, record, `${parsed.error} at offset ${pos}; the file is corrupt from here on`, true);
      if (parsed.length > BigInt(MAX_RECORD_BYTES)) {
        throw new DataError(file, record, `record length ${parsed.length} bytes is implausible`, true);
      }
      const length = Number(parsed.length);
      const framed = TFRECORD_HEADER_BYTES + length + TFRECORD_FOOTER_BYTES;
      if (size - pos < framed) {
        throw new DataError(
          file,
          record,
          `truncated: record needs ${length + TFRECORD_FOOTER_BYTES} more bytes at offset ${pos + TFRECORD_HEADER_BYTES}, file has ${size - pos - TFRECORD_HEADER_BYTES}`,
          true,
        );
      }
      const body = Buffer.alloc(length + TFRECORD_FOOTER_BYTES);
      await fh.read(body, 0, body.length, pos + TFRECORD_HEADER_BYTES);
      pos += framed;
      const data = body.subarray(0, length);
      if (!tfRecordDataOk(data, body.subarray(length))) {
        const err = new DataError(file, record, 'bad data CRC (masked CRC32C mismatch)');
        if (!onBadData) throw err;
        onBadData(err);
        continue;
      }
      yield { record, data };
    }
  } finally {
    await fh.close();
  }
}

// tf.Example (tensorflow/core/example/{example,feature}.proto), declared as JSON for protobufjs.
const exampleRoot = protobuf.Root.fromJSON(({
  nested: {
    tensorflow: {
      nested: {
        BytesList: { fields: { value: { rule: 'repeated', type: 'bytes', id: 1 } } },
        FloatList: { fields: { value: { rule: 'repeated', type: 'float', id: 1, options: { packed: true } } } },
        Int64List: { fields: { value: { rule: 'repeated', type: 'int64', id: 1, options: { packed: true } } } },
        Feature: {
          oneofs: { kind: { oneof: ['bytesList', 'floatList', 'int64List'] } },
          fields: {
            bytesList: { type: 'BytesList', id: 1 },
            floatList: { type: 'FloatList', id: 2 },
            int64List: { type: 'Int64List', id: 3 },
          },
        },
        Features: { fields: { feature: { keyType: 'string', type: 'Feature', id: 1 } } },
        Example: { fields: { features: { type: 'Features', id: 1 } } },
      },
    },
  },
}) as protobuf.INamespace);
export const ExampleType = exampleRoot.lookupType('tensorflow.Example');

/** One feature of a tf.Example, as plain arrays. int64 values become numbers (labels fit easily). */
export type FeatureValue =
  | { kind: 'bytes'; value: Uint8Array[] }
  | { kind: 'float'; value: number[] }
  | { kind: 'int64'; value: number[] };

interface RawFeature {
  bytesList?: { value?: Uint8Array[] };
  floatList?: { value?: number[] };
  int64List?: { value?: (number | { toNumber(): number })[] };
}

/** Decodes a serialized tf.Example into a map of feature name → values. */
export function parseExample(data: Uint8Array): Map<string, FeatureValue> {
  const msg = ExampleType.decode(data) as unknown as { features?: { feature?: Record<string, RawFeature> } };
  const out = new Map<string, FeatureValue>();
  for (const [name, f] of Object.entries(msg.features?.feature ?? {})) {
    if (f.bytesList) out.set(name, { kind: 'bytes', value: f.bytesList.value ?? [] });
    else if (f.floatList) out.set(name, { kind: 'float', value: f.floatList.value ?? [] });
    else if (f.int64List)
      out.set(name, { kind: 'int64', value: (f.int64List.value ?? []).map((v) => (typeof v === 'number' ? v : v.toNumber())) });
    else out.set(name, { kind: 'bytes', value: [] });
  }
  return out;
}

/** Serializes features into a tf.Example (for writing shards; tests use their own writer). */
export function encodeExample(features: Record<string, FeatureValue>): Uint8Array {
  const feature: Record<string, RawFeature> = {};
  for (const [name, f] of Object.entries(features)) {
    if (f.kind === 'bytes') feature[name] = { bytesList: { value: f.value } };
    else if (f.kind === 'float') feature[name] = { floatList: { value: f.value } };
    else feature[name] = { int64List: { value: f.value } };
  }
  return ExampleType.encode(ExampleType.create({ features: { feature } })).finish();
}

export interface ExampleKeys {
  /** Feature holding the encoded JPEG. Default: 'image/encoded', else 'image' (TFDS). */
  image?: string;
  /** Feature holding the int64 class. Default: 'image/class/label', else 'label' (TFDS). */
  label?: string;
}

/** Pulls (encoded image, label) out of an ImageNet-layout tf.Example; throws a plain Error saying what is missing. */
export function imageExample(data: Uint8Array, keys: ExampleKeys = {}): { image: Uint8Array; label: number } {
  let ex: Map<string, FeatureValue>;
  try {
    ex = parseExample(data);
  } catch (err) {
    throw new Error(`not a tf.Example protobuf (${(err as Error).message})`);
  }
  const imageKey = keys.image ?? (ex.has('image/encoded') ? 'image/encoded' : 'image');
  const labelKey = keys.label ?? (ex.has('image/class/label') ? 'image/class/label' : 'label');
  const img = ex.get(imageKey);
  const lab = ex.get(labelKey);
  const names = [...ex.keys()].join(', ') || 'none';
  if (!img || img.kind !== 'bytes' || img.value.length !== 1) {
    throw new Error(`tf.Example has no single bytes feature '${imageKey}' (features: ${names})`);
  }
  if (!lab || lab.kind !== 'int64' || lab.value.length !== 1) {
    throw new Error(`tf.Example has no single int64 feature '${labelKey}' (features: ${names})`);
  }
  return { image: img.value[0]!, label: lab.value[0]! };
}
