// Tokenization in worker threads. BPE is the slow step (≈0.3–0.5 M ids/s a thread); records are independent,
// so chunks go to a pool of workers and come back in order. Only tokenizers that say how a worker can rebuild
// them (`TextTokenizer.worker`) can be spread; the built-in GPT-2 one can.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** How a worker rebuilds a tokenizer: a module (file URL) exporting `encode(text, options)`. */
export interface WorkerTokenizerSpec {
  module: string;
  options?: unknown;
}

export interface EncodedChunk {
  /** Every record's ids, concatenated. */
  ids: Int32Array;
  /** Ids per record (0 for null and empty records). */
  lengths: Uint32Array;
}

// Plain JavaScript run with `eval: true`, so it works the same from TypeScript sources (tests, tsx) and from dist.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ready = import(workerData.module);
ready.catch(() => {}); // reported per message below
parentPort.on('message', async ({ id, texts }) => {
  try {
    const mod = await ready;
    const encode = mod.encode || (mod.default && mod.default.encode);
    const lengths = new Uint32Array(texts.length);
    const parts = [];
    let total = 0;
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i];
      if (!text) continue;
      const ids = encode(text, workerData.options);
      parts.push(ids);
      lengths[i] = ids.length;
      total += ids.length;
    }
    const ids = new Int32Array(total);
    let offset = 0;
    for (const part of parts) { ids.set(part, offset); offset += part.length; }
    parentPort.postMessage({ id, ids, lengths }, [ids.buffer, lengths.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.stack) || err) });
  }
});
`;

interface Pending {
  resolve: (chunk: EncodedChunk) => void;
  reject: (err: Error) => void;
}

export class EncodePool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(threads: number, spec: WorkerTokenizerSpec) {
    // More threads than cores only compete for them: capped at the cores.
    this.workers = Array.from({ length: Math.max(1, Math.min(threads, availableParallelism())) }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: spec });
      worker.on('message', (msg: { id: number; ids?: Int32Array; lengths?: Uint32Array; error?: string }) => {
        const waiting = this.pending.get(msg.id);
        if (!waiting) return;
        this.pending.delete(msg.id);
        if (msg.error !== undefined) waiting.reject(new Error(`tokenizer worker failed: ${msg.error}`));
        else waiting.resolve({ ids: msg.ids!, lengths: msg.lengths! });
      });
      // A crashed worker fails every chunk still waiting, so nothing hangs.
      const fail = (err: Error): void => {
        this.failure ??= err;
        for (const [, waiting] of this.pending) waiting.reject(err);
        this.pending.clear();
      };
      worker.on('error', (err) => fail(new Error(`tokenizer worker crashed: ${err.message}`)));
      worker.on('exit', (code) => {
        if (code !== 0) fail(new Error(`tokenizer worker exited with code ${code}`));
      });
      return worker;
    });
  }

  encode(texts: Array<string | null>): Promise<EncodedChunk> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const worker = this.workers[id % this.workers.length]!;
    return new Promise<EncodedChunk>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, texts });
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('tokenizer pool closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
