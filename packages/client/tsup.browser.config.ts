import { defineConfig } from 'tsup';

/**
 * The browser bundle: one self-contained ES module (sharedb client, msgpack, @tandem/ot and
 * @tandem/protocol inlined) that a page can `import` directly. Workspace packages are bundled from
 * src/ (the `source` condition), so no other package has to be built first.
 */
export default defineConfig({
  entry: { 'tandem-client': 'src/index.ts' },
  format: ['esm'],
  platform: 'browser',
  target: 'es2020',
  outDir: 'dist/browser',
  noExternal: [/.*/],
  // Node's `ws` is only a fallback when no global WebSocket exists; browsers always have one.
  external: ['ws'],
  esbuildOptions(options) {
    options.conditions = ['source', 'browser', 'import'];
    options.alias = { events: './src/browser/events.ts' };
  },
  minify: true,
  sourcemap: true,
  clean: true,
  dts: false,
  splitting: false,
});
