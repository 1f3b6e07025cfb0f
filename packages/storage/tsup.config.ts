import { defineConfig } from 'tsup';
import { preset } from '../../tsup.preset';

export default defineConfig({
  ...preset({ index: 'src/index.ts', testing: 'src/testing.ts' }),
  // `/testing` imports vitest, which whoever runs the suite provides; never bundle it.
  external: ['vitest'],
  // The checkpointer resolves better-sqlite3 through import.meta.url, which the CJS build must shim.
  shims: true,
});
