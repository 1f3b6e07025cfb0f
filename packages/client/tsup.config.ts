import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';
import { preset } from '../../tsup.preset';

const shim = (name: string) => fileURLToPath(new URL(`./src/shims/${name}.ts`, import.meta.url));

/**
 * ShareDB's client (and its small dependencies) is bundled into dist with its Node-only requires
 * swapped for ./src/shims (see src/sharedb.ts): the same dist then runs in Node and in any browser
 * bundler with no polyfills. @tandem/ot, @tandem/protocol and msgpack stay external, so an app
 * that also imports them gets one copy of each.
 */
export default defineConfig({
  // `comments` is its own entry: an app that shows no comments does not download them.
  ...preset({ index: 'src/index.ts', comments: 'src/comments.ts' }),
  noExternal: ['sharedb', 'ot-json0', 'hat', 'fast-deep-equal'],
  esbuildOptions(options) {
    // `inherits` is ShareDB's fallback when `util` lacks it; ours has it, so it is never loaded.
    options.alias = {
      events: shim('events'),
      util: shim('util'),
      inherits: shim('util'),
      async: shim('async'),
    };
  },
});
