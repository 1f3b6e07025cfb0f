import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const packages = readdirSync(`${root}packages`);

// Tests import packages by name; these aliases point them at src/ so no build is needed and a stale
// dist/ can never pass a test.
const alias = [
  { find: /^@tandem\/([a-z-]+)\/([a-z-]+)$/, replacement: `${root}packages/$1/src/$2.ts` },
  { find: /^@tandem\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` },
];

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      ...packages.map((name) => ({
        resolve: { alias },
        test: {
          name,
          root: `${root}packages/${name}`,
          include: ['test/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      })),
      {
        resolve: { alias },
        test: {
          name: 'examples',
          root: `${root}examples`,
          include: ['*/test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The packed packages in an outside project (no aliases: it runs dist/ through npm). The test
        // command runs it on its own after the other projects (`test:consumer`): it is CPU-heavy
        // (attw, tsc, npm) and would starve their timing-sensitive multi-process tests.
        test: {
          name: 'consumer',
          root: `${root}test/consumer`,
          include: ['*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 240_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'benchmarks',
          root: `${root}benchmarks`,
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
