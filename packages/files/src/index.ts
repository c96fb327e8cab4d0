// @sparse-ift/files: how this project writes and reads its files safely. Atomic writes and leftover
// clean-up, one writer per folder (a lock with stale-lock detection), one-line system-error messages,
// regular-file checks and large reads, CRC32C and TFRecord framing, and the data-verification report
// both data packages return.
export * from './atomic-file.js';
export * from './file-errors.js';
export * from './folder-lock.js';
export * from './regular-file.js';
export * from './crc32c.js';
export * from './tfrecord.js';
export * from './verify-report.js';
