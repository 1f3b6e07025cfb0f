/**
 * `events` for ShareDB's client, bundled in place of Node's (see ../sharedb.ts): the part of
 * EventEmitter it uses. Methods live on the prototype as enumerable properties because ShareDB
 * mixes them into its classes with a for…in copy.
 */
type Listener = (...args: unknown[]) => void;
interface Self {
  _events?: Record<string, Listener[]>;
}

function listenersOf(self: Self, event: string): Listener[] {
  self._events ??= Object.create(null) as Record<string, Listener[]>;
  const events = self._events;
  events[event] ??= [];
  return events[event];
}

export function EventEmitter(): void {}

const proto = EventEmitter.prototype as Record<string, unknown>;

proto.on = proto.addListener = function (this: Self, event: string, listener: Listener) {
  listenersOf(this, event).push(listener);
  return this;
};

proto.once = function (
  this: Self & { on(e: string, l: Listener): unknown; removeListener(e: string, l: Listener): unknown },
  event: string,
  listener: Listener,
) {
  const wrapped: Listener & { listener?: Listener } = (...args) => {
    this.removeListener(event, wrapped);
    listener.apply(this, args);
  };
  wrapped.listener = listener;
  return this.on(event, wrapped);
};

proto.off = proto.removeListener = function (this: Self, event: string, listener: Listener) {
  const list = this._events?.[event];
  if (list === undefined) return this;
  const i = list.findIndex((l) => l === listener || (l as { listener?: Listener }).listener === listener);
  if (i >= 0) list.splice(i, 1);
  return this;
};

proto.removeAllListeners = function (this: Self, event?: string) {
  if (event === undefined) this._events = Object.create(null) as Record<string, Listener[]>;
  else if (this._events !== undefined) delete this._events[event];
  return this;
};

proto.emit = function (this: Self, event: string, ...args: unknown[]) {
  const list = this._events?.[event];
  if (list === undefined || list.length === 0) {
    // Node semantics: an unhandled 'error' is thrown.
    if (event === 'error') throw args[0] instanceof Error ? args[0] : new Error(String(args[0]));
    return false;
  }
  for (const listener of [...list]) listener.apply(this, args);
  return true;
};

proto.listeners = function (this: Self, event: string) {
  return [...(this._events?.[event] ?? [])];
};

proto.listenerCount = function (this: Self, event: string) {
  return this._events?.[event]?.length ?? 0;
};

proto.setMaxListeners = function (this: Self) {
  return this;
};

export default { EventEmitter };
