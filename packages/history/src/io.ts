/**
 * The I/O edge: the store, submits and server-side connections through ShareDB's calls as promises
 * (@tandem/conflicts' `shareDbCalls`, their one definition), plus the milestone store only history
 * uses. Everything else in the package is computed from what these return.
 */

import { type ShareDbCalls, shareDbCalls } from '@tandem/conflicts';
import { type JSONOp, registerTandemType, type TypeRegistry, type } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import ShareDB from 'sharedb';
import type { ServerStamp, ServerStamps } from './authorship';
import type { Actor, StoredOp, Submitted, VersionedSnapshot } from './types';

type Callback<T> = (error: unknown, value?: T) => void;

interface DBLike {
  /** Optional capability (see compaction.ts). */
  deleteOpsBefore?: (collection: string, id: string, before: number) => Promise<number>;
}

interface MilestoneLike {
  interval?: number;
  getMilestoneSnapshot(
    collection: string,
    id: string,
    version: number,
    cb: Callback<VersionedSnapshot | undefined>,
  ): void;
  saveMilestoneSnapshot(collection: string, snapshot: object, cb: Callback<void>): void;
}

/** A milestone store call as a promise; its failures are the store's. */
function milestoneCall<T>(fn: (cb: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((error, value) =>
      error ? reject(TandemError.from(error, ErrorCode.STORAGE_UNAVAILABLE)) : resolve(value as T),
    );
  });
}

/** Register Tandem's json1 type once, if the host has not (the server does it too). */
function ensureType(): void {
  registerTandemType(ShareDB.types as unknown as TypeRegistry);
}

export class HistoryIO {
  private readonly calls: ShareDbCalls;
  private readonly db: DBLike;
  private readonly milestones: MilestoneLike;

  /**
   * @param trust called with each agent history writes its reserved records through (see
   * `HistoryOptions.trustAgent`).
   */
  constructor(
    readonly backend: ShareDB,
    private readonly trust: (agent: object) => void = () => {},
    /** Where `send` leaves each submit's ServerStamp for the authorship middleware. */
    readonly stamps: ServerStamps = new WeakMap(),
  ) {
    ensureType();
    this.calls = shareDbCalls(backend);
    this.db = backend.db as unknown as DBLike;
    this.milestones = backend.milestoneDb as unknown as MilestoneLike;
  }

  /** Ops `[from, to)` with their metadata; `to` null = to the end. */
  getOps(collection: string, id: string, from: number, to: number | null): Promise<StoredOp[]> {
    return this.calls.ops(collection, id, from, to, { metadata: true }) as Promise<StoredOp[]>;
  }

  getSnapshot(collection: string, id: string): Promise<VersionedSnapshot> {
    return this.calls.snapshot(collection, id).then((s) => ({ v: s.v, type: s.type, data: s.data }));
  }

  /** The latest milestone at or before `version`, if any. */
  milestoneAt(collection: string, id: string, version: number): Promise<VersionedSnapshot | undefined> {
    return milestoneCall((cb) => this.milestones.getMilestoneSnapshot(collection, id, version, cb));
  }

  saveMilestone(collection: string, id: string, snapshot: VersionedSnapshot, ts: number): Promise<void> {
    // Milestone DBs index by `m.mtime` for time queries, like the snapshots ShareDB saves itself.
    const stored = { id, v: snapshot.v, type: snapshot.type, data: snapshot.data, m: { mtime: ts } };
    return milestoneCall((cb) => this.milestones.saveMilestoneSnapshot(collection, stored, cb));
  }

  deleteOpsBefore(): DBLike['deleteOpsBefore'] {
    const fn = this.db.deleteOpsBefore;
    return fn === undefined ? undefined : fn.bind(this.db);
  }

  /**
   * Submit a raw op to ShareDB as `actor` (or as the trusted server when undefined). The actor's
   * principal rides on the agent's `custom` like a socket's (the whole principal when the actor
   * carries one), so every middleware (the host's authorization, locks, authorship) treats the op
   * exactly as that user's own. The stamp goes to the authorship middleware by this agent, never
   * through the message. `op.v` is the version the op was built for; ShareDB transforms it over
   * anything committed since.
   */
  private send(
    actor: Actor | undefined,
    collection: string,
    id: string,
    op: object,
    stamp: ServerStamp | undefined,
  ): Promise<Submitted> {
    const connection = this.calls.connect();
    const agent = connection.agent;
    if (actor !== undefined) {
      agent.custom.principal = actor.principal ?? { id: actor.id, name: actor.name ?? actor.id };
      if (actor.sessionId !== undefined) agent.custom.sessionId = actor.sessionId;
    } else {
      // The trusted server writing Tandem's own records: say so for reserved-collection guards.
      agent.custom.tandemInternal = true;
      this.trust(agent);
    }
    if (stamp !== undefined) this.stamps.set(agent, stamp);
    return this.calls
      .submit(agent, collection, id, op)
      .then((version) => ({ version }))
      .finally(() => connection.close());
  }

  /** Submit `op`, built against the document at `version`. */
  submitAt(
    actor: Actor | undefined,
    collection: string,
    id: string,
    version: number,
    op: JSONOp,
    stamp?: ServerStamp,
  ): Promise<Submitted> {
    return this.send(actor, collection, id, { v: version, op }, stamp);
  }

  /**
   * Read the latest document, build an op from it (null: nothing to do), submit it at that version.
   */
  async submit(
    actor: Actor | undefined,
    collection: string,
    id: string,
    build: (snapshot: VersionedSnapshot) => JSONOp | null,
    stamp?: ServerStamp,
  ): Promise<Submitted | null> {
    const snapshot = await this.getSnapshot(collection, id);
    if (snapshot.type === null) {
      throw new TandemError(ErrorCode.NOT_FOUND, `${collection}/${id} does not exist`, { collection, id });
    }
    const op = build(snapshot);
    return op === null ? null : this.submitAt(actor, collection, id, snapshot.v, op, stamp);
  }

  /** Create a document (ALREADY_EXISTS when it exists). */
  create(
    actor: Actor | undefined,
    collection: string,
    id: string,
    data: unknown,
    stamp?: ServerStamp,
  ): Promise<Submitted> {
    return this.send(actor, collection, id, { v: 0, create: { type: type.uri, data } }, stamp);
  }
}
