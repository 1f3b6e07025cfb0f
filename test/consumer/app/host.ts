/**
 * A host app as an outside TypeScript project writes it, against the packed packages: Express +
 * `attach` on the embedded SQLite default, two Node clients over a real socket. The consumer test
 * type-checks it (strict, skipLibCheck: false, node16 and bundler resolution), then runs it as ESM
 * and as CJS (`require()` of every package). `serve` keeps it up for the browser pages.
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { connect, type TandemClient, type TandemDoc } from '@tandem/client';
import { notifications as notificationsOf, comments as threadsOf } from '@tandem/client/comments';
import { comments } from '@tandem/comments';
import { CONFLICTS_COLLECTION, isReservedCollection } from '@tandem/conflicts';
import { canonicalJson } from '@tandem/history';
import { type } from '@tandem/ot';
import { ErrorCode, isTandemError } from '@tandem/protocol';
import { type AttachedTandem, attach } from '@tandem/server';
import { createStorage } from '@tandem/storage';
import express from 'express';
import WebSocket from 'ws';

/** Public types must not be `any`: each of these fails to compile if it is. */
type IsAny<T> = 0 extends 1 & T ? true : false;
type NotAny<T extends false> = T;
export type PublicTypesAreNotAny = [
  NotAny<IsAny<TandemClient['connection']>>,
  NotAny<IsAny<TandemDoc['raw']>>,
  NotAny<IsAny<ReturnType<TandemClient['connection']['get']>>>,
  NotAny<IsAny<AttachedTandem['tandem']>>,
  NotAny<IsAny<Awaited<ReturnType<AttachedTandem['tandem']['backend']>>>>,
  NotAny<IsAny<NonNullable<Parameters<typeof connect>[1]>['WebSocket']>>,
  NotAny<IsAny<ReturnType<typeof threadsOf>['threads'][number]['anchor']>>,
];

/** attach() takes an Express app as Express's own types describe it, without a cast. */
export function attachApp(app: express.Express): Promise<AttachedTandem> {
  return attach(app, { storage: 'memory:' });
}

interface Note {
  text: string;
}

function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

/** What an optional feature says when its package is not installed: the name of the package. */
async function missingPackage(start: () => Promise<unknown>): Promise<unknown> {
  try {
    await start();
    return 'started';
  } catch (error) {
    if (isTandemError(error) && error.code === ErrorCode.INVALID_CONFIG) return error.details?.package;
    throw error;
  }
}

async function main(mode: string): Promise<void> {
  const app = express();
  const web = process.env.CONSUMER_WEB;
  if (web !== undefined) app.use(express.static(web));
  const server = createServer(app);
  // No storage option: the embedded SQLite default (./data/tandem.db), nothing extra installed.
  const attached = await attach(server, {
    hooks: { authenticate: ({ token }) => ({ id: token ?? 'guest' }) },
    extensions: [comments()],
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = attached.url();

  if (mode === 'serve') {
    console.log(`READY ${url}`);
    process.on('SIGTERM', () => {
      void attached.close().then(() => server.close(() => process.exit(0)));
    });
    return;
  }

  // ws's class as the WebSocket option, without a cast.
  const a = connect(url, { WebSocket, codec: 'msgpack', token: 'ann' });
  const b = connect(url, { WebSocket, codec: 'json', token: 'ben' });
  const id = `note-${mode}-${Date.now()}`;
  const docA = a.doc<Note>('notes', id);
  await docA.create({ text: '' });
  await docA.subscribe();
  const docB = b.doc<Note>('notes', id);
  await docB.subscribe();
  await Promise.all([docA.text(['text']).insert(0, 'from a '), docB.text(['text']).insert(0, 'from b ')]);
  await until(() => docA.data?.text.length === 14 && docA.data.text === docB.data?.text, 'convergence');
  // A thread by Ann mentioning Ben: Ben sees it, anchored, and is notified.
  const inbox = notificationsOf(b);
  await inbox.list();
  const thread = await threadsOf(docA).add({
    anchor: { path: ['text'], start: 0, end: 4 },
    body: { text: '@ben look', mentions: [{ start: 0, end: 4, userId: 'ben' }] },
  });
  const theirs = await threadsOf(docB).list();
  // Ben's notifications outlive this run (the ESM and CJS runs share the store): this document's.
  const ours = () => inbox.snapshot.items.filter((n) => n.docId === id);
  await until(() => ours().length === 1, 'the notification');
  const created = await docB.create({ text: 'again' }).then(
    () => 'created twice',
    (error: unknown) => (isTandemError(error) ? error.code : String(error)),
  );

  const result = {
    converged: docA.data?.text === docB.data?.text,
    text: docA.data?.text,
    typeName: type.name,
    conflictsReserved: isReservedCollection(CONFLICTS_COLLECTION),
    canonical: canonicalJson({ b: 1, a: [2] }),
    createTwice: created,
    comment: {
      quote: thread.quote,
      seen: theirs.map((t) => t.comments[0].body.text),
      notified: ours().map((n) => n.kind),
    },
    mongoMissing: await missingPackage(() => createStorage('mongodb://127.0.0.1:9/tandem')),
    pgMissing: await missingPackage(() => createStorage('postgres://127.0.0.1:9/tandem')),
    redisMissing: await missingPackage(() =>
      attach({ port: 0 }, { storage: 'memory:', redis: 'redis://127.0.0.1:9' }),
    ),
    dataDir: join(process.cwd(), 'data'),
  };
  await Promise.all([a.close(), b.close()]);
  await attached.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  console.log(`RESULT ${JSON.stringify(result)}`);
}

main(process.argv[2] ?? 'run').catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
