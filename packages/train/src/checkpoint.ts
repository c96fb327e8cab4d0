/**
 * Checkpoints: one file holding a JSON header (metadata, tensor index) and the raw float32 data of
 * every tensor (weights, masks, optimiser state). Written atomically: temp file, fsync, rename, fsync
 * of the directory, so a `kill -9` at any moment leaves either the previous or the new checkpoint.
 *
 * Layout: "SIFTCKPT" · uint32 LE header length · header JSON (utf-8) · tensor data (float32 LE).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OptimizerState, SparseOptimizer } from './core.js';

const MAGIC = 'SIFTCKPT';

export interface StoredTensor {
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint<Meta> {
  meta: Meta;
  tensors: Map<string, StoredTensor>;
}

interface Header<Meta> {
  version: 1;
  meta: Meta;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
}

export function writeCheckpointAtomic<Meta>(file: string, checkpoint: Checkpoint<Meta>): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const index: Header<Meta>['tensors'] = [];
  let offset = 0;
  for (const [name, t] of checkpoint.tensors) {
    index.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length * 4;
  }
  const header = Buffer.from(JSON.stringify({ version: 1, meta: checkpoint.meta, tensors: index } satisfies Header<Meta>), 'utf8');
  const prefix = Buffer.alloc(MAGIC.length + 4);
  prefix.write(MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(header.length, MAGIC.length);

  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, prefix);
    writeSync(fd, header);
    for (const t of checkpoint.tensors.values()) {
      writeSync(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  // fsync the directory so the rename itself survives a crash.
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export function readCheckpoint<Meta>(file: string): Checkpoint<Meta> {
  if (!existsSync(file)) throw new Error(`checkpoint ${file} does not exist; run without --resume to start fresh`);
  const buf = readFileSync(file);
  if (buf.length < MAGIC.length + 4 || buf.toString('ascii', 0, MAGIC.length) !== MAGIC) {
    throw new Error(`checkpoint ${file} is not a sparse-ift checkpoint (bad magic); delete it or pass --force to start over`);
  }
  const headerLength = buf.readUInt32LE(MAGIC.length);
  const dataStart = MAGIC.length + 4 + headerLength;
  const header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, dataStart)) as Header<Meta>;
  const tensors = new Map<string, StoredTensor>();
  for (const t of header.tensors) {
    const start = dataStart + t.offset;
    if (start + t.length * 4 > buf.length) throw new Error(`checkpoint ${file} is truncated (tensor ${t.name}); delete it to start over`);
    // Copy into an aligned buffer: the slice may not be 4-byte aligned.
    const data = new Float32Array(t.length);
    new Uint8Array(data.buffer).set(buf.subarray(start, start + t.length * 4));
    tensors.set(t.name, { shape: t.shape, data });
  }
  return { meta: header.meta, tensors };
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
  tensors: Map<string, StoredTensor>,
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
