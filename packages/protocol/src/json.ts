/**
 * A deep copy of plain JSON data (ops, snapshots): several times faster than
 * `JSON.parse(JSON.stringify())` or `structuredClone` on keystroke-sized ops, and strings are
 * shared rather than re-encoded, so copying a document with a long text costs what its shape costs.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    // JSON.stringify drops undefined members; so does this (stored data stays JSON-equal).
    if (v !== undefined) out[key] = cloneJson(v);
  }
  return out as T;
}
