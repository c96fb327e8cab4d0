export * from './idx.js';
export * from './verify-report.js';
