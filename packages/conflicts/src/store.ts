/**
 * Conflict records in a reserved ShareDB collection, one document per record, created and never
 * grown: storing a record costs the same however many a document already has (one growing document
 * per edited document made every append read and rewrite all earlier records). Listing is a store
 * query (`collection` + `docId`, or an author in `authors`), filtered again here because ShareDB's
 * MemoryDB answers every query with the whole collection.
 */
import type { Doc } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type DocIO, docKey, replaceAll } from './backend-io';
import type { ConflictRecord } from './types';

export const CONFLICTS_COLLECTION = '_tandem_conflicts';

export type ListQuery =
  | { collection: string; docId: string; status?: 'open' | 'resolved' }
  | { author: string; status?: 'open' | 'resolved' };

/** A record's document id: under its document's key, so ids never collide across documents. */
const recordDocId = (collection: string, docId: string, id: string): string =>
  `${docKey(collection, docId)}/${encodeURIComponent(id)}`;

/** The store's equality, applied again here: a value matches a field equal to it or an array holding it. */
function matchesFilter(record: ConflictRecord, filter: Record<string, string>): boolean {
  return Object.entries(filter).every(([key, value]) => {
    const field = (record as unknown as Record<string, unknown>)[key];
    return Array.isArray(field) ? field.includes(value) : field === value;
  });
}

export interface ConflictStore {
  add(records: readonly ConflictRecord[]): Promise<void>;
  list(query: ListQuery): Promise<ConflictRecord[]>;
  get(collection: string, docId: string, id: string): Promise<ConflictRecord | undefined>;
  /** Replace a stored record (used to mark a manual conflict resolved). */
  put(record: ConflictRecord): Promise<void>;
}

export function createConflictStore(io: DocIO): ConflictStore {
  return {
    async add(records) {
      await Promise.all(
        records.map((r) =>
          io.create(CONFLICTS_COLLECTION, recordDocId(r.collection, r.docId, r.id), r as unknown as Doc),
        ),
      );
    },
    async list(query) {
      const { status } = query;
      const filter: Record<string, string> =
        'docId' in query ? { collection: query.collection, docId: query.docId } : { authors: query.author };
      const found = (await io.query(CONFLICTS_COLLECTION, filter)) as unknown as ConflictRecord[];
      return found
        .filter((r) => matchesFilter(r, filter) && (status === undefined || r.status === status))
        .sort((a, b) => a.createdAt - b.createdAt);
    },
    async get(collection, docId, id) {
      const stored = await io.read(CONFLICTS_COLLECTION, recordDocId(collection, docId, id));
      return stored.data as unknown as ConflictRecord | undefined;
    },
    async put(record) {
      await io.update(
        CONFLICTS_COLLECTION,
        recordDocId(record.collection, record.docId, record.id),
        (current) => {
          if (current.data === undefined) {
            throw new TandemError(ErrorCode.NOT_FOUND, `conflict ${record.id} not found`, { id: record.id });
          }
          return { op: replaceAll(record as unknown as Doc, current.data), result: undefined };
        },
      );
    },
  };
}
