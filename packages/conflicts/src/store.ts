/**
 * Conflict records in a reserved ShareDB collection: one document per edited document (its
 * records by id) and one index document per author (record id -> document). Appends are inserts
 * at distinct keys, so concurrent writers from several processes merge by OT without retries.
 */
import { compose, type Doc, insert, type JSONOp, replace } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type DocIO, docKey } from './backend-io';
import type { ConflictRecord } from './types';

export const CONFLICTS_COLLECTION = '_tandem_conflicts';

export type ListQuery =
  | { collection: string; docId: string; status?: 'open' | 'resolved' }
  | { author: string; status?: 'open' | 'resolved' };

interface RecordsDoc {
  records: Record<string, ConflictRecord>;
}
interface AuthorDoc {
  refs: Record<string, { collection: string; docId: string }>;
}

const authorDocId = (author: string): string => `@author/${encodeURIComponent(author)}`;

/** Insert `entries` under `key` of a document, creating it when missing. */
async function addEntries(
  io: DocIO,
  id: string,
  key: string,
  entries: Record<string, unknown>,
): Promise<void> {
  await io.update(CONFLICTS_COLLECTION, id, (current) => {
    if (current.data === undefined) return { create: { [key]: entries } as Doc, result: undefined };
    let op: JSONOp = null;
    for (const [k, v] of Object.entries(entries)) op = compose(op, insert([key, k], v as Doc));
    return { op, result: undefined };
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
  const recordsOf = async (collection: string, docId: string): Promise<Record<string, ConflictRecord>> =>
    ((await io.read(CONFLICTS_COLLECTION, docKey(collection, docId))).data as RecordsDoc | undefined)
      ?.records ?? {};

  const byStatus = (records: ConflictRecord[], status?: 'open' | 'resolved') =>
    records
      .filter((r) => status === undefined || r.status === status)
      .sort((a, b) => a.createdAt - b.createdAt);

  return {
    async add(records) {
      const byDoc = new Map<string, Record<string, ConflictRecord>>();
      const byAuthor = new Map<string, AuthorDoc['refs']>();
      for (const r of records) {
        const key = docKey(r.collection, r.docId);
        byDoc.set(key, { ...byDoc.get(key), [r.id]: r });
        for (const a of r.authors) {
          byAuthor.set(a, { ...byAuthor.get(a), [r.id]: { collection: r.collection, docId: r.docId } });
        }
      }
      await Promise.all([
        ...[...byDoc].map(([id, entries]) => addEntries(io, id, 'records', entries)),
        ...[...byAuthor].map(([author, refs]) => addEntries(io, authorDocId(author), 'refs', refs)),
      ]);
    },
    async list(query) {
      if ('docId' in query)
        return byStatus(Object.values(await recordsOf(query.collection, query.docId)), query.status);
      const refs = (
        (await io.read(CONFLICTS_COLLECTION, authorDocId(query.author))).data as AuthorDoc | undefined
      )?.refs;
      if (refs === undefined) return [];
      const docs = new Map<string, { collection: string; docId: string }>();
      for (const ref of Object.values(refs)) docs.set(docKey(ref.collection, ref.docId), ref);
      const all = await Promise.all([...docs.values()].map((d) => recordsOf(d.collection, d.docId)));
      const found = all.flatMap((records) => Object.values(records)).filter((r) => refs[r.id] !== undefined);
      return byStatus(found, query.status);
    },
    async get(collection, docId, id) {
      return (await recordsOf(collection, docId))[id];
    },
    async put(record) {
      await io.update(CONFLICTS_COLLECTION, docKey(record.collection, record.docId), (current) => {
        const existing = (current.data as RecordsDoc | undefined)?.records?.[record.id];
        if (existing === undefined) {
          throw new TandemError(ErrorCode.NOT_FOUND, `conflict ${record.id} not found`, { id: record.id });
        }
        return {
          op: replace(['records', record.id], record as unknown as Doc, existing as unknown as Doc),
          result: undefined,
        };
      });
    },
  };
}
