import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
const root = '/work/main';
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@sparse-ift\/repro-([\w-]+)$/, replacement: resolve(root, 'reproductions/$1/src/index.ts') },
      { find: /^@sparse-ift\/([\w-]+)$/, replacement: resolve(root, 'packages/$1/src/index.ts') },
    ],
  },
  test: { testTimeout: 120_000, pool: 'forks', root: resolve(root, 'packages/cli'), include: ['test/**/*.test.ts'] },
});
