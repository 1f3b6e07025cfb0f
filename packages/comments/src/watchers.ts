/**
 * Who on this process follows which document's threads (a `list` with `watch`), and the pushes of
 * thread changes to them. Each push is checked against the socket's principal when it is sent
 * (roles change while sockets stay open); a socket's pushes keep the order of the changes.
 */
import type { CommentsPush, ThreadUpdate } from '@tandem/protocol';
import type { ExtensionConnection, ExtensionContext } from '@tandem/server';
import type { DocRef } from './input';
import { indexKey } from './records';

/** Documents one socket may follow at once (each list call with `watch` adds one). */
const MAX_WATCHED_PER_SOCKET = 1_000;

export type ThreadEvent = { t: 'thread'; collection: string; docId: string } & ThreadUpdate;

interface Watcher {
  connection: ExtensionConnection;
  docs: Set<string>;
  /** The end of this socket's push chain: pushes go out in the order changes arrived. */
  last: Promise<void>;
}

export class Watchers {
  pushed = 0;
  private readonly sockets = new Map<string, Watcher>();
  private readonly byDoc = new Map<string, Set<Watcher>>();

  constructor(private readonly context: ExtensionContext) {}

  connected(connection: ExtensionConnection): void {
    this.sockets.set(connection.connectionId, { connection, docs: new Set(), last: Promise.resolve() });
  }

  disconnected(connection: ExtensionConnection): void {
    const watcher = this.sockets.get(connection.connectionId);
    if (watcher === undefined) return;
    for (const key of watcher.docs) this.byDoc.get(key)?.delete(watcher);
    this.sockets.delete(connection.connectionId);
  }

  /** Follow `ref` on this socket (its read access was just checked). False when over the limit. */
  watch(connectionId: string, ref: DocRef): boolean {
    const watcher = this.sockets.get(connectionId);
    if (watcher === undefined) return true;
    const key = indexKey(ref);
    if (!watcher.docs.has(key) && watcher.docs.size >= MAX_WATCHED_PER_SOCKET) return false;
    watcher.docs.add(key);
    let set = this.byDoc.get(key);
    if (set === undefined) {
      set = new Set();
      this.byDoc.set(key, set);
    }
    set.add(watcher);
    return true;
  }

  unwatch(connectionId: string, ref: DocRef): void {
    const watcher = this.sockets.get(connectionId);
    if (watcher === undefined) return;
    const key = indexKey(ref);
    watcher.docs.delete(key);
    const set = this.byDoc.get(key);
    set?.delete(watcher);
    if (set?.size === 0) this.byDoc.delete(key);
  }

  /** A thread changed (on any process): push it to this process's watchers of its document. */
  deliver(event: ThreadEvent): void {
    const watchers = this.byDoc.get(indexKey({ collection: event.collection, id: event.docId }));
    if (watchers === undefined) return;
    const push: CommentsPush = event;
    for (const watcher of watchers) {
      const { connection } = watcher;
      watcher.last = watcher.last
        .then(() => this.context.access(connection.principal, 'read', event.collection, event.docId))
        .then(
          () => {
            if (!watcher.docs.has(indexKey({ collection: event.collection, id: event.docId }))) return;
            this.pushed++;
            connection.push(push);
          },
          () => {},
        );
    }
  }

  get watching(): number {
    return this.byDoc.size;
  }
}
