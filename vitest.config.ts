// One vitest project per package. Tests import sibling packages from their TypeScript sources
// (the alias below), so `npm test` needs no build step.
import { readdirSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;
const projectDirs = ['packages', 'reproductions'].flatMap((group) =>
  existsSync(resolve(root, group))
    ? readdirSync(resolve(root, group), { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(resolve(root, group, d.name, 'package.json')))
        .map((d) => `${group}/${d.name}`)
    : [],
);

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@sparse-ift\/repro-([\w-]+)$/, replacement: resolve(root, 'reproductions/$1/src/index.ts') },
      // Subpath exports (`@sparse-ift/core/rng`): one source file of the package.
      { find: /^@sparse-ift\/([\w-]+)\/([\w-]+)$/, replacement: resolve(root, 'packages/$1/src/$2.ts') },
      { find: /^@sparse-ift\/([\w-]+)$/, replacement: resolve(root, 'packages/$1/src/index.ts') },
    ],
  },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Tests never read or write the user's sparse-kernel choice cache; the ones about it set their own file.
    env: { SIFT_SPARSE_CACHE: 'off' },
    projects: projectDirs.map((dir) => ({
      extends: true,
      test: { name: dir.split('/')[1], root: resolve(root, dir), include: ['test/**/*.test.ts'] },
    })),
  },
});
