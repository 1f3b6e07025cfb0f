/**
 * The thread calls: list (and watch), create, reply, edit, delete, resolve / reopen, react. Each
 * checks its arguments, then asks the one access check for the action (`read`, `comment`, `react`;
 * `admin` for an owner deleting someone else's comment), then reads and writes the records with a
 * compare-and-set, and finally announces the change, notifies and raises webhooks.
 */
import { randomUUID } from 'node:crypto';
import type { DocIO } from '@tandem/conflicts';
import { type Anchor, codePointLength, type Doc, diff, insert, remove, sliceCodePoints } from '@tandem/ot';
import {
  type CommentBody,
  ErrorCode,
  type OpAuthor,
  type Reaction,
  TandemError,
  type ThreadData,
  type ThreadList,
  type ThreadUpdate,
} from '@tandem/protocol';
import type { AccessAction, Caller, ExtensionContext, Principal } from '@tandem/server';
import type { DocRef } from './input';
import * as input from './input';
import type { NewNotification, Notifications } from './notifications';
import type { ResolvedCommentsOptions } from './options';
import { moveAnchors, readIndex, saveAnchors } from './rebase';
import {
  commentToWire,
  INDEX_COLLECTION,
  indexKey,
  isLive,
  type StoredAnchor,
  type StoredComment,
  type StoredThread,
  THREADS_COLLECTION,
  type ThreadIndex,
  threadKey,
  threadToWire,
} from './records';
import type { ThreadEvent, Watchers } from './watchers';

/** Longest quote kept of the anchored text, in code points. */
const MAX_QUOTE = 1_000;
/** Longest excerpt of a comment in a notification, in code points. */
const MAX_EXCERPT = 140;

function notFound(reason: string, message: string): TandemError {
  return new TandemError(ErrorCode.NOT_FOUND, message, { reason });
}

export function authorOf(principal: Principal): OpAuthor {
  const name = principal.name;
  return { id: principal.id, name: typeof name === 'string' && name !== '' ? name : principal.id };
}

/** The value at `path` in `doc`, through own keys only. */
function valueAt(doc: Doc | undefined, path: readonly (string | number)[]): unknown {
  let node: unknown = doc;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    if (Array.isArray(node) !== (typeof key === 'number') || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

const mentioned = (body: CommentBody): Set<string> => new Set(body.mentions.map((m) => m.userId));

const excerpt = (body: CommentBody): string => sliceCodePoints(body.text, 0, MAX_EXCERPT);

export class Threads {
  readonly counts = { threads: 0, comments: 0, reactions: 0, anchorsMoved: 0 };
  /** Anchor write-backs in flight (close waits for them). */
  readonly saving = new Set<Promise<void>>();

  constructor(
    private readonly context: ExtensionContext,
    private readonly io: DocIO,
    private readonly options: ResolvedCommentsOptions,
    private readonly notifications: Notifications,
    private readonly watchers: Watchers,
  ) {}

  private access(caller: Caller, action: AccessAction, ref: DocRef): Promise<void> {
    return this.context.access(caller.principal, action, ref.collection, ref.id);
  }

  async list(caller: Caller, ref: DocRef, watch: boolean): Promise<ThreadList> {
    await this.access(caller, 'read', ref);
    // Follow first, then read: a change after the read is pushed, none falls in between.
    if (watch && !this.watchers.watch(caller.connectionId, ref))
      throw input.tooLarge('watchedDocuments', 1_000, 'this socket follows too many documents');
    const index = await readIndex(this.io, ref);
    const positioned = await moveAnchors(
      this.io,
      ref,
      Object.entries(index.threads).map(([id, e]) => [id, e.a]),
    );
    this.saveInBackground(ref, positioned.moved);
    const ids = [...positioned.anchors.keys()];
    const records = await this.io.readMany(
      THREADS_COLLECTION,
      ids.map((id) => threadKey(ref, id)),
    );
    const threads: ThreadData[] = [];
    records.forEach((record, i) => {
      const thread = record.data as StoredThread | undefined;
      // A thread being created (index first, then record) or whose comments are all deleted.
      if (thread === undefined || !isLive(thread)) return;
      threads.push(threadToWire(thread, positioned.anchors.get(ids[i]) as StoredAnchor, record.v));
    });
    threads.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    return { v: positioned.v, threads };
  }

  async create(caller: Caller, ref: DocRef, raw: unknown): Promise<ThreadUpdate> {
    if (typeof raw !== 'object' || raw === null)
      throw input.invalid('thread', 'expected { anchor, v, body }');
    const given = raw as Record<string, unknown>;
    const wanted = input.anchor(given.anchor);
    const v = input.version(given.v);
    const body = input.body(given.body, this.options);
    await this.access(caller, 'comment', ref);
    // The anchor is a place in the document at `v`: move it to now, and check it there.
    const positioned = await moveAnchors(this.io, ref, [['new', { ...wanted, v }]]);
    if (positioned.data === undefined)
      throw notFound('document', `${ref.collection}/${ref.id} does not exist`);
    if (v > positioned.v)
      throw input.invalid('version', `v ${v} is newer than the document (${positioned.v})`);
    const anchor = positioned.anchors.get('new') as StoredAnchor;
    if (anchor.detached) throw notFound('anchor', 'the anchored text was deleted meanwhile');
    const quote = this.quote(positioned.data, anchor);
    const at = this.options.now();
    const author = authorOf(caller.principal);
    const threadId = randomUUID();
    const comment: StoredComment = { id: randomUUID(), author, createdAt: at, body, reactions: {} };
    // The index entry first: it is where the per-document limit is counted, atomically.
    await this.io.update(INDEX_COLLECTION, indexKey(ref), (current) => {
      const index = current.data as ThreadIndex | undefined;
      const entry = { a: anchor };
      if (index === undefined)
        return { create: { threads: { [threadId]: entry } } as never, result: undefined };
      if (Object.keys(index.threads).length >= this.options.maxThreadsPerDocument)
        throw input.tooLarge(
          'maxThreadsPerDocument',
          this.options.maxThreadsPerDocument,
          `a document has at most ${this.options.maxThreadsPerDocument} threads`,
        );
      return { op: insert(['threads', threadId], entry as never), result: undefined };
    });
    const thread: StoredThread = {
      id: threadId,
      quote,
      createdBy: author,
      createdAt: at,
      resolved: null,
      comments: [comment],
    };
    await this.io.create(THREADS_COLLECTION, threadKey(ref, threadId), thread as never);
    this.counts.threads++;
    this.counts.comments++;
    const update = { v: anchor.v, thread: threadToWire(thread, anchor, 1) };
    await this.announce(ref, update);
    this.context.webhook('comment.created', {
      collection: ref.collection,
      id: ref.id,
      threadId,
      comment: commentToWire(comment),
      reply: false,
    });
    await this.notifyComment(caller, ref, thread, comment, new Set([author.id]));
    return update;
  }

  async reply(caller: Caller, ref: DocRef, threadId: string, raw: unknown): Promise<ThreadUpdate> {
    const body = input.body(raw, this.options);
    await this.access(caller, 'comment', ref);
    const comment: StoredComment = {
      id: randomUUID(),
      author: authorOf(caller.principal),
      createdAt: this.options.now(),
      body,
      reactions: {},
    };
    const { before, update } = await this.change(ref, threadId, (thread) => {
      if (thread.comments.length >= this.options.maxCommentsPerThread)
        throw input.tooLarge(
          'maxCommentsPerThread',
          this.options.maxCommentsPerThread,
          `a thread has at most ${this.options.maxCommentsPerThread} comments`,
        );
      return { ...thread, comments: [...thread.comments, comment] };
    });
    this.counts.comments++;
    this.context.webhook('comment.created', {
      collection: ref.collection,
      id: ref.id,
      threadId,
      comment: commentToWire(comment),
      reply: true,
    });
    // Everyone already in the thread hears of the reply (a mention says more, and wins).
    const told = new Set([caller.principal.id]);
    await this.notifyComment(caller, ref, before, comment, told);
    const reply = this.notification(caller, ref, threadId, comment.id, 'reply');
    const members = new Set([before.createdBy.id, ...before.comments.map((c) => c.author.id)]);
    await Promise.all(
      [...members]
        .filter((id) => !told.has(id))
        .map((id) => this.notify(id, { ...reply, excerpt: excerpt(body) })),
    );
    return update;
  }

  async edit(
    caller: Caller,
    ref: DocRef,
    threadId: string,
    commentId: string,
    raw: unknown,
  ): Promise<ThreadUpdate> {
    const body = input.body(raw, this.options);
    await this.access(caller, 'comment', ref);
    let previous: CommentBody | undefined;
    const { before, update } = await this.change(ref, threadId, (thread) => {
      const comment = this.commentOf(thread, commentId);
      if (comment.author.id !== caller.principal.id)
        throw new TandemError(ErrorCode.FORBIDDEN, 'only its author edits a comment', { reason: 'author' });
      previous = comment.body;
      const edited = { ...comment, body, editedAt: this.options.now() };
      return { ...thread, comments: thread.comments.map((c) => (c.id === commentId ? edited : c)) };
    });
    // Only users the edit newly mentions are told.
    const told = new Set([caller.principal.id, ...mentioned(previous as CommentBody)]);
    await this.notifyComment(caller, ref, before, { id: commentId, body }, told);
    return update;
  }

  async remove(caller: Caller, ref: DocRef, threadId: string, commentId: string): Promise<ThreadUpdate> {
    await this.access(caller, 'comment', ref);
    // Authors never change: who wrote it can be decided before the write.
    const stored = (await this.io.read(THREADS_COLLECTION, threadKey(ref, threadId))).data as
      | StoredThread
      | undefined;
    if (stored === undefined) throw notFound('thread', `no thread ${threadId}`);
    const author = this.commentOf(stored, commentId).author.id;
    if (author !== caller.principal.id && !(await this.isOwner(caller, ref)))
      throw new TandemError(
        ErrorCode.FORBIDDEN,
        "only its author or the document's owner deletes a comment",
        {
          reason: 'author',
        },
      );
    const { update } = await this.change(ref, threadId, (thread) => {
      const at = this.options.now();
      return {
        ...thread,
        comments: thread.comments.map((c) =>
          c.id === commentId && c.deleted === undefined
            ? {
                ...c,
                body: { text: '', mentions: [] },
                reactions: {},
                deleted: { by: caller.principal.id, at },
              }
            : c,
        ),
      };
    });
    if (update.thread.comments.every((c) => c.deleted !== undefined)) {
      // The last comment went: the thread is gone, and stops counting towards the limit.
      await this.io.update(INDEX_COLLECTION, indexKey(ref), (current) => {
        const index = current.data as ThreadIndex | undefined;
        return index?.threads[threadId] === undefined
          ? { result: undefined }
          : { op: remove(['threads', threadId]), result: undefined };
      });
    }
    return update;
  }

  async setResolved(caller: Caller, ref: DocRef, threadId: string, resolved: boolean): Promise<ThreadUpdate> {
    await this.access(caller, 'comment', ref);
    const { before, update } = await this.change(ref, threadId, (thread) => ({
      ...thread,
      resolved: resolved
        ? (thread.resolved ?? { by: authorOf(caller.principal), at: this.options.now() })
        : null,
    }));
    if (resolved && before.resolved === null)
      this.context.webhook('comment.resolved', {
        collection: ref.collection,
        id: ref.id,
        threadId,
        resolved: update.thread.resolved,
      });
    return update;
  }

  async react(
    caller: Caller,
    ref: DocRef,
    threadId: string,
    commentId: string,
    kind: Reaction,
    on: boolean,
  ): Promise<ThreadUpdate> {
    await this.access(caller, 'react', ref);
    const user = caller.principal.id;
    let added: StoredComment | undefined;
    const { update } = await this.change(ref, threadId, (thread) => {
      const comment = this.commentOf(thread, commentId);
      const list = comment.reactions[kind] ?? [];
      const has = list.some((r) => r.u === user);
      if (has === on) return thread;
      if (on) added = comment;
      const next = on ? [...list, { u: user, at: this.options.now() }] : list.filter((r) => r.u !== user);
      const reactions = { ...comment.reactions, [kind]: next };
      if (next.length === 0) delete reactions[kind];
      return {
        ...thread,
        comments: thread.comments.map((c) => (c.id === commentId ? { ...c, reactions } : c)),
      };
    });
    if (added !== undefined) {
      this.counts.reactions++;
      if (added.author.id !== user)
        await this.notify(added.author.id, {
          ...this.notification(caller, ref, threadId, commentId, 'reaction'),
          reaction: kind,
        });
    }
    return update;
  }

  /** Background rebase (every `rebaseEvery` versions): count what moved. */
  noteMoved(n: number): void {
    this.counts.anchorsMoved += n;
  }

  /**
   * Change a live thread with a compare-and-set; announces the new state. `next` returns the
   * thread itself for "nothing to do".
   */
  private async change(
    ref: DocRef,
    threadId: string,
    next: (thread: StoredThread) => StoredThread,
  ): Promise<{ before: StoredThread; update: ThreadUpdate }> {
    const { before, after, revision } = await this.io.update(
      THREADS_COLLECTION,
      threadKey(ref, threadId),
      (current) => {
        const thread = current.data as StoredThread | undefined;
        if (thread === undefined || !isLive(thread)) throw notFound('thread', `no thread ${threadId}`);
        const after = next(thread);
        const op = after === thread ? null : diff(thread as never, after as never);
        return {
          op: op ?? undefined,
          result: { before: thread, after, revision: op === null ? current.v : current.v + 1 },
        };
      },
    );
    const anchor = (await readIndex(this.io, ref)).threads[threadId]?.a;
    if (anchor === undefined) throw notFound('thread', `no thread ${threadId}`);
    const update = { v: anchor.v, thread: threadToWire(after, anchor, revision) };
    if (after !== before) await this.announce(ref, update);
    return { before, update };
  }

  private commentOf(thread: StoredThread, commentId: string): StoredComment {
    const comment = thread.comments.find((c) => c.id === commentId);
    if (comment === undefined || comment.deleted !== undefined)
      throw notFound('comment', `no comment ${commentId}`);
    return comment;
  }

  private quote(data: Doc, anchor: Anchor): string {
    const value = valueAt(data, anchor.path);
    if (value === undefined) throw notFound('anchor', 'nothing at the anchor path');
    if (anchor.start === undefined || anchor.end === undefined) return '';
    if (typeof value !== 'string' || (anchor.end as number) > codePointLength(value))
      throw input.invalid('anchor', 'the anchor range is not within a string');
    return sliceCodePoints(value, anchor.start, Math.min(anchor.end, anchor.start + MAX_QUOTE));
  }

  private async isOwner(caller: Caller, ref: DocRef): Promise<boolean> {
    // As for locks and the admin routes: owners are those `authorize` allows `admin`; no hook, nobody.
    if (this.context.options.hooks.authorize === undefined) return false;
    return this.access(caller, 'admin', ref).then(
      () => true,
      () => false,
    );
  }

  private announce(ref: DocRef, update: ThreadUpdate): Promise<void> {
    return this.context.publish({
      t: 'thread',
      collection: ref.collection,
      docId: ref.id,
      ...update,
    } satisfies ThreadEvent);
  }

  private notification(
    caller: Caller,
    ref: DocRef,
    threadId: string,
    commentId: string,
    kind: NewNotification['kind'],
  ): NewNotification {
    return {
      kind,
      collection: ref.collection,
      docId: ref.id,
      threadId,
      commentId,
      by: authorOf(caller.principal),
      at: this.options.now(),
    };
  }

  /** Mentions in a new (or edited) comment, skipping `told`; adds those told to it. */
  private async notifyComment(
    caller: Caller,
    ref: DocRef,
    thread: StoredThread,
    comment: Pick<StoredComment, 'id' | 'body'>,
    told: Set<string>,
  ): Promise<void> {
    const users = [...mentioned(comment.body)].filter((id) => !told.has(id));
    for (const id of users) told.add(id);
    const item = {
      ...this.notification(caller, ref, thread.id, comment.id, 'mention'),
      excerpt: excerpt(comment.body),
    };
    await Promise.all(
      users.map(async (userId) => {
        await this.notify(userId, item);
        this.context.webhook('mention.created', {
          collection: ref.collection,
          id: ref.id,
          threadId: thread.id,
          commentId: comment.id,
          by: item.by,
          userId,
        });
      }),
    );
  }

  private async notify(userId: string, item: NewNotification): Promise<void> {
    try {
      await this.notifications.notify(userId, item);
    } catch (error) {
      // The comment is stored; a notification that could not be is logged, not the caller's failure.
      this.context.logger.warn('comments: a notification was not stored', { userId, error: String(error) });
    }
  }

  private saveInBackground(ref: DocRef, moved: Map<string, StoredAnchor>): void {
    if (moved.size === 0) return;
    this.counts.anchorsMoved += moved.size;
    const saving: Promise<void> = saveAnchors(this.io, ref, moved)
      .catch((error: unknown) =>
        this.context.logger.warn('comments: moved anchors were not saved', { error: String(error) }),
      )
      .finally(() => this.saving.delete(saving));
    this.saving.add(saving);
  }
}
