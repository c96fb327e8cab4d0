/**
 * Micro-batch sizes chosen from the device's memory: the largest divisor of the batch (so every
 * micro-batch has the same rows) whose activations fit beside the model's fixed memory, and whose largest
 * tensor fits the backend's binding limit. Gradient accumulation makes the step's maths the same at any
 * micro-batch size; only memory (and rounding) changes.
 */

/** What a backend says about its memory (`@sparse-ift/backend`'s `BackendInfo.memory`). */
export interface DeviceMemoryLike {
  bytes?: number;
  maxTensorBytes?: number;
  source: string;
}

export interface MicroBatchChoice {
  microBatchSize: number;
  /** One line for the log: the choice and the figures behind it. */
  why: string;
}

const GB = 1e9;

export function fittingMicroBatch(args: {
  batchSize: number;
  /** Activation bytes per sample, and the largest single tensor per sample. */
  perSample: { bytes: number; largestTensor: number };
  /** Memory that does not grow with the micro-batch: weights, gradients, optimiser slots, masks. */
  fixedBytes: number;
  memory: DeviceMemoryLike;
  /** Used when the device does not report its memory. */
  fallback: number;
  /** Share of the reported memory to plan for (default 0.8: the rest for the allocator and temporaries). */
  usable?: number;
}): MicroBatchChoice {
  const { batchSize, perSample, fixedBytes, memory, fallback } = args;
  const usable = args.usable ?? 0.8;
  const divisors = Array.from({ length: batchSize }, (_, i) => i + 1).filter((m) => batchSize % m === 0);
  const fitsTensor = (m: number) => memory.maxTensorBytes === undefined || m * perSample.largestTensor <= memory.maxTensorBytes;
  const estimate = `${(perSample.bytes / GB).toFixed(2)} GB of activations per sample (estimated), ${(fixedBytes / GB).toFixed(2)} GB fixed`;
  if (memory.bytes === undefined) {
    const m = divisors.filter((d) => d <= fallback && fitsTensor(d)).at(-1) ?? 1;
    return { microBatchSize: m, why: `micro-batch ${m} of ${batchSize}: the preset's ${fallback}${m === fallback ? '' : ' capped by the largest tensor'}; ${memory.source}` };
  }
  const budget = usable * memory.bytes - fixedBytes;
  const fitting = divisors.filter((m) => m * perSample.bytes <= budget && fitsTensor(m));
  const m = fitting.at(-1);
  if (m === undefined) {
    throw new Error(
      `one sample does not fit: ${estimate}, against ${(memory.bytes / GB).toFixed(2)} GB (${memory.source})` +
        (fitsTensor(1) ? '' : `; its largest tensor, ${(perSample.largestTensor / GB).toFixed(2)} GB, is over the backend's ${((memory.maxTensorBytes ?? 0) / GB).toFixed(2)} GB limit`) +
        '. Use a shorter context, a smaller model, or a device with more memory.',
    );
  }
  return { microBatchSize: m, why: `micro-batch ${m} of ${batchSize}: ${estimate}; ${(memory.bytes / GB).toFixed(1)} GB (${memory.source}), ${Math.round(usable * 100)} % planned for` };
}
