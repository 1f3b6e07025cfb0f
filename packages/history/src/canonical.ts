/** Canonical JSON (sorted keys, no whitespace) and its SHA-256: the checksum of a named version. */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal documents give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  // toJSON (ropes, dates) first, as JSON.stringify would.
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return canonicalJson(json.call(value));
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/** Hex SHA-256 of the canonical JSON of `{ type, data }` (so a deleted document differs from `null`). */
export function checksum(snapshot: { type: string | null; data: unknown }): string {
  return createHash('sha256')
    .update(canonicalJson({ type: snapshot.type, data: snapshot.data ?? null }))
    .digest('hex');
}
