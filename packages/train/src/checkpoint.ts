/**
 * Checkpoints: one file holding the raw float32 data of every tensor (weights, masks, optimiser state)
 * and a JSON header (metadata, tensor index with a CRC32C per tensor). Written atomically through
 * @sparse-ift/files (temp file, fsync, rename), so a `kill -9` at any moment leaves either the previous
 * or the new checkpoint; read by positioned reads, never as a whole file, so any size works (GPT and
 * ImageNet Sparse Wide checkpoints pass 2 GiB), and verified against its checksums before anything is
 * used.
 *
 * Layout (version 2): "SIFTCKP2" · tensor data (float32 LE, in index order) · header JSON (utf-8) ·
 * trailer: u32 LE header length · u32 LE CRC32C of the header · "SIFT-END". The header comes last so
 * the writer streams each tensor once, checksumming it on the way. Version 1 files ("SIFTCKPT" · u32
 * LE header length · header · data, no checksums) are still read.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { AtomicFile, crc32c, notRegularFileReason, readFully } from '@sparse-ift/files';
import type { OptimizerState, SparseOptimizer } from './core.js';

const MAGIC_V1 = 'SIFTCKPT';
const MAGIC_V2 = 'SIFTCKP2';
const END_MAGIC = 'SIFT-END';
const TRAILER_BYTES = 16;
/** Checksums are verified in pieces of this size, so verifying never holds a whole tensor. */
const VERIFY_CHUNK = 64 << 20;

export interface StoredTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * A tensor the writer asks for when it reaches it: a model's variables are read one at a time, so a
 * checkpoint never holds a second copy of the whole model in memory.
 */
export interface LazyTensor {
  shape: number[];
  read(): Float32Array;
}

export interface Checkpoint<Meta> {
  meta: Meta;
  tensors: Map<string, StoredTensor>;
}

interface IndexEntry {
  name: string;
  shape: number[];
  /** Byte offset from the start of the tensor data. */
  offset: number;
  /** Number of float32 values. */
  length: number;
  /** CRC32C of the tensor's bytes (version 2). */
  crc32c?: number;
}

interface Header<Meta> {
  version: 1 | 2;
  meta: Meta;
  tensors: IndexEntry[];
}

/** A checkpoint that cannot be used: the message names the file, what is wrong and what to do. */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`checkpoint ${file} ${problem}; delete it (that run then starts over) or pass --force to start everything over`);
    this.name = 'CheckpointError';
  }
}

function bytesOf(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function writeCheckpointAtomic<Meta>(file: string, checkpoint: { meta: Meta; tensors: Map<string, StoredTensor | LazyTensor> }): void {
  const out = AtomicFile.open(file);
  try {
    out.write(MAGIC_V2);
    const index: IndexEntry[] = [];
    let offset = 0;
    for (const [name, t] of checkpoint.tensors) {
      const data = 'data' in t ? t.data : t.read();
      const expected = t.shape.reduce((a, b) => a * b, 1);
      if (data.length !== expected) throw new Error(`checkpoint ${file}: tensor '${name}' has ${data.length} values for shape [${t.shape.join(', ')}] (${expected})`);
      const bytes = bytesOf(data);
      index.push({ name, shape: [...t.shape], offset, length: data.length, crc32c: crc32c(bytes) });
      out.write(bytes);
      offset += bytes.byteLength;
    }
    const header = Buffer.from(JSON.stringify({ version: 2, meta: checkpoint.meta, tensors: index } satisfies Header<Meta>), 'utf8');
    out.write(header);
    const trailer = Buffer.alloc(TRAILER_BYTES);
    trailer.writeUInt32LE(header.length, 0);
    trailer.writeUInt32LE(crc32c(header), 4);
    trailer.write(END_MAGIC, 8, 'ascii');
    out.write(trailer);
  } catch (error) {
    out.abort();
    throw error;
  }
  out.commit();
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * An open checkpoint: its metadata and tensor index, read without loading the tensors. `open` checks
 * the layout, the index and (by default) every checksum, streaming; `read(name)` then loads one tensor.
 */
export class CheckpointReader<Meta> {
  readonly version: 1 | 2;
  readonly meta: Meta;
  private readonly index = new Map<string, IndexEntry>();

  private constructor(
    readonly file: string,
    private fd: number,
    header: Header<Meta>,
    /** Byte position of the first tensor's data. */
    private readonly dataStart: number,
  ) {
    this.version = header.version;
    this.meta = header.meta;
    for (const t of header.tensors) this.index.set(t.name, t);
  }

  static open<Meta>(file: string, options: { verify?: boolean } = {}): CheckpointReader<Meta> {
    const unreadable = notRegularFileReason(file);
    if (unreadable !== undefined) throw new CheckpointError(file, `cannot be read: ${unreadable}`);
    const fd = openSync(file, 'r');
    try {
      const reader = CheckpointReader.parse<Meta>(file, fd);
      if (options.verify ?? true) reader.verify();
      return reader;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  private static parse<Meta>(file: string, fd: number): CheckpointReader<Meta> {
    const size = fstatSync(fd).size;
    const fail = (problem: string): CheckpointError => new CheckpointError(file, problem);
    if (size < 8) throw fail(`is not a sparse-ift checkpoint (${size} bytes, no magic)`);
    const magic = Buffer.alloc(8);
    readFully(fd, magic, 0, file);
    let headerBytes: Buffer;
    let dataStart: number;
    let dataEnd: number;
    if (magic.toString('ascii') === MAGIC_V2) {
      if (size < 8 + TRAILER_BYTES) throw fail(`is truncated (${size} bytes, shorter than its trailer)`);
      const trailer = Buffer.alloc(TRAILER_BYTES);
      readFully(fd, trailer, size - TRAILER_BYTES, file);
      if (trailer.toString('ascii', 8) !== END_MAGIC) throw fail('is truncated or was not written to the end (no end marker)');
      const headerLength = trailer.readUInt32LE(0);
      if (headerLength > size - 8 - TRAILER_BYTES) throw fail(`is damaged: its header length ${headerLength} exceeds the file`);
      headerBytes = Buffer.alloc(headerLength);
      readFully(fd, headerBytes, size - TRAILER_BYTES - headerLength, file);
      if (crc32c(headerBytes) !== trailer.readUInt32LE(4)) throw fail('is damaged: its header fails its checksum');
      dataStart = 8;
      dataEnd = size - TRAILER_BYTES - headerLength;
    } else if (magic.toString('ascii') === MAGIC_V1) {
      const length = Buffer.alloc(4);
      if (size < 12) throw fail(`is truncated (${size} bytes)`);
      readFully(fd, length, 8, file);
      const headerLength = length.readUInt32LE(0);
      if (12 + headerLength > size) throw fail(`is truncated (header of ${headerLength} bytes, file of ${size})`);
      headerBytes = Buffer.alloc(headerLength);
      readFully(fd, headerBytes, 12, file);
      dataStart = 12 + headerLength;
      dataEnd = size;
    } else {
      throw fail('is not a sparse-ift checkpoint (bad magic)');
    }
    let header: Header<Meta>;
    try {
      header = JSON.parse(headerBytes.toString('utf8')) as Header<Meta>;
    } catch (error) {
      throw fail(`is damaged: its header is not JSON (${(error as Error).message})`);
    }
    const version = magic.toString('ascii') === MAGIC_V2 ? 2 : 1;
    if (typeof header !== 'object' || header === null || header.version !== version || !Array.isArray(header.tensors)) {
      throw fail(`is damaged: its header is not a version ${version} checkpoint header`);
    }
    // The index must tile the data exactly: every tensor where the previous ended, its shape's size.
    const names = new Set<string>();
    let expectedOffset = 0;
    for (const t of header.tensors) {
      const name = typeof t?.name === 'string' ? t.name : '?';
      const shapeOk = Array.isArray(t?.shape) && t.shape.every(isCount);
      if (typeof t?.name !== 'string' || names.has(t.name) || !shapeOk || !isCount(t.offset) || !isCount(t.length)) {
        throw fail(`has impossible metadata for tensor '${name}' (name, shape, offset or length)`);
      }
      if (t.shape.reduce((a, b) => a * b, 1) !== t.length) throw fail(`has impossible metadata: tensor '${name}' has ${t.length} values for shape [${t.shape.join(', ')}]`);
      if (t.offset !== expectedOffset) throw fail(`has impossible metadata: tensor '${name}' starts at byte ${t.offset}, expected ${expectedOffset}`);
      if (version === 2 && !isCount(t.crc32c)) throw fail(`has impossible metadata: tensor '${name}' has no checksum`);
      names.add(t.name);
      expectedOffset += t.length * 4;
    }
    if (dataStart + expectedOffset > dataEnd) throw fail(`is truncated: its tensors need ${expectedOffset} bytes of data, it holds ${dataEnd - dataStart}`);
    if (dataStart + expectedOffset < dataEnd) throw fail(`is damaged: ${dataEnd - dataStart - expectedOffset} bytes after its tensors belong to none`);
    return new CheckpointReader<Meta>(file, fd, { ...header, version }, dataStart);
  }

  /** Tensor names, in file order. */
  names(): string[] {
    return [...this.index.keys()];
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  shape(name: string): number[] | undefined {
    const t = this.index.get(name);
    return t ? [...t.shape] : undefined;
  }

  /** Checks every tensor against its checksum, 64 MiB at a time (version 1 files have none). */
  verify(): void {
    if (this.version === 1) return;
    const largest = [...this.index.values()].reduce((m, t) => Math.max(m, t.length * 4), 4);
    const chunk = Buffer.alloc(Math.min(VERIFY_CHUNK, largest));
    for (const t of this.index.values()) {
      let crc = 0;
      for (let at = 0; at < t.length * 4; at += chunk.length) {
        const piece = chunk.subarray(0, Math.min(chunk.length, t.length * 4 - at));
        readFully(this.fd, piece, this.dataStart + t.offset + at, this.file);
        crc = crc32c(piece, crc);
      }
      if (crc !== t.crc32c) throw new CheckpointError(this.file, `is damaged: tensor '${t.name}' fails its checksum`);
    }
  }

  /** One tensor's values; throws naming a tensor the checkpoint does not hold or one that fails its checksum. */
  read(name: string): StoredTensor {
    const t = this.index.get(name);
    if (!t) throw new CheckpointError(this.file, `lacks tensor '${name}'`);
    const data = new Float32Array(t.length);
    readFully(this.fd, bytesOf(data), this.dataStart + t.offset, this.file);
    if (this.version === 2 && crc32c(bytesOf(data)) !== t.crc32c) throw new CheckpointError(this.file, `is damaged: tensor '${t.name}' fails its checksum`);
    return { shape: [...t.shape], data };
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** A whole checkpoint in memory (checked as `CheckpointReader.open` does); for small files, tests and tools. */
export function readCheckpoint<Meta>(file: string): Checkpoint<Meta> {
  const reader = CheckpointReader.open<Meta>(file);
  try {
    return { meta: reader.meta, tensors: new Map(reader.names().map((name) => [name, reader.read(name)])) };
  } finally {
    reader.close();
  }
}

/**
 * Optimiser state as a checkpoint's metadata keeps it; the slots go in the tensors as
 * `optimizer/<name>/<slot>`. Names are the model's stable ones: tf.js variable names differ between processes.
 */
export interface StoredOptimizer {
  kind: OptimizerState['kind'];
  config: OptimizerState['config'];
  /** Per stable name: updates done. */
  steps: Record<string, number>;
}

/**
 * Adds `optimizer`'s slots to `tensors` under stable names and returns the rest for the metadata.
 * `slotShape` gives a slot's stored shape (default: flat).
 */
export function storeOptimizerState(
  optimizer: SparseOptimizer,
  stableName: (variableName: string) => string,
  tensors: Map<string, StoredTensor | LazyTensor>,
  slotShape: (name: string, values: Float32Array) => number[] = (_name, values) => [values.length],
): StoredOptimizer {
  const state = optimizer.getState();
  const steps: Record<string, number> = {};
  for (const [variableName, own] of Object.entries(state.slots)) {
    const name = stableName(variableName);
    steps[name] = state.steps[variableName] ?? 0;
    for (const [slot, values] of Object.entries(own)) tensors.set(`optimizer/${name}/${slot}`, { shape: slotShape(name, values), data: values });
  }
  return { kind: state.kind, config: state.config, steps };
}

/** The inverse of `storeOptimizerState`: `tensor(key)` reads a checkpoint tensor (and names a missing one). */
export function restoreOptimizerState(optimizer: SparseOptimizer, stored: StoredOptimizer, stableName: (variableName: string) => string, tensor: (key: string) => StoredTensor): void {
  // The slots this optimizer has, keyed by this process's variable names.
  const current = optimizer.getState();
  const slots: OptimizerState['slots'] = {};
  const steps: OptimizerState['steps'] = {};
  for (const [variableName, own] of Object.entries(current.slots)) {
    const name = stableName(variableName);
    slots[variableName] = Object.fromEntries(Object.keys(own).map((slot) => [slot, tensor(`optimizer/${name}/${slot}`).data]));
    steps[variableName] = stored.steps[name] ?? 0;
  }
  optimizer.setState({ kind: stored.kind, config: stored.config, steps, slots });
}
