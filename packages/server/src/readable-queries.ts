/**
 * Queries that return only what the principal may read. ShareDB's `readSnapshots` middleware can
 * only refuse a query whole, and the polls of a subscribed query take new ids from the DB without
 * asking it; so the `query` middleware leaves a reader on the query's options, and the backend's DB
 * is wrapped to cut every result (first run and every poll) through it.
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

/**
 * A `$count` query counts every match; for a reader it must count the readable ones only, so it is
 * run for its ids instead (undefined: not a count query).
 */
function countless(query: unknown): Record<string, unknown> | undefined {
  if (!isRecord(query) || !query.$count) return undefined;
  const { $count: _, ...rest } = query;
  return rest;
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
 * A reader's answer, `readable` being the results it may see: their number for a `$count` query
 * (run without it), a refusal for any other extra, else the results themselves.
 */
function answer(
  cb: Callback,
  collection: string,
  counting: boolean,
  extra: unknown,
  readable: unknown[],
): void {
  if (counting) cb(null, [], readable.length);
  else if (extra !== undefined) cb(extraRefused(collection));
  else cb(null, readable, undefined);
}

/** The backend's DB with query results cut by the query's reader (queries without one pass as they are). */
export function filterQueries(db: ShareDB['db']): ShareDB['db'] {
  const target = db as unknown as QueryDB;
  const overrides: Record<string, unknown> = {
    query(collection: string, query: unknown, fields: unknown, options: unknown, cb: Callback) {
      const reader = readerOf(options);
      if (reader === undefined) return target.query(collection, query, fields, options, cb);
      const counting = countless(query);
      target.query(
        collection,
        counting ?? query,
        fields,
        options,
        (error, snapshots: { id: string }[], extra) => {
          if (error) return cb(error);
          reader(snapshots.map((s) => s.id)).then((ids) => {
            const keep = new Set(ids);
            answer(
              cb,
              collection,
              counting !== undefined,
              extra,
              snapshots.filter((s) => keep.has(s.id)),
            );
          }, cb);
        },
      );
    },
    queryPoll(collection: string, query: unknown, options: unknown, cb: Callback) {
      const reader = readerOf(options);
      if (reader === undefined) return target.queryPoll(collection, query, options, cb);
      const counting = countless(query);
      target.queryPoll(collection, counting ?? query, options, (error, ids: string[], extra) => {
        if (error) return cb(error);
        reader(ids).then((readable) => answer(cb, collection, counting !== undefined, extra, readable), cb);
      });
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
