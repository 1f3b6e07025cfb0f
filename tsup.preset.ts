import type { Options } from 'tsup';

/**
 * The one build preset every package uses: ESM + CJS + .d.ts from src/, with an optional list of
 * extra entry points (subpaths such as `/testing`). Workspace packages are resolved through their
 * built `dist/` (not tsconfig paths) so each package's types stand alone.
 */
export function preset(entry: Record<string, string> = { index: 'src/index.ts' }): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { paths: {} } },
    sourcemap: true,
    clean: true,
    target: 'node20',
    outDir: 'dist',
    splitting: false,
  };
}
