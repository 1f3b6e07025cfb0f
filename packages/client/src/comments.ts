/**
 * `doc.comments()`: a document's comment threads, kept current. Threads come from the server's
 * `comments` extension with their anchors at a document version; this client moves them to its own
 * copy of the document (through the server's ops it has seen since that version, then through its
 * own unacknowledged ops) and from then on through every op it applies, local or remote — so a
 * thread stays on its text while anyone types, with no server round trip. Offsets are JS string
 * indexes at this API and code points on the wire. Bodies are plain text with mention spans.
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
const WHOLE = null;

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
  /** Anchors of attached threads, in code points of this client's copy of the document. */
  private readonly anchors = new AnchorSet<string>();
  private readonly detached = new Map<string, Path>();
  /** Anchors received at a version this copy has not reached, or has passed. */
  private waiting: { v: number; anchors: Map<string, CommentAnchor & { detached: boolean }> }[] = [];
  /** Anchors of threads being added, moved until they are sent. */
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
        this.anchors.apply(op);
        this.drafts.apply(op);
        this.changed();
      }),
      // The data was replaced without ops (a re-fetch): anchors are taken from the server again.
      doc.on('load', () => {
        if (this.loaded !== undefined && this.content.size > 0) void this.refresh();
        else this.drain();
      }),
      context.onReceive((message) => this.receive(message)),
      context.onPush((push) => {
        if (push.t === 'thread' && push.collection === doc.collection && push.docId === doc.id)
          this.ingest(push.v, [push.thread], false);
      }),
      context.onOnline(() => {
        if (this.loaded !== undefined) void this.refresh();
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
    // Threads are shown once their anchors are caught up with this copy of the document.
    try {
      await this.loaded;
    } catch (error) {
      this.loaded = undefined;
      throw error;
    }
    await this.settled(signal);
    return this.threads;
  }

  /** Start a thread on a range of the string at `anchor.path` (or on the whole value there). */
  async add(input: { anchor: ThreadAnchor; body: CommentInput }, signal?: AbortSignal): Promise<Thread> {
    const body = toWireBody(input.body);
    await this.list(signal);
    const key = this.nextDraft++;
    this.drafts.set(key, this.toCodePoints(input.anchor));
    try {
      // The anchor is sent as a place in a version the server has: nothing of ours pending.
      await this.nothingPending(signal);
      const anchor = this.drafts.get(key);
      if (anchor === null || anchor === undefined)
        throw new TandemError(ErrorCode.NOT_FOUND, 'the anchored text was deleted', { reason: 'anchor' });
      const update = await this.call<ThreadUpdate>(
        'create',
        [{ anchor, v: this.doc.raw.version, body }],
        signal,
      );
      // The draft has followed every op since: it is already where the thread is in this copy.
      const now = this.drafts.get(key);
      if (!this.content.has(update.thread.id) && now !== null && now !== undefined) {
        this.content.set(update.thread.id, update.thread);
        this.anchors.set(update.thread.id, now);
        this.changed();
      } else this.ingest(update.v, [update.thread], false);
      return this.thread(update.thread.id);
    } finally {
      this.drafts.delete(key);
    }
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
    this.ingest(update.v, [update.thread], false);
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
    this.ingest(update.v, [update.thread], false);
    return this.thread(update.thread.id);
  }

  private async refresh(signal?: AbortSignal): Promise<void> {
    const list = await this.call<ThreadList>('list', [true], signal).catch((error: unknown) => {
      this.emit('error', TandemError.from(error));
      // Whoever waits for threads to settle gets what there is.
      this.waiting = [];
      this.drain();
      throw error;
    });
    this.ingest(list.v, list.threads, true);
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

  /** Threads at document version `v`; `all`: the whole list (threads not in it are gone). */
  private ingest(v: number, threads: ThreadData[], all: boolean): void {
    const anchors = new Map<string, CommentAnchor & { detached: boolean }>();
    if (all) for (const id of this.content.keys()) if (!threads.some((t) => t.id === id)) this.forget(id);
    for (const thread of threads) {
      const known = this.content.get(thread.id);
      if (!isLive(thread)) {
        this.forget(thread.id);
        continue;
      }
      if (known === undefined || known.revision <= thread.revision) this.content.set(thread.id, thread);
      // Anchors of known threads move here already; a full listing (after a gap) resets them.
      if (known === undefined || all) anchors.set(thread.id, { ...thread.anchor, detached: thread.detached });
    }
    if (anchors.size > 0) this.waiting.push({ v, anchors });
    this.drain();
    this.changed();
  }

  private forget(id: string): void {
    this.content.delete(id);
    this.anchors.delete(id);
    this.detached.delete(id);
  }

  /** Catch waiting anchors up to this copy: the server's ops since their version, then ours pending. */
  private drain(): void {
    const raw = this.doc.raw;
    const local = raw.version;
    if (this.waiting.length === 0) {
      for (const resolve of this.settledWaiters.splice(0)) resolve();
      return;
    }
    if (local === null) return;
    const still: typeof this.waiting = [];
    let gap = false;
    for (const batch of this.waiting) {
      if (batch.v > local) {
        still.push(batch);
        continue;
      }
      const set = new AnchorSet<string>();
      for (const [id, a] of batch.anchors) if (!a.detached) set.set(id, a);
      for (let u = batch.v; u < local && !gap; u++) {
        const op = this.log.get(u);
        if (op === undefined) gap = true;
        else if (op === WHOLE) set.detachAll();
        else set.apply(op);
      }
      if (gap) break;
      for (const pending of raw.inflightOp === null ? raw.pendingOps : [raw.inflightOp, ...raw.pendingOps]) {
        if (pending.del !== undefined) set.detachAll();
        else if (pending.op !== undefined) set.apply(pending.op as JSONOp);
      }
      for (const [id, a] of batch.anchors) {
        if (!this.content.has(id)) continue;
        const now = a.detached ? null : set.get(id);
        if (now === null || now === undefined) {
          this.anchors.delete(id);
          this.detached.set(id, a.detached ? a.path : (set.lastPath(id) ?? a.path));
        } else {
          this.detached.delete(id);
          this.anchors.set(id, now);
        }
      }
    }
    this.waiting = still;
    if (gap) {
      // Ops between the listing and this copy were not seen here (a reconnect): list again.
      this.waiting = [];
      if (this.refreshes++ < MAX_REFRESHES) void this.refresh().catch(() => {});
      else this.drain();
      return;
    }
    this.refreshes = 0;
    if (this.waiting.length === 0) for (const resolve of this.settledWaiters.splice(0)) resolve();
    this.changed();
  }

  private receive(message: Record<string, unknown>): void {
    if (message.a !== 'op' || message.c !== this.doc.collection || message.d !== this.doc.id) return;
    const v = message.v;
    if (typeof v !== 'number') return;
    const inflight = this.doc.raw.inflightOp;
    if (message.op !== undefined) this.log.set(v, message.op as JSONOp);
    else if (message.del !== undefined || message.create !== undefined) this.log.set(v, WHOLE);
    else if (inflight !== null && message.src === inflight.src && message.seq === inflight.seq) {
      // Our own op acknowledged: as committed, it is the inflight op as it is now.
      if (inflight.op !== undefined) this.log.set(v, inflight.op as JSONOp);
      else this.log.set(v, WHOLE);
    }
    this.log.delete(v - LOG_SIZE);
    if (this.waiting.length > 0) queueMicrotask(() => this.drain());
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
    return {
      path: anchor.path,
      start: toCodePointIndex(text, anchor.start),
      end: toCodePointIndex(text, anchor.end),
    };
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

  private build(): Thread[] {
    const data = this.doc.raw.data as Doc | undefined;
    const out: Thread[] = [];
    for (const [id, thread] of this.content) {
      const now = this.anchors.get(id);
      // Not shown until its anchor has caught up with this copy.
      if (now === undefined && !this.detached.has(id)) continue;
      let anchor: ThreadAnchor = { path: this.detached.get(id) ?? thread.anchor.path };
      if (now !== null && now !== undefined) {
        anchor = { path: now.path };
        if (now.start !== undefined && now.end !== undefined) {
          const value = valueAt(data, now.path);
          const text = typeof value === 'string' ? value : '';
          anchor = { path: now.path, start: toUtf16Index(text, now.start), end: toUtf16Index(text, now.end) };
        }
      }
      out.push({
        ...thread,
        anchor,
        detached: now === null || now === undefined,
        comments: thread.comments.map((c) => ({ ...c, body: fromWireBody(c.body) })),
      });
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }
}
