/**
 * Recent document versions seen by this process, so last-writer-wins and manual fields can read
 * the version an op was written against without replaying the document's history from the store
 * (ShareDB's `fetchSnapshot` replays from the last milestone, O(history) without milestones).
 * Only collections with such rules are remembered. Snapshots are kept by reference: ShareDB
 * replaces `snapshot.data` with the result of the type's `apply`, which never mutates its input.
 */
import type { Doc } from '@tandem/ot';

export interface VersionCacheOptions {
  /** Versions kept per document; an op written further behind than this is read from the store. @default 32 */
  versions?: number;
  /** Documents kept (least recently used are dropped). @default 256 */
  documents?: number;
}

export interface VersionCache {
  remember(key: string, version: number, data: Doc | undefined): void;
  /** `{ data }` when known, undefined otherwise. */
  get(key: string, version: number): { data: Doc | undefined } | undefined;
}

export function createVersionCache(options: VersionCacheOptions = {}): VersionCache {
  const perDoc = options.versions ?? 32;
  const maxDocs = options.documents ?? 256;
  const docs = new Map<string, Map<number, Doc | undefined>>();
  return {
    remember(key, version, data) {
      let versions = docs.get(key);
      if (versions === undefined) {
        versions = new Map();
        if (docs.size >= maxDocs) docs.delete(docs.keys().next().value as string);
      } else docs.delete(key); // re-insert: Map order is the LRU order
      docs.set(key, versions);
      versions.set(version, data);
      if (versions.size > perDoc) versions.delete(versions.keys().next().value as number);
    },
    get(key, version) {
      const versions = docs.get(key);
      return versions?.has(version) ? { data: versions.get(version) } : undefined;
    },
  };
}
