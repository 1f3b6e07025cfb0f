/**
 * `doc.comments()`: a document's comment threads, kept current. Threads come from the server's
 * `comments` extension with their anchors at a document version. This client keeps them as the
 * server does — at its copy's server version, moved through the server's ops in the server's order
 * (others' ops as they arrive, its own as they are acknowledged) — so once everything is
 * acknowledged they are exactly the server's. What it shows is that, moved through its own ops not
 * yet acknowledged: a thread stays on its text while anyone types, with no server round trip.
 * Offsets are JS string indexes at this API and code points on the wire. Bodies are plain text
 * with mention spans.
 */
import {
  type Anchor,
  AnchorSet,
  type Doc,
  type JSONOp,
  type Path,
  toCodePointIndex,
  toUtf16Index,
} from '@tandem/ot';
import {
  type CommentAnchor,
  type CommentBody,
  type CommentData,
  type CommentsPush,
  ErrorCode,
  type Reaction,
  TandemError,
  type ThreadData,
  type ThreadList,
  type ThreadUpdate,
} from '@tandem/protocol';
import { Emitter } from './emitter';
import type { ShareDbDoc } from './sharedb';

/** `text.slice(start, end)` mentions `userId` (JS string indexes). */
export interface Mention {
  start: number;
  end: number;
  userId: string;
}

/** A comment's text: plain text (render it as text, never as HTML) and who it mentions. */
export interface CommentText {
  text: string;
  mentions: Mention[];
}

/** What `add`, `reply` and `edit` take: plain text, or text with mentions. */
export type CommentInput = string | { text: string; mentions?: Mention[] };

/** Where a thread hangs, in this client's copy of the document (JS string indexes). */
export interface ThreadAnchor {
  path: Path;
  start?: number;
  end?: number;
}

export interface Comment extends Omit<CommentData, 'body'> {
  body: CommentText;
}

export interface Thread extends Omit<ThreadData, 'anchor' | 'comments'> {
  /** Where it is now (its last place when `detached`). */
  anchor: ThreadAnchor;
  comments: Comment[];
}

/** What the comments of one document need from the client. */
export interface CommentsContext {
  call<R>(method: string, args: unknown[], signal?: AbortSignal): Promise<R>;
  onPush(listener: (push: CommentsPush) => void): () => void;
  /** The socket is (back) online: the server forgot what this socket watched. */
  onOnline(listener: () => void): () => void;
  /** Every ShareDB message as it arrives, before ShareDB handles it. */
  onReceive(listener: (message: Record<string, unknown>) => void): () => void;
  userId(): string | undefined;
}

/** What a comments view needs of its document. */
export interface CommentedDoc {
  readonly collection: string;
  readonly id: string;
  readonly raw: ShareDbDoc;
  subscribe(signal?: AbortSignal): Promise<void>;
  on(event: 'change', listener: (change: { op: JSONOp }) => void): () => void;
  on(event: 'load', listener: () => void): () => void;
}

type CommentsEvents = {
  /** Threads changed: made, replied to, edited, resolved, reacted to, or moved by an edit. */
  change: (threads: readonly Thread[]) => void;
  /** A background refresh failed (calls reject instead). */
  error: (error: TandemError) => void;
};

/** Server ops remembered to catch anchors up (versions), per document with comments open. */
const LOG_SIZE = 1_000;
/** Stop re-listing after this many refreshes in a row that could not catch up. */
const MAX_REFRESHES = 3;
/** A server op that is not a json1 op: the document was deleted (or created). */
const WHOLE: unique symbol = Symbol('whole document');

function valueAt(doc: unknown, path: Path): unknown {
  let node = doc;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('aborted', 'AbortError');
}

function toWireBody(input: CommentInput): CommentBody {
  const { text, mentions = [] } = typeof input === 'string' ? { text: input } : input;
  return {
    text,
    mentions: mentions.map((m) => ({
      start: toCodePointIndex(text, m.start),
      end: toCodePointIndex(text, m.end),
      userId: m.userId,
    })),
  };
}

function fromWireBody(body: CommentBody): CommentText {
  return {
    text: body.text,
    mentions: body.mentions.map((m) => ({
      start: toUtf16Index(body.text, m.start),
      end: toUtf16Index(body.text, m.end),
      userId: m.userId,
    })),
  };
}

const isLive = (thread: ThreadData): boolean => thread.comments.some((c) => c.deleted === undefined);

export class DocComments extends Emitter<CommentsEvents> {
  private readonly content = new Map<string, ThreadData>();
  /** Anchors at this copy's server version (`doc.raw.version`), in code points. */
  private readonly base = new AnchorSet<string>();
  /** Anchors received at a version this copy has not reached, or has passed. */
  private waiting: { v: number; anchors: Map<string, CommentAnchor & { detached: boolean }> }[] = [];
  /** Anchors of threads being added, moved (in this copy) until they are sent. */
  private readonly drafts = new AnchorSet<number>();
  private nextDraft = 0;
  /** The server's ops by version, as this client received (or had acknowledged) them. */
  private readonly log = new Map<number, JSONOp | typeof WHOLE>();
  private loaded: Promise<void> | undefined;
  private refreshes = 0;
  /** Resolved once nothing waits (see `settled`). */
  private settledWaiters: (() => void)[] = [];
  private snapshot: Thread[] | undefined;
  private readonly stops: (() => void)[] = [];

  constructor(
    private readonly doc: CommentedDoc,
    private readonly context: CommentsContext,
  ) {
    super();
    this.stops.push(
      doc.on('change', ({ op }) => {
        this.drafts.apply(op);
        this.changed();
      }),
      // The data was replaced without ops (a re-fetch): anchors are taken from the server again.
      doc.on('load', () => {
        if (this.loaded !== undefined && this.content.size > 0) void this.refresh().catch(() => {});
        else this.drain();
      }),
      context.onReceive((message) => this.receive(message)),
      context.onPush((push) => {
        if (push.t === 'thread' && push.collection === doc.collection && push.docId === doc.id)
          this.ingest(push.v, [push.thread]);
      }),
      context.onOnline(() => {
        if (this.loaded !== undefined) void this.refresh().catch(() => {});
      }),
    );
  }

  /** The threads as they are now (empty until `list` loaded them), oldest first. */
  get threads(): readonly Thread[] {
    this.snapshot ??= this.build();
    return this.snapshot;
  }

  /** Load the threads and follow their changes (the document is subscribed too). */
  async list(signal?: AbortSignal): Promise<readonly Thread[]> {
    this.loaded ??= this.doc.subscribe(signal).then(() => this.refresh(signal));
    try {
      await this.loaded;
    } catch (error) {
      this.loaded = undefined;
      throw error;
    }
    // Threads are shown once their anchors are caught up with this copy of the document.
    await this.settled(signal);
    return this.threads;
  }

  /** Start a thread on a range of the string at `anchor.path` (or on the whole value there). */
  async add(input: { anchor: ThreadAnchor; body: CommentInput }, signal?: AbortSignal): Promise<Thread> {
    const body = toWireBody(input.body);
    await this.list(signal);
    const key = this.nextDraft++;
    this.drafts.set(key, this.toCodePoints(input.anchor));
    let update: ThreadUpdate;
    try {
      // The anchor is sent as a place in a version the server has: nothing of ours pending.
      await this.nothingPending(signal);
      const anchor = this.drafts.get(key);
      if (anchor === null || anchor === undefined)
        throw new TandemError(ErrorCode.NOT_FOUND, 'the anchored text was deleted', { reason: 'anchor' });
      update = await this.call<ThreadUpdate>('create', [{ anchor, v: this.doc.raw.version, body }], signal);
    } finally {
      this.drafts.delete(key);
    }
    this.ingest(update.v, [update.thread]);
    await this.settled(signal);
    return this.thread(update.thread.id);
  }

  reply(threadId: string, body: CommentInput, signal?: AbortSignal): Promise<Thread> {
    return this.update('reply', [threadId, toWireBody(body)], signal);
  }

  /** Replace the text of one's own comment. */
  edit(threadId: string, commentId: string, body: CommentInput, signal?: AbortSignal): Promise<Thread> {
    return this.update('edit', [threadId, commentId, toWireBody(body)], signal);
  }

  /**
   * Delete one's own comment (an owner: anyone's). Its place stays, emptied; a thread with none left
   * is gone (resolves undefined).
   */
  async delete(threadId: string, commentId: string, signal?: AbortSignal): Promise<Thread | undefined> {
    const update = await this.call<ThreadUpdate>('delete', [threadId, commentId], signal);
    this.ingest(update.v, [update.thread]);
    return this.threads.find((t) => t.id === threadId);
  }

  resolve(threadId: string, signal?: AbortSignal): Promise<Thread> {
    return this.update('resolve', [threadId], signal);
  }

  reopen(threadId: string, signal?: AbortSignal): Promise<Thread> {
    return this.update('reopen', [threadId], signal);
  }

  /** Add (`on`), remove, or by default toggle this user's reaction to a comment. */
  react(
    threadId: string,
    commentId: string,
    reaction: Reaction,
    on?: boolean,
    signal?: AbortSignal,
  ): Promise<Thread> {
    const me = this.context.userId();
    const comment = this.content.get(threadId)?.comments.find((c) => c.id === commentId);
    const add = on ?? !(me !== undefined && comment?.reactions[reaction]?.includes(me));
    return this.update('react', [threadId, commentId, reaction, add], signal);
  }

  /** Stop following (pushes stop; the threads stay as they are). */
  close(): void {
    for (const stop of this.stops.splice(0)) stop();
    if (this.loaded !== undefined) void this.call('unwatch', []).catch(() => {});
  }

  private call<R>(method: string, args: unknown[], signal?: AbortSignal): Promise<R> {
    return this.context.call<R>(method, [this.doc.collection, this.doc.id, ...args], signal);
  }

  private async update(method: string, args: unknown[], signal?: AbortSignal): Promise<Thread> {
    const update = await this.call<ThreadUpdate>(method, args, signal);
    this.ingest(update.v, [update.thread]);
    await this.settled(signal);
    return this.thread(update.thread.id);
  }

  private async refresh(signal?: AbortSignal): Promise<void> {
    // A thread that arrives (pushed) while the listing is on its way is newer than the listing.
    const known = new Set(this.content.keys());
    let list: ThreadList;
    try {
      list = await this.call<ThreadList>('list', [true], signal);
    } catch (error) {
      this.emit('error', TandemError.from(error));
      // Whoever waits for threads to settle gets what there is.
      this.waiting = [];
      this.drain();
      throw error;
    }
    this.ingest(list.v, list.threads, known);
  }

  /** Resolves when no anchors wait for this copy of the document to catch up. */
  private settled(signal?: AbortSignal): Promise<void> {
    if (this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      signal?.addEventListener('abort', () => reject(abortError(signal)), { once: true });
      this.settledWaiters.push(resolve);
    });
  }

  /**
   * Threads at document version `v`. A listing also says which of the threads `listed` (those
   * known when it was asked for) are gone, and resets their anchors (after a gap).
   */
  private ingest(v: number, threads: ThreadData[], listed?: Set<string>): void {
    const anchors = new Map<string, CommentAnchor & { detached: boolean }>();
    if (listed !== undefined) {
      const present = new Set(threads.map((t) => t.id));
      for (const id of listed) if (!present.has(id)) this.forget(id);
    }
    for (const thread of threads) {
      const known = this.content.get(thread.id);
      if (!isLive(thread)) {
        this.forget(thread.id);
        continue;
      }
      if (known === undefined || known.revision <= thread.revision) this.content.set(thread.id, thread);
      // Known threads' anchors move here already; a full listing (after a gap) resets them.
      if (!this.base.has(thread.id) || listed !== undefined)
        anchors.set(thread.id, { ...thread.anchor, detached: thread.detached });
    }
    if (anchors.size > 0) this.waiting.push({ v, anchors });
    this.drain();
    this.changed();
  }

  private forget(id: string): void {
    this.content.delete(id);
    this.base.delete(id);
  }

  /** Catch waiting anchors up to this copy's server version, through the server ops seen since. */
  private drain(): void {
    const local = this.doc.raw.version;
    if (local !== null && this.waiting.length > 0) {
      const still: typeof this.waiting = [];
      let gap = false;
      for (const batch of this.waiting) {
        if (batch.v > local) {
          still.push(batch);
          continue;
        }
        const set = new AnchorSet<string>();
        for (const [id, a] of batch.anchors) {
          set.set(id, a);
          if (a.detached) set.detachKey(id);
        }
        for (let u = batch.v; u < local && !gap; u++) {
          const op = this.log.get(u);
          if (op === undefined) gap = true;
          else if (op === WHOLE) set.detachAll();
          else set.apply(op);
        }
        if (gap) break;
        for (const id of batch.anchors.keys()) {
          if (!this.content.has(id)) continue;
          const now = set.get(id);
          if (now === null || now === undefined) {
            this.base.set(id, { path: set.lastPath(id) ?? [] });
            this.base.detachKey(id);
          } else this.base.set(id, now);
        }
      }
      this.waiting = still;
      if (gap) {
        // Ops between the listing and this copy were not seen here (a reconnect): list again.
        this.waiting = [];
        if (this.refreshes++ < MAX_REFRESHES) {
          void this.refresh().catch(() => {});
          return;
        }
      } else this.refreshes = 0;
    }
    if (this.waiting.length === 0) for (const resolve of this.settledWaiters.splice(0)) resolve();
    this.changed();
  }

  private receive(message: Record<string, unknown>): void {
    if (message.a !== 'op' || message.c !== this.doc.collection || message.d !== this.doc.id) return;
    const v = message.v;
    if (typeof v !== 'number') return;
    const raw = this.doc.raw;
    const inflight = raw.inflightOp;
    let op: JSONOp | typeof WHOLE | undefined;
    if (message.op !== undefined) op = message.op as JSONOp;
    else if (message.del !== undefined || message.create !== undefined) op = WHOLE;
    else if (inflight !== null && message.src === inflight.src && message.seq === inflight.seq)
      // Our own op acknowledged: as committed, it is the inflight op as it is now.
      op = inflight.op === undefined ? WHOLE : (inflight.op as JSONOp);
    if (op === undefined) return;
    this.log.set(v, op);
    this.log.delete(v - LOG_SIZE);
    // The next op of this copy (ShareDB applies it right after this): the base moves with it.
    if (v === raw.version) {
      if (op === WHOLE) this.base.detachAll();
      else this.base.apply(op);
      this.snapshot = undefined;
    }
    // Others' ops change the document (its change event follows); an acknowledgement does not.
    if (this.waiting.length > 0) queueMicrotask(() => this.drain());
    else if (message.op === undefined) queueMicrotask(() => this.changed());
  }

  private nothingPending(signal?: AbortSignal): Promise<void> {
    const raw = this.doc.raw;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const check = () => {
        if (signal?.aborted) return reject(abortError(signal));
        if (raw.hasPending()) raw.whenNothingPending(check);
        else resolve();
      };
      check();
    });
  }

  private toCodePoints(anchor: ThreadAnchor): Anchor {
    if (anchor.start === undefined || anchor.end === undefined) return { path: anchor.path };
    const value = valueAt(this.doc.raw.data, anchor.path);
    const text = typeof value === 'string' ? value : '';
    // A range is whole code points: an end inside a surrogate pair takes the pair.
    let end = toCodePointIndex(text, anchor.end);
    if (toUtf16Index(text, end) < anchor.end) end++;
    return { path: anchor.path, start: toCodePointIndex(text, anchor.start), end };
  }

  private changed(): void {
    this.snapshot = undefined;
    if (this.content.size > 0 || this.loaded !== undefined) this.emit('change', this.threads);
  }

  private thread(id: string): Thread {
    const found = this.threads.find((t) => t.id === id);
    if (found === undefined)
      throw new TandemError(ErrorCode.NOT_FOUND, `no thread ${id}`, { reason: 'thread' });
    return found;
  }

  /** The base moved through this copy's own ops not yet acknowledged: what this copy shows. */
  private shown(): AnchorSet<string> {
    const raw = this.doc.raw;
    const pending = raw.inflightOp === null ? raw.pendingOps : [raw.inflightOp, ...raw.pendingOps];
    if (pending.length === 0) return this.base;
    const shown = this.base.copy();
    for (const op of pending) {
      if (op.del !== undefined) shown.detachAll();
      else if (op.op !== undefined) shown.apply(op.op as JSONOp);
    }
    return shown;
  }

  private build(): Thread[] {
    const data = this.doc.raw.data as Doc | undefined;
    const anchors = this.shown();
    const out: Thread[] = [];
    for (const [id, thread] of this.content) {
      const now = anchors.get(id);
      // Not shown until its anchor has caught up with this copy.
      if (now === undefined) continue;
      let anchor: ThreadAnchor = { path: anchors.lastPath(id) ?? thread.anchor.path };
      if (now !== null && now.start !== undefined && now.end !== undefined) {
        const value = valueAt(data, now.path);
        const text = typeof value === 'string' ? value : '';
        anchor = { path: now.path, start: toUtf16Index(text, now.start), end: toUtf16Index(text, now.end) };
      }
      out.push({
        ...thread,
        anchor,
        detached: now === null,
        comments: thread.comments.map((c) => ({ ...c, body: fromWireBody(c.body) })),
      });
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }
}
