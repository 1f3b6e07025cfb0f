/**
 * Queries that return only what the principal may read. ShareDB's `readSnapshots` middleware can
 * only refuse a query whole, and the polls of a subscribed query take new ids from the DB without
 * asking it; so the `query` middleware leaves a reader on the query's options, and the backend's DB
 * is wrapped to cut every result (first run and every poll) through it.
 *
 * The cut comes before paging: `$skip`, `$limit` and `$count` are taken off the query the store
 * runs and applied to the readable results, so the answer is the query over readable documents
 * only. Paged by the store, unreadable matches would move readable ones in and out of the page, and
 * bisecting on a sort key would read a forbidden field one comparison at a time. A paged query
 * reads the store's sorted matches in chunks until its page is full (`readableRows`).
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Which of these ids the querying principal may read. */
export type Reader = (ids: readonly string[]) => Promise<string[]>;
const READER = Symbol('tandem.readable');

/** Attach the reader to a query's options (one object for the query's whole life, polls included). */
export function setReader(options: object, reader: Reader): void {
  Object.defineProperty(options, READER, { value: reader });
}

function readerOf(options: unknown): Reader | undefined {
  return isRecord(options) ? (options[READER as never] as Reader | undefined) : undefined;
}

type Callback = (error: unknown, ...results: any[]) => void;

interface QueryDB {
  query(collection: string, query: unknown, fields: unknown, options: unknown, cb: Callback): void;
  queryPoll(collection: string, query: unknown, options: unknown, cb: Callback): void;
  queryPollDoc(collection: string, id: string, query: unknown, options: unknown, cb: Callback): void;
}

/** How a reader's query is paged and counted, after the store ran it without these. */
interface Paging {
  skip: number;
  limit: number;
  count: boolean;
}

/**
 * The query the store runs for a reader (no `$skip`, `$limit`, `$count`) and the paging to apply to
 * its readable results. Bad values are the store's to refuse, so they stay in the query.
 */
function unpaged(query: unknown): { query: unknown; paging: Paging } {
  const paging: Paging = { skip: 0, limit: Number.POSITIVE_INFINITY, count: false };
  if (!isRecord(query)) return { query, paging };
  const { $skip, $limit, $count, ...rest } = query;
  const valid = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if ($skip !== undefined && !valid($skip)) return { query, paging };
  if ($limit !== undefined && !valid($limit)) return { query, paging };
  if ($skip !== undefined) paging.skip = $skip as number;
  if ($limit !== undefined) paging.limit = $limit as number;
  paging.count = Boolean($count);
  return { query: rest, paging };
}

/** Store rows asked for at once while filling a reader's page (doubling up to 4,096). */
const FIRST_CHUNK = 64;
/** Matches scanned for one paged answer at most: past it, the reader must narrow the query. */
const MAX_SCANNED = 10_000;

/**
 * The readable matches a paged query needs, read from the store in chunks of its sorted matches
 * until the page is full or the matches end: a "latest 20" query costs what it reads, not the whole
 * collection, and its answer is still the query over readable documents alone. Without `$limit`
 * every match is read once.
 */
async function readableRows<T>(
  fetch: (page: object) => Promise<{ rows: T[]; extra: unknown }>,
  idOf: (row: T) => string,
  reader: Reader,
  paging: Paging,
): Promise<{ rows: T[]; extra: unknown }> {
  const keepReadable = async (rows: T[]) => {
    const keep = new Set(await reader(rows.map(idOf)));
    return rows.filter((row) => keep.has(idOf(row)));
  };
  if (!Number.isFinite(paging.limit)) {
    const { rows, extra } = await fetch({});
    return { rows: await keepReadable(rows), extra };
  }
  const wanted = paging.skip + paging.limit;
  const found: T[] = [];
  let extra: unknown;
  let offset = 0;
  let chunk = Math.min(Math.max(FIRST_CHUNK, 2 * wanted), 4_096);
  while (found.length < wanted) {
    if (offset >= MAX_SCANNED)
      throw new TandemError(ErrorCode.TOO_LARGE, 'the query scans too many documents; narrow it', {
        what: 'query',
        limit: MAX_SCANNED,
      });
    const page = await fetch({ $skip: offset, $limit: chunk });
    extra = page.extra;
    found.push(...(await keepReadable(page.rows)));
    if (page.rows.length < chunk) break;
    offset += page.rows.length;
    chunk = Math.min(chunk * 2, 4_096);
  }
  return { rows: found, extra };
}

function page<T>(readable: T[], paging: Paging): T[] {
  if (paging.skip === 0 && paging.limit >= readable.length) return readable;
  return readable.slice(paging.skip, paging.skip + paging.limit);
}

/**
 * Any other `extra` (e.g. sharedb-mongo's `$aggregate` results) is computed over documents the reader
 * was not asked about: refused rather than passed on or silently dropped.
 */
function extraRefused(collection: string): TandemError {
  return new TandemError(
    ErrorCode.FORBIDDEN,
    `query results beyond documents (aggregations) are not available when reads are authorized per document`,
    { collection, reason: 'query-extra' },
  );
}

/**
 * A reader's answer, `readable` being the results it may see: paged, then their number for a
 * `$count` query, a refusal for any other extra, else the results themselves.
 */
function answer(cb: Callback, collection: string, paging: Paging, extra: unknown, readable: unknown[]): void {
  const paged = page(readable, paging);
  if (paging.count) cb(null, [], paged.length);
  else if (extra !== undefined) cb(extraRefused(collection));
  else cb(null, paged, undefined);
}

/** The backend's DB with query results cut by the query's reader (queries without one pass as they are). */
export function filterQueries(db: ShareDB['db']): ShareDB['db'] {
  const target = db as unknown as QueryDB;
  const overrides: Record<string, unknown> = {
    query(collection: string, query: unknown, fields: unknown, options: unknown, cb: Callback) {
      const reader = readerOf(options);
      if (reader === undefined) return target.query(collection, query, fields, options, cb);
      const run = unpaged(query);
      const fetch = (page: object) =>
        new Promise<{ rows: { id: string }[]; extra: unknown }>((resolve, reject) =>
          target.query(
            collection,
            { ...(run.query as object), ...page },
            fields,
            options,
            (error, rows, extra) => (error ? reject(error) : resolve({ rows, extra })),
          ),
        );
      readableRows(fetch, (row) => row.id, reader, run.paging).then(
        ({ rows, extra }) => answer(cb, collection, run.paging, extra, rows),
        cb,
      );
    },
    queryPoll(collection: string, query: unknown, options: unknown, cb: Callback) {
      const reader = readerOf(options);
      if (reader === undefined) return target.queryPoll(collection, query, options, cb);
      const run = unpaged(query);
      const fetch = (page: object) =>
        new Promise<{ rows: string[]; extra: unknown }>((resolve, reject) =>
          target.queryPoll(
            collection,
            { ...(run.query as object), ...page },
            options,
            (error, rows, extra) => (error ? reject(error) : resolve({ rows, extra })),
          ),
        );
      readableRows(fetch, (id) => id, reader, run.paging).then(
        ({ rows, extra }) => answer(cb, collection, run.paging, extra, rows),
        cb,
      );
    },
    queryPollDoc(collection: string, id: string, query: unknown, options: unknown, cb: Callback) {
      target.queryPollDoc(collection, id, query, options, (error, matches: boolean) => {
        const reader = readerOf(options);
        if (error || reader === undefined || !matches) return cb(error, matches);
        reader([id]).then((readable) => cb(null, readable.length === 1), cb);
      });
    },
  };
  const bound = new Map<PropertyKey, { original: unknown; fn: unknown }>();
  return new Proxy(db, {
    get(object, key) {
      if (typeof key === 'string' && key in overrides) return overrides[key];
      const value = Reflect.get(object, key, object);
      if (typeof value !== 'function') return value;
      // Methods run on the adapter itself (private fields, own state), not on the proxy.
      const hit = bound.get(key);
      if (hit !== undefined && hit.original === value) return hit.fn;
      const fn = value.bind(object);
      bound.set(key, { original: value, fn });
      return fn;
    },
    set: (object, key, value) => Reflect.set(object, key, value, object),
  });
}
