/**
 * `client.doc(collection, id)`: a typed, promise-based wrapper over a ShareDB Doc with change events
 * that carry the author, a text binding, presence, undo/redo, and the offline queue.
 */
import { type JSONOp, makeInvertible, type Path, type } from '@tandem/ot';
import {
  type ConflictReport,
  fromShareDbError,
  isWireError,
  type LockInfo,
  type OpAuthor,
  TandemError,
} from '@tandem/protocol';
import type { TandemRequest } from './client';
import { type CommentsContext, DocComments } from './comments';
import { Emitter } from './emitter';
import { capture, type OfflineStore, type PersistedDoc, restore } from './offline';
import { DocPresence } from './presence';
import type { ShareDbDoc, ShareDbDocPresence } from './sharedb';
import { TextBinding } from './text';
import { UndoStack } from './undo';

export interface DocChange {
  op: JSONOp;
  /** True for this client's own edits (including undo/redo). */
  local: boolean;
  /** Who made the edit, as the server authenticated them (remote edits; undefined for local). */
  author: OpAuthor | undefined;
}

type DocEvents = {
  change: (change: DocChange) => void;
  /**
   * The data was replaced without an op: the first load, a re-fetch (ShareDB's hard rollback), or
   * a create or delete by anyone. Views that mirror the data resynchronise from `data`.
   */
  load: () => void;
  error: (error: TandemError) => void;
  /** The server reported a conflict on this document (see ConflictReport). */
  conflict: (report: ConflictReport) => void;
  /** The count of this document's unacknowledged ops changed. */
  pending: (count: number) => void;
};

/** What a doc needs from its client. */
export interface DocContext {
  /** Author of the op message being delivered right now (ShareDB applies ops synchronously). */
  currentAuthor(): OpAuthor | undefined;
  presenceFor(collection: string, id: string): ShareDbDocPresence;
  store: OfflineStore | undefined;
  connectionId(): string | null;
  /** A client id this client holds (a restored op's `src`): its ops come back under their alias. */
  ownClientId(id: string): void;
  /** Subscribe to the client's online/offline transitions. */
  watchOnline(listener: (online: boolean) => void): void;
  typeFor(name: string): unknown;
  pendingChanged(): void;
  /** A Tandem request to the server (locks). */
  call<R>(message: TandemRequest, signal?: AbortSignal): Promise<R>;
  /** The client's side of the `comments` extension. */
  comments: CommentsContext;
}

/** A path lock this client holds: others' ops touching the path are refused with LOCKED. */
export class DocLock {
  constructor(
    public info: LockInfo,
    private readonly context: Pick<DocContext, 'call'>,
  ) {}

  get id(): string {
    return this.info.id;
  }

  get path(): Path {
    return this.info.path;
  }

  /** Epoch milliseconds; renew before then while editing. */
  get expiresAt(): number {
    return this.info.expiresAt;
  }

  /** Extend the lock (LOCKED if it expired and someone else took the path). */
  async renew(ttlMs?: number, signal?: AbortSignal): Promise<void> {
    const { collection, docId, path } = this.info;
    this.info = await this.context.call<LockInfo>(
      { t: 'lock', action: 'acquire', collection, id: docId, path, ttlMs },
      signal,
    );
  }

  /** Release it (nothing happens when it is already gone). Closing the socket releases it too. */
  release(signal?: AbortSignal): Promise<void> {
    const { collection, docId, id } = this.info;
    return this.context.call({ t: 'lock', action: 'release', collection, id: docId, lockId: id }, signal);
  }
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('aborted', 'AbortError');
}

/** Wrap a ShareDB callback API as a promise that an AbortSignal can reject early. */
function call(
  signal: AbortSignal | undefined,
  run: (callback: (error?: unknown) => void) => void,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });
    run((error) => {
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(toTandemError(error));
      else resolve();
    });
  });
}

/**
 * Errors from the server carry a Tandem `{ code, message }` (and the details in the reply's `ed`
 * field); errors ShareDB's client raises itself (e.g. `create()` on a document that exists) carry
 * ShareDB's code, mapped as the server maps it, with ShareDB's message.
 */
export function toTandemError(error: unknown): TandemError {
  if (error instanceof TandemError) return error;
  const e = error as { code?: unknown; message?: unknown; data?: { ed?: unknown } } | null | undefined;
  const details = e?.data?.ed;
  const wire = {
    code: e?.code,
    message: e?.message,
    ...(typeof details === 'object' && details !== null ? { details } : {}),
  };
  return isWireError(wire) ? TandemError.fromJSON(wire) : fromShareDbError(error);
}

export class TandemDoc<T = unknown> extends Emitter<DocEvents> {
  private presenceView: DocPresence | undefined;
  private commentsView: DocComments | undefined;
  private readonly undoStack: UndoStack;
  private readonly restored: Promise<void>;
  private persistScheduled = false;

  constructor(
    readonly raw: ShareDbDoc,
    private readonly context: DocContext,
  ) {
    super();
    this.undoStack = new UndoStack({ data: () => raw.data, submit: (op) => this.submit(op) });
    raw.on('before op', (op: JSONOp, source: unknown) => {
      if (source) this.undoStack.local(op, raw.data);
    });
    raw.on('op', (op: JSONOp, source: unknown) => {
      const local = Boolean(source);
      if (local) {
        this.presenceView?.noteEdit();
        this.persist();
      } else {
        this.undoStack.remote(op);
      }
      this.emit('change', { op, local, author: local ? undefined : context.currentAuthor() });
    });
    raw.on('error', (error: unknown) => this.emit('error', toTandemError(error)));
    for (const event of ['load', 'create', 'del']) raw.on(event, () => this.emit('load'));
    raw.on('nothing pending', () => this.persist());
    this.restored = this.restore();
  }

  get collection(): string {
    return this.raw.collection;
  }

  get id(): string {
    return this.raw.id;
  }

  /** The current data (local edits applied), undefined before the doc exists or is loaded. */
  get data(): T | undefined {
    return this.raw.data as T | undefined;
  }

  get version(): number | null {
    return this.raw.version;
  }

  /** Ops submitted here and not yet acknowledged by the server. */
  get pendingCount(): number {
    return (this.raw.inflightOp === null ? 0 : 1) + this.raw.pendingOps.length;
  }

  /** Load and follow the document. */
  async subscribe(signal?: AbortSignal): Promise<void> {
    await this.restored;
    await call(signal, (cb) => this.raw.subscribe(cb));
  }

  /** Load it once. */
  async fetch(signal?: AbortSignal): Promise<void> {
    await this.restored;
    await call(signal, (cb) => this.raw.fetch(cb));
  }

  /** Create the document with `data` (rejects with ShareDB's "already created" if it exists). */
  async create(data: T, signal?: AbortSignal): Promise<void> {
    await this.restored;
    const done = call(signal, (cb) => this.raw.create(data, type.uri, cb));
    this.persist();
    await done;
  }

  /**
   * Submit a json1 op. Applies locally at once; resolves when the server acknowledged it. Aborting
   * only stops waiting: the op stays queued and will be sent.
   */
  submit(op: JSONOp, signal?: AbortSignal): Promise<void> {
    if (op === null) return Promise.resolve();
    // Carry removed values in the op so a rejected op rolls back by inversion (json1 cannot invert
    // a bare `r: true`) and undo has what it needs.
    const invertible = this.raw.type === null ? op : makeInvertible(op, this.raw.data as never);
    const done = call(signal, (cb) => this.raw.submitOp(invertible, {}, cb));
    this.context.pendingChanged();
    this.emit('pending', this.pendingCount);
    // Re-persist after each acknowledgement so a restart resends as little as possible.
    done.then(
      () => this.persist(),
      () => this.persist(),
    );
    return done;
  }

  /** A text binding for the string at `path`. */
  text(path: Path): TextBinding {
    return new TextBinding(
      {
        value: (p) =>
          p.reduce<unknown>(
            (node, key) => (node as Record<string | number, unknown> | undefined)?.[key],
            this.raw.data,
          ),
        submit: (op) => this.submit(op),
        onChange: (listener) => {
          const handler = (change: DocChange) => listener(change.local, change.author);
          return this.on('change', handler);
        },
      },
      path,
    );
  }

  /** This document's presence (created on first use). */
  get presence(): DocPresence {
    if (this.presenceView === undefined) {
      this.presenceView = new DocPresence(
        this.context.presenceFor(this.collection, this.id),
        (error) => this.emit('error', toTandemError(error)),
        this.context.watchOnline,
      );
    }
    return this.presenceView;
  }

  /** This document's comment threads (created on first use; `list()` loads them). */
  comments(): DocComments {
    this.commentsView ??= new DocComments(this, this.context.comments);
    return this.commentsView;
  }

  get canUndo(): boolean {
    return this.undoStack.canUndo;
  }

  get canRedo(): boolean {
    return this.undoStack.canRedo;
  }

  /** Undo this user's last edit (others' edits stay). Resolves false when there is nothing to undo. */
  undo(): Promise<boolean> {
    return this.undoStack.undo();
  }

  redo(): Promise<boolean> {
    return this.undoStack.redo();
  }

  private get storeKey(): string {
    return `${this.collection}/${this.id}`;
  }

  private async restore(): Promise<void> {
    const store = this.context.store;
    if (store === undefined) return;
    const saved = await store.get(this.storeKey);
    if (saved === undefined) return;
    const state = JSON.parse(saved) as PersistedDoc;
    for (const op of state.ops) if (op.src !== undefined) this.context.ownClientId(op.src);
    restore(this.raw, state, this.context.typeFor);
    this.context.pendingChanged();
    // Sending before subscribing puts the first op in flight, so the server's catch-up ops can be
    // matched against it (ShareDB's reconnect path).
    this.raw.flush();
  }

  /** Persist the queue soon (several edits in one tick are one write). */
  private persist(): void {
    this.context.pendingChanged();
    this.emit('pending', this.pendingCount);
    if (this.context.store === undefined || this.persistScheduled) return;
    this.persistScheduled = true;
    setTimeout(() => {
      this.persistScheduled = false;
      void this.persistNow();
    }, 0);
  }

  /**
   * Write the queue now, as it is at this instant (the op being sent already has its seq).
   * @internal the client calls it as an op goes out and holds the socket until it resolves.
   */
  persistNow(): Promise<void> {
    const store = this.context.store;
    if (store === undefined) return Promise.resolve();
    const state = capture(this.raw, this.context.connectionId());
    const write =
      state === undefined ? store.delete(this.storeKey) : store.set(this.storeKey, JSON.stringify(state));
    return write.catch((error: unknown) => this.emit('error', toTandemError(error)));
  }

  /**
   * Lock the subtree at `path` for this user until released, expired (`ttlMs`, server default
   * 30 s) or this socket closes. Rejects with LOCKED when someone else holds an overlapping lock.
   */
  async lock(path: Path, options: { ttlMs?: number; signal?: AbortSignal } = {}): Promise<DocLock> {
    const info = await this.context.call<LockInfo>(
      { t: 'lock', action: 'acquire', collection: this.collection, id: this.id, path, ttlMs: options.ttlMs },
      options.signal,
    );
    return new DocLock(info, this.context);
  }

  /** @internal the client routes the server's conflict reports here. */
  reportConflict(report: ConflictReport): void {
    this.emit('conflict', report);
  }

  destroy(): Promise<void> {
    this.presenceView?.destroy();
    this.commentsView?.close();
    return call(undefined, (cb) => this.raw.destroy(cb));
  }
}
