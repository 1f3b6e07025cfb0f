/**
 * ShareDB's own adapter conformance suites (shipped in the sharedb package) against our adapters.
 * They rely on mocha's `this`, so they run under mocha, not vitest: `pnpm run test:conformance`.
 * The TypeScript sources load through tsx's require hook (`--require tsx/cjs`).
 */
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const runDbSuite = require('sharedb/test/db');
const runMilestoneSuite = require('sharedb/test/milestone-db');
const {
  SqliteDB,
  SqliteMilestoneDB,
  mongoStorage,
  PostgresDB,
  PostgresMilestoneDB,
} = require('../../src/index.ts');
const { testPostgresUnavailable, testSchemas } = require('../../src/postgres/testing.ts');

// ShareDB's generic query ({query, sort: [[field, dir]]}) in our Mongo-style dialect.
function getQuery(options) {
  const query = { ...options.query };
  if (options.sort) query.$sort = Object.fromEntries(options.sort);
  return query;
}

// mocha's create(options?, callback) convention.
function factory(make) {
  return (options, callback) => {
    if (typeof options === 'function') return factory(make)(null, options);
    Promise.resolve()
      .then(() => make(options || {}))
      .then((db) => callback(null, db), callback);
  };
}

describe('SQLite, in-memory connection', () => {
  runDbSuite({ create: factory(() => new SqliteDB({ path: ':memory:' })), getQuery });
  runMilestoneSuite({ create: factory((o) => new SqliteMilestoneDB({ path: ':memory:', ...o })) });
});

describe('SQLite, database file (WAL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-storage-conformance-'));
  let n = 0;
  const file = () => join(dir, `db-${n++}.sqlite`);
  after(() => rmSync(dir, { recursive: true, force: true }));
  runDbSuite({ create: factory(() => new SqliteDB({ path: file() })), getQuery });
  runMilestoneSuite({ create: factory((o) => new SqliteMilestoneDB({ path: file(), ...o })) });
});

// The `memory:` store: MemoryDB with a faster copy. Its queries match every document (no getQuery).
describe('memory: (MemoryDB with a faster copy)', () => {
  const { FastMemoryDB } = require('../../src/memory-db.ts');
  runDbSuite({ create: factory(() => new FastMemoryDB()) });
});

describe('PostgreSQL (a schema of its own, emptied for each test)', () => {
  const schemas = testSchemas();
  before(async function () {
    const reason = await testPostgresUnavailable();
    if (reason) {
      console.log(`[storage conformance] ${reason}`);
      this.skip();
    }
  });
  after(() => schemas.dropAll());
  // Each test gets an empty store (the suites assume empty collections) on the run's one pool.
  runDbSuite({
    create: factory(async () => new PostgresDB({ connection: await schemas.emptied() })),
    getQuery,
  });
  runMilestoneSuite({
    create: factory(async (o) => new PostgresMilestoneDB({ connection: await schemas.emptied(), ...o })),
  });
});

const mongoUrl = process.env.MONGO_URL;
if (mongoUrl) {
  describe(`MongoDB preset at ${mongoUrl.replace(/\/\/[^@/]*@/, '//***@')}`, () => {
    // Each test gets a fresh database: the suite assumes empty collections.
    const fresh = async (options) => {
      const url = new URL(mongoUrl);
      url.pathname = `/tandem_conformance_${process.pid}_${Date.now()}_${Math.random().toString(36).slice(2)}`;
      return mongoStorage({ url: url.toString(), milestoneInterval: options.interval });
    };
    runDbSuite({ create: factory(async (o) => (await fresh(o)).db), getQuery });
    runMilestoneSuite({ create: factory(async (o) => (await fresh(o)).milestoneDb) });
  });
} else {
  console.log(
    '[storage conformance] MongoDB suites skipped: MONGO_URL is not set (MongoDB cannot run on this host).',
  );
}
