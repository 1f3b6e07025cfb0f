/**
 * Test harness: a ShareDB backend with history installed, on every store the suite runs against
 * (MemoryDB, SQLite, PostgreSQL when reachable, Mongo when MONGO_URL is set), and users that edit like
 * real clients.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type History, type HistoryOptions, installHistory, memoryCompaction } from '@tandem/history';
import { apply, type Doc, type JSONOp } from '@tandem/ot';
import { createStorage, type PostgresDB, type Storage } from '@tandem/storage';
import { testPostgresUnavailable, testSchemas } from '@tandem/storage/testing';
import ShareDB from 'sharedb';
import { afterAll } from 'vitest';
import { type EditSpec, type Field, INITIAL, opFor } from './gen';

export interface Store {
  name: string;
  open(): Promise<Storage>;
  /** Overwrite the stored op at `version` with `op` behind ShareDB's back (tamper test; absent for Mongo). */
  tamper?(
    storage: Storage,
    collection: string,
    id: string,
    version: number,
    op: JSONOp,
  ): void | Promise<void>;
}

interface SqliteHandle {
  connection: { db: { prepare(sql: string): { run(...args: unknown[]): { changes: number } } } };
}

let files = 0;

export const stores: Store[] = [
  {
    name: 'memory',
    open: async () => {
      const storage = await createStorage('memory:');
      memoryCompaction(storage.db);
      return storage;
    },
    tamper: (storage, collection, id, version, op) => {
      const db = storage.db as unknown as { ops: Record<string, Record<string, { op: JSONOp }[]>> };
      db.ops[collection][id][version].op = op;
    },
  },
  {
    name: 'sqlite',
    open: async () => {
      const path = join(tmpdir(), `tandem-history-${process.pid}-${files++}.db`);
      rmSync(path, { force: true });
      const storage = await createStorage(`sqlite:${path}`);
      return storage;
    },
    tamper: (storage, collection, id, version, op) => {
      const db = storage.db as unknown as SqliteHandle;
      db.connection.db
        .prepare('UPDATE ops SET op = ? WHERE collection = ? AND doc_id = ? AND v = ?')
        .run(JSON.stringify({ op }), collection, id, version);
    },
  },
];

const postgresSkip = await testPostgresUnavailable();
if (postgresSkip) {
  process.stdout.write(`@tandem/history: ${postgresSkip}\n`);
} else {
  // One schema per test file, emptied for each test (afterAll: the importing file's).
  const schemas = testSchemas();
  afterAll(() => schemas.dropAll());
  stores.push({
    name: 'postgres',
    open: () => schemas.emptiedStorage(),
    tamper: async (storage, collection, id, version, op) => {
      const { connection } = storage.db as PostgresDB;
      await connection.query(
        `UPDATE ${connection.schema}.ops SET op = $1 WHERE collection = $2 AND doc_id = $3 AND v = $4`,
        [JSON.stringify({ op }), collection, id, version],
      );
    },
  });
}

if (process.env.MONGO_URL) {
  stores.push({
    name: 'mongo',
    open: () => createStorage(process.env.MONGO_URL as string),
  });
} else {
  // Printed once per test file so a skipped backend is visible in the run's output.
  process.stdout.write('@tandem/history: MONGO_URL not set, Mongo runs skipped\n');
}

export interface Env {
  backend: ShareDB;
  history: History;
  storage: Storage;
  close(): Promise<void>;
}

export async function openEnv(store: Store, options: HistoryOptions = {}): Promise<Env> {
  const storage = await store.open();
  const backend = new ShareDB({ db: storage.db as never, milestoneDb: storage.milestoneDb as never });
  const history = installHistory(backend, { milestoneInterval: 5, ...options });
  return {
    backend,
    history,
    storage,
    close: async () => {
      await new Promise<void>((resolve) => backend.close(() => resolve()));
      await storage.close();
    },
  };
}

type Callback = (error?: unknown) => void;

interface RawDoc {
  version: number | null;
  data: unknown;
  submitSource: boolean;
  fetch(cb: Callback): void;
  create(data: unknown, type: string, options: object, cb: Callback): void;
  submitOp(op: unknown, options: object, cb: Callback): void;
}

function promised(fn: (cb: Callback) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((error) => (error ? reject(error) : resolve())));
}

/** A user editing through an ordinary ShareDB client connection, authenticated like the server does. */
export class User {
  readonly connection: { agent: { custom: Record<string, unknown> }; get(c: string, id: string): RawDoc };

  constructor(
    backend: ShareDB,
    readonly id: string,
    sessionId = `${id}-session`,
  ) {
    this.connection = backend.connect() as never;
    this.connection.agent.custom.principal = { id, name: id.toUpperCase() };
    this.connection.agent.custom.sessionId = sessionId;
  }

  doc(collection: string, id: string): RawDoc {
    const doc = this.connection.get(collection, id);
    doc.submitSource = true;
    return doc;
  }

  async create(collection: string, id: string, data: unknown): Promise<void> {
    const doc = this.doc(collection, id);
    await promised((cb) => doc.create(data, 'json1', {}, cb));
  }

  /** Fetch the latest version, build an op from it, submit. */
  async edit(
    collection: string,
    id: string,
    build: (data: any) => JSONOp,
    source: object = {},
  ): Promise<void> {
    const doc = this.doc(collection, id);
    await promised((cb) => doc.fetch(cb));
    await promised((cb) => doc.submitOp(build(doc.data), { source }, cb));
  }
}

/** The users of a script, by index. */
export function users(backend: ShareDB, n = 3): User[] {
  return Array.from({ length: n }, (_, i) => new User(backend, `user${i}`));
}

/**
 * Create `collection/id` and run `script` on it; return the expected document at every version
 * (index = version; 0 = not created) computed locally with @tandem/ot `apply`.
 */
export async function runScript(
  env: Env,
  collection: string,
  id: string,
  script: EditSpec[],
  initial: Record<Field, string> = INITIAL,
): Promise<Doc[]> {
  const people = users(env.backend);
  await people[0].create(collection, id, initial);
  const expected: Doc[] = [null, initial];
  let data: Doc = initial;
  for (const spec of script) {
    const op = opFor(spec, data as Record<Field, string>);
    data = apply(data, op) as Doc;
    await people[spec.user].edit(collection, id, () => op);
    expected.push(data);
  }
  return expected;
}
