#!/usr/bin/env node
// The `sift` executable. A committed stub (not dist/bin.js itself) so that npm links it at install time,
// before a workspace checkout has been built; it runs the compiled CLI.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('sift: the CLI is not built yet (packages/cli/dist is missing): run `npm run build` at the repository root.');
  process.exit(1);
}
await import(entry.href);
