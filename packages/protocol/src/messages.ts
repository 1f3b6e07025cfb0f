/**
 * Tandem's own messages. They ride the same socket as ShareDB's, in their own namespace: every
 * Tandem message has `a: 'tandem'` (an action ShareDB never uses) and a type tag `t`. The server
 * routes them before ShareDB's `receive` middleware sees anything; the client takes them out before
 * ShareDB's Connection does. docs/protocol.md describes each one.
 */
import type { WireError } from './errors';

export const TANDEM_ACTION = 'tandem';

/** Who made an op or owns a presence, as the server authenticated them. */
export interface UserInfo {
  id: string;
  name: string;
  colour: string;
}

/** Activity-derived status shown in presence. */
export type PresenceStatus = 'online' | 'away' | 'editing' | 'idle';

/**
 * The presence value on the wire (ShareDB doc presence). `path`, `offset` and `selections` are what
 * the document type's `transformPresence` moves through concurrent edits (offsets in code points);
 * `user` and `rtt` are stamped by the server from the authenticated principal and the heartbeat,
 * whatever the client claimed.
 */
export interface PresenceValue {
  path: (string | number)[];
  offset?: number;
  selections?: { anchor: number; head: number }[];
  status: PresenceStatus;
  user: UserInfo;
  /** Round-trip time of the owner's connection in ms, from the server's heartbeat. */
  rtt?: number;
}

/** What collided (see @tandem/conflicts' README for when each is reported). */
export type ConflictKind =
  | 'same-field-write'
  | 'delete-vs-edit'
  | 'move-collision'
  | 'move-cycle'
  | 'overlapping-text'
  | 'locked-path';

/** high: content removed or overwritten; medium: moved or overlapping; low: concurrent but both kept. */
export type ConflictSeverity = 'high' | 'medium' | 'low';

/**
 * A conflict the server detected while transforming concurrent ops: the wire form of
 * @tandem/conflicts' `ConflictRecord`, without the ops themselves (clients fetch history for those).
 * Sent to the connections of the authors involved, on every server process.
 */
export interface ConflictReport {
  /** The record's id (stable: `resolve` and the stored record use it). */
  id: string;
  collection: string;
  docId: string;
  kind: ConflictKind;
  /** Where the incoming (later) op acted. */
  path: (string | number)[];
  /** Where the other op acted (the locked path for `locked-path`). */
  otherPath: (string | number)[];
  severity: ConflictSeverity;
  /** Ids of the users whose ops collided, deduplicated; the incoming op's author first. */
  authors: string[];
  /** The policy that handled it and the rule pattern that selected it (null: the default). */
  policy: 'merge' | 'last-writer-wins' | 'reject' | 'manual';
  rule: string | null;
  /** False only while a `manual` conflict waits for a user. */
  resolved: boolean;
  /** How it ended, from the incoming op's point of view (`op-wins`, `rejected`, `kept-committed`, …). */
  resolution: string;
  status: 'open' | 'resolved';
  /** `op`: the version the incoming op was committed (or refused) at; `base`: the one it was built on; `other`: the concurrent op's. */
  versions: { op: number; base: number; other: number };
  /** Epoch milliseconds. */
  createdAt: number;
  /** The field a last-writer-wins / manual policy acted on, and its two values. */
  field?: (string | number)[];
  committedValue?: unknown;
  incomingValue?: unknown;
}

/** A path lock as clients see it (@tandem/conflicts' `Lock`). */
export interface LockInfo {
  id: string;
  collection: string;
  docId: string;
  path: (string | number)[];
  /** Principal id of the holder. */
  owner: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** Server -> client, once after the socket opens, before any ShareDB message is answered. */
export interface HelloMessage {
  a: typeof TANDEM_ACTION;
  t: 'hello';
  connectionId: string;
  user: UserInfo;
  /** Server limits the client should respect (bytes). */
  limits: { maxMessageBytes: number };
  /**
   * When the credentials expire (ms since the epoch), if they do: the client refreshes before
   * (`t: 'auth'`), else the server closes the socket with UNAUTHORIZED at expiry.
   */
  expiresAt?: number;
}

/** Server -> client: a typed error not tied to a ShareDB request (bad frame, backpressure, …). */
export interface ErrorMessage {
  a: typeof TANDEM_ACTION;
  t: 'error';
  error: WireError;
}

/** Client -> server: replace the credentials of a live connection. */
export interface AuthRefreshMessage {
  a: typeof TANDEM_ACTION;
  t: 'auth';
  rid: number;
  token: string;
}

/** Server -> client: answer to a request that carried `rid`. */
export interface ResultMessage {
  a: typeof TANDEM_ACTION;
  t: 'result';
  rid: number;
  value?: unknown;
  error?: WireError;
}

/** Client -> server and back: application-level ping for round-trip time where ws pings are invisible (browsers). */
export interface PingMessage {
  a: typeof TANDEM_ACTION;
  t: 'ping' | 'pong';
  ts: number;
}

/** Server -> client: a conflict concerning this client. */
export interface ConflictMessage {
  a: typeof TANDEM_ACTION;
  t: 'conflict';
  report: ConflictReport;
}

/** Client -> server: a history call (`method` from @tandem/history's `HISTORY_METHODS`; `args: [{ collection, id, ...params }]`). */
export interface HistoryCallMessage {
  a: typeof TANDEM_ACTION;
  t: 'history';
  rid: number;
  method: string;
  args: unknown[];
}

/**
 * Client -> server: acquire (or, for the same path, renew) a path lock, or release one; answered
 * with a `result` carrying the `LockInfo` (acquire) or nothing (release).
 */
export interface LockMessage {
  a: typeof TANDEM_ACTION;
  t: 'lock';
  rid: number;
  action: 'acquire' | 'release';
  collection: string;
  id: string;
  /** acquire: the subtree to lock. */
  path?: (string | number)[];
  /** acquire: lifetime in ms (the server's default and maximum apply). */
  ttlMs?: number;
  /** release: the lock's id. */
  lockId?: string;
}

/**
 * Client -> server: a call to a server extension (comments, notifications, the host's own), answered
 * with a `result`. `ext` names the extension, `method` one of its calls.
 */
export interface ExtensionCallMessage {
  a: typeof TANDEM_ACTION;
  t: 'call';
  rid: number;
  ext: string;
  method: string;
  args: unknown[];
}

/** Server -> client: data a server extension sends to this socket unasked (e.g. a notification). */
export interface PushMessage {
  a: typeof TANDEM_ACTION;
  t: 'push';
  ext: string;
  data: unknown;
}

export type TandemMessage =
  | HelloMessage
  | ErrorMessage
  | AuthRefreshMessage
  | ResultMessage
  | PingMessage
  | ConflictMessage
  | HistoryCallMessage
  | LockMessage
  | ExtensionCallMessage
  | PushMessage;

/** The author stamped by the server on every op message it delivers (field `au` of a ShareDB `op`). */
export type OpAuthor = Pick<UserInfo, 'id' | 'name'>;

/** Field of a ShareDB `op` message that carries its author. Stock clients ignore it. */
export const AUTHOR_FIELD = 'au';

export function isTandemMessage(value: unknown): value is TandemMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { a?: unknown }).a === TANDEM_ACTION &&
    typeof (value as { t?: unknown }).t === 'string'
  );
}
