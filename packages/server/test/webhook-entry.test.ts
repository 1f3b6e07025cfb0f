/**
 * A webhook receiver imports `@tandem/server/webhooks` without loading the server: bundling the
 * entry pulls in only the signature module and @tandem/protocol (event types are types only), never
 * ShareDB or Redis.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('@tandem/server/webhooks', () => {
  it('loads only what verifying a delivery needs', async () => {
    const result = await build({
      entryPoints: [new URL('../src/webhooks.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      conditions: ['source'],
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    const ours = inputs.filter((path) => /(^|\/)server\/src\/|^src\//.test(path));
    expect(ours.map((path) => path.replace(/^(.*\/)?src\//, '')).sort()).toEqual([
      'extensions/webhooks/signature.ts',
      'webhooks.ts',
    ]);
    expect(inputs.filter((path) => /node_modules\/(sharedb|redis|ws|@redis)\//.test(path))).toEqual([]);
  });
});
