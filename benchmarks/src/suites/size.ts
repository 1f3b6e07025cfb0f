/**
 * Browser bundle size of a collaborative text editor's client, three ways, bundled the same way:
 * esbuild (browser platform, ESM, minified, tree-shaken), gzip level 9.
 *
 * - Tandem: `@tandem/client` from its built dist/ as an app installs it (connect, doc, text
 *   binding, presence), nothing else configured.
 * - ShareDB + ot-json1: `sharedb/lib/client` with json1 registered, a doc and its presence. ShareDB's
 *   client needs the `events` and `inherits` npm packages in a browser; they are installed, as an
 *   app using it must.
 * - Yjs + y-websocket: a Y.Doc with a Y.Text over a WebsocketProvider, with awareness.
 *
 * The Tandem row also lists what is biggest in it (esbuild's metafile, bytes in the minified output).
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { type BenchOptions, formatNumber, printTable } from '../report';

/** The budget @tandem/client's bundle must stay within (issue 13), gzipped. */
export const CLIENT_BUDGET_BYTES = 48 * 1024;

const benchmarks = fileURLToPath(new URL('../..', import.meta.url));

export const ENTRIES = {
  '@tandem/client': `
    import { connect } from '@tandem/client';
    const client = connect('ws://localhost:3000/tandem');
    const doc = client.doc('notes', 'a');
    await doc.subscribe();
    const text = doc.text(['text']);
    text.on('change', () => {});
    await text.insert(0, 'hi');
    await doc.presence.update({ path: ['text'], offset: 2 });
    export { client };
  `,
  // What the comments entry adds, for an app that shows comments (not under the budget above).
  '@tandem/client + comments': `
    import { connect } from '@tandem/client';
    import { comments, notifications } from '@tandem/client/comments';
    const client = connect('ws://localhost:3000/tandem');
    const doc = client.doc('notes', 'a');
    const threads = comments(doc);
    threads.on('change', () => {});
    await threads.list();
    await notifications(client).list();
    export { client };
  `,
  'sharedb client + ot-json1': `
    import ShareDB from 'sharedb/lib/client';
    import * as json1 from 'ot-json1';
    ShareDB.types.register(json1.type);
    const connection = new ShareDB.Connection(new WebSocket('ws://localhost:3000/'));
    const doc = connection.get('notes', 'a');
    doc.subscribe(() => doc.submitOp(json1.editOp(['text'], 'text-unicode', [0, 'hi'])));
    const presence = connection.getDocPresence('notes', 'a');
    presence.subscribe();
    presence.create().submit({ index: 2 });
    export { connection };
  `,
  'yjs + y-websocket': `
    import * as Y from 'yjs';
    import { WebsocketProvider } from 'y-websocket';
    const doc = new Y.Doc();
    const provider = new WebsocketProvider('ws://localhost:3000', 'a', doc);
    const text = doc.getText('text');
    text.observe(() => {});
    text.insert(0, 'hi');
    provider.awareness.setLocalStateField('cursor', { index: 2 });
    export { provider };
  `,
} as const;

export type EntryName = keyof typeof ENTRIES;

export interface BundleSize {
  minified: number;
  gzipped: number;
  /** Bytes in the minified output per package (or workspace file), largest first. */
  contributors: [string, number][];
}

function ownerOf(input: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(input);
  if (pkg) return pkg[1];
  const workspace = /packages\/([^/]+)\//.exec(input);
  return workspace ? `@tandem/${workspace[1]}` : input;
}

export async function bundleSize(name: EntryName): Promise<BundleSize> {
  const result = await esbuild.build({
    stdin: { contents: ENTRIES[name], resolveDir: benchmarks, loader: 'js', sourcefile: 'entry.js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0].contents;
  const byOwner = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(Object.values(result.metafile.outputs)[0].inputs)) {
    const owner = ownerOf(input);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + bytesInOutput);
  }
  return {
    minified: output.byteLength,
    gzipped: gzipSync(output, { level: 9 }).byteLength,
    contributors: [...byOwner].filter(([, bytes]) => bytes > 0).sort((a, b) => b[1] - a[1]),
  };
}

const kb = (bytes: number) => `${formatNumber(bytes / 1024, 1)} KB`;

export async function run(_options: BenchOptions): Promise<void> {
  const rows: (string | number)[][] = [];
  let tandem: BundleSize | undefined;
  for (const name of Object.keys(ENTRIES) as EntryName[]) {
    const size = await bundleSize(name);
    if (name === '@tandem/client') tandem = size;
    rows.push([name, kb(size.minified), kb(size.gzipped)]);
  }
  printTable(['client', 'minified', 'min + gzip'], rows);
  if (tandem === undefined) return;
  console.log(
    `\n@tandem/client: ${kb(tandem.gzipped)} gzipped, budget ${kb(CLIENT_BUDGET_BYTES)} ` +
      `(${tandem.gzipped <= CLIENT_BUDGET_BYTES ? 'within' : 'OVER'}). Largest parts (minified bytes):\n`,
  );
  printTable(
    ['package', 'minified'],
    tandem.contributors.slice(0, 10).map(([owner, bytes]) => [owner, kb(bytes)]),
  );
}
