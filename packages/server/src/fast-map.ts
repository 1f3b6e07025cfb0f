/**
 * Map objects with no inherited keys that stay in V8's fast mode. `Object.create(null)` objects
 * start as hash tables (~250 bytes each, even empty); ShareDB's Agent allocates nine of them per
 * connection, most never written. A null-prototype *prototype* gives the same "no inherited keys"
 * guarantee with a small fast object.
 *
 * V8 sizes a constructor's objects by what its first few instances came to hold, so each kind of
 * map gets its own constructor: maps that stay empty are 24 bytes, listener maps keep their slots
 * in the object.
 */
export function fastMapKind(): () => Record<string, unknown> {
  function Dict(this: object): void {}
  Dict.prototype = Object.create(null);
  return () => new (Dict as unknown as new () => Record<string, unknown>)();
}
