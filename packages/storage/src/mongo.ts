import { ErrorCode, optionalImport, TandemError } from '@tandem/protocol';
import type { MongoClient } from 'mongodb';
import { closeAsync } from './callback';
import { DEFAULT_MILESTONE_INTERVAL } from './milestones';
import type { Storage } from './types';

export interface MongoStorageOptions {
  /** `mongodb://…` or `mongodb+srv://…`; the database is the one named in the URL. */
  url: string;
  /** @default 1000 (as sharedb-milestone-mongo) */
  milestoneInterval?: number;
  /**
   * How long to wait for a reachable server before failing with STORAGE_UNAVAILABLE. Short, so a
   * wrong URL fails at start-up instead of on the first op.
   * @default 5000
   */
  connectTimeoutMs?: number;
  /**
   * Passed to the MongoDB driver as is (its `MongoClientOptions`; typed loosely so that these types
   * need no `mongodb` installed where the preset is not used).
   */
  mongoOptions?: Readonly<Record<string, unknown>>;
  /** Passed to sharedb-mongo (e.g. `getOpsWithoutStrictLinking`, `disableIndexCreation`). */
  shareDbMongoOptions?: Record<string, unknown>;
}

/** The URL without credentials, for logs and error details. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

const FEATURE = 'the MongoDB store';

/** The preset's packages: optional peer dependencies, loaded only when a MongoDB store is opened. */
async function loadMongo() {
  const [mongodb, shareDbMongo, milestoneMongo] = await Promise.all([
    optionalImport('mongodb', () => import('mongodb'), FEATURE),
    optionalImport('sharedb-mongo', () => import('sharedb-mongo'), FEATURE),
    optionalImport('sharedb-milestone-mongo', () => import('sharedb-milestone-mongo'), FEATURE),
  ]);
  return {
    MongoClient: mongodb.MongoClient,
    ShareDbMongo: shareDbMongo.default,
    MongoMilestoneDB: milestoneMongo.default,
  };
}

/**
 * The MongoDB preset: sharedb-mongo for ops and snapshots, sharedb-milestone-mongo for milestones,
 * over one MongoClient that is connected (and so verified) before this resolves. Needs the optional
 * peer dependencies `mongodb`, `sharedb-mongo` and `sharedb-milestone-mongo` (INVALID_CONFIG
 * naming the missing one otherwise).
 */
export async function mongoStorage(options: MongoStorageOptions): Promise<Storage> {
  const location = redactUrl(options.url);
  const { MongoClient, ShareDbMongo, MongoMilestoneDB } = await loadMongo();
  let client: MongoClient;
  try {
    client = new MongoClient(options.url, {
      serverSelectionTimeoutMS: options.connectTimeoutMs ?? 5000,
      ...options.mongoOptions,
    });
  } catch (error) {
    throw new TandemError(
      ErrorCode.INVALID_CONFIG,
      `invalid MongoDB URL ${location}`,
      { url: location },
      { cause: error },
    );
  }
  try {
    await client.connect();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new TandemError(
      ErrorCode.STORAGE_UNAVAILABLE,
      `cannot reach MongoDB at ${location}`,
      { url: location },
      {
        cause: error,
      },
    );
  }
  // Both adapters take a factory; handing them the connected client shares one connection pool.
  const mongo = (callback: (error: Error | null, client?: unknown) => void) => callback(null, client);
  const db = Object.assign(ShareDbMongo({ ...options.shareDbMongoOptions, mongo }), {
    /**
     * Compaction capability used by @tandem/history (`compact`), as on the SQLite adapter.
     * sharedb-mongo keeps a collection's ops in `o_<collection>` with the doc id in `d` (indexed with
     * `v`); reads from a version at or after the cut-off never follow links below it.
     */
    async deleteOpsBefore(collection: string, id: string, before: number): Promise<number> {
      const result = await client
        .db()
        .collection(`o_${collection}`)
        .deleteMany({ d: id, v: { $lt: before } });
      return result.deletedCount;
    },
  });
  const milestoneDb = new MongoMilestoneDB({
    mongo,
    interval: options.milestoneInterval ?? DEFAULT_MILESTONE_INTERVAL,
  });
  return {
    kind: 'mongodb',
    location,
    db,
    milestoneDb,
    async close() {
      // Both adapters close the shared client (MongoClient.close is idempotent). After
      // backend.close() they are closed already: sharedb-mongo ignores that itself,
      // sharedb-milestone-mongo reports MONGO_CLOSED, which is not a failure here.
      await Promise.all([
        closeAsync(db),
        closeAsync(milestoneDb).catch((error: unknown) => {
          if ((error as { cause?: { code?: unknown } }).cause?.code !== 'MONGO_CLOSED') throw error;
        }),
      ]);
    },
  };
}
