/**
 * The client's one import of ShareDB's client, and the part of it Tandem's public types show.
 *
 * ShareDB's client is bundled into @tandem/client's dist (see tsup.config.ts): it was written for
 * browserify and requires Node's `events`, `util` and the whole `async` library, which browser
 * bundlers do not provide. The build swaps those for the small modules in ./shims, so neither Node
 * nor any bundler needs polyfills, and consumers need no `@types/sharedb`: these interfaces are
 * what `client.connection` and `doc.raw` expose.
 */
import ShareDB from 'sharedb/lib/client';
import type { QueueableDoc } from './offline';

type Callback = (error?: unknown) => void;
/** Any listener fits (ShareDB's events have different payloads). */
type Listener = (...args: never[]) => void;

/** The ShareDB client Doc under a TandemDoc (`doc.raw`): an escape hatch, not Tandem's API. */
export interface ShareDbDoc extends QueueableDoc {
  readonly collection: string;
  readonly id: string;
  readonly subscribed: boolean;
  subscribe(callback: Callback): void;
  unsubscribe(callback?: Callback): void;
  fetch(callback: Callback): void;
  create(data: unknown, type: string, callback: Callback): void;
  submitOp(op: unknown, options: unknown, callback: Callback): void;
  del(callback?: Callback): void;
  flush(): void;
  hasPending(): boolean;
  /** Call back once nothing is in flight or pending (at once when nothing is). */
  whenNothingPending(callback: () => void): void;
  on(event: string, listener: Listener): unknown;
  removeListener(event: string, listener: Listener): unknown;
  destroy(callback?: Callback): void;
}

/** ShareDB's presence of one document. */
export interface ShareDbDocPresence {
  readonly remotePresences: Record<string, unknown>;
  subscribe(callback: Callback): void;
  unsubscribe(callback: Callback): void;
  create(id?: string): { submit(value: unknown, callback?: Callback): void; readonly value: unknown };
  on(event: 'receive', listener: (id: string, value: unknown) => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  destroy(callback?: Callback): void;
}

/** A ShareDB query's results (`results` are the matching docs). */
export interface ShareDbQuery {
  readonly results: ShareDbDoc[];
  readonly ready: boolean;
  on(event: string, listener: Listener): unknown;
  destroy(callback?: Callback): void;
}

/** The ShareDB client Connection under a TandemClient (`client.connection`): an escape hatch. */
export interface ShareDbConnection {
  /** The connection id the server assigned (null before the first handshake). */
  readonly id: string | null;
  /** 'connecting' | 'connected' | 'disconnected' | 'closed' | 'stopped' */
  readonly state: string;
  get(collection: string, id: string): ShareDbDoc;
  getDocPresence(collection: string, id: string): ShareDbDocPresence;
  createFetchQuery(
    collection: string,
    query: unknown,
    options?: Record<string, unknown> | null,
    callback?: (error: unknown, results: ShareDbDoc[]) => void,
  ): ShareDbQuery;
  createSubscribeQuery(
    collection: string,
    query: unknown,
    options?: Record<string, unknown> | null,
    callback?: (error: unknown, results: ShareDbDoc[]) => void,
  ): ShareDbQuery;
  on(event: string, listener: Listener): unknown;
  removeListener(event: string, listener: Listener): unknown;
  close(): void;
}

/** What ShareDB's Connection drives (see socket.ts). */
export interface ShareDbSocket {
  readyState: number;
  send(text: string): void;
  close(): void;
  onopen: (() => void) | null;
  onclose: ((reason: string) => void) | null;
  onerror: ((error: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

export function createConnection(socket: ShareDbSocket): ShareDbConnection {
  return new ShareDB.Connection(socket as never) as unknown as ShareDbConnection;
}

export function registerType(type: object): void {
  ShareDB.types.register(type as never);
}

export function typeFor(name: string): unknown {
  return ShareDB.types.map[name];
}

/**
 * ShareDB's client logs through one process-wide logger (to the console by default); route it to
 * ours. It warns about normal reconnect races ("Invalid version from server" is recovered by a fetch).
 */
export function routeLogs(logger: {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}): void {
  (ShareDB as unknown as { logger: { setMethods(m: object): void } }).logger.setMethods(logger);
}
