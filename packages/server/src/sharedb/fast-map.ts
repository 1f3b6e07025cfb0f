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

/** Listener maps of Tandem's emitters: ws sockets (ws's events and ours) and agent streams. */
const listenerMap = fastMapKind();

/**
 * Keep `emitter`'s listeners in a fast map. EventEmitter starts them in a dictionary-mode object
 * (`{ __proto__: null }`, ~200–300 bytes with a handful of events); a fast-mode map without
 * inherited keys serves it the same. Listeners already added are kept.
 */
export function fastListeners(emitter: object): void {
  const holder = emitter as { _events: Record<string | symbol, unknown> };
  const events = listenerMap();
  for (const key of Reflect.ownKeys(holder._events)) events[key as string] = holder._events[key as string];
  holder._events = events;
}
