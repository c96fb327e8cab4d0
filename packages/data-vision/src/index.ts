export * from './idx.js';
// The report verifyVisionDataset returns (declared once, in @sparse-ift/files, for both data packages).
export type { BadRecord, VerifyReport } from '@sparse-ift/files';
export * from './errors.js';
export * from './augment.js';
export * from './tfrecord.js';
export * from './wds.js';
export * from './sources.js';
export * from './stream.js';
export * from './decode-pool.js';
export * from './loader.js';
export * from './cifar.js';
export * from './verify.js';
