/**
 * The one hook interface. Every hook is optional; an absent hook is skipped and its default applies.
 * Each hook has its own payload type and a typed return; docs/lifecycle.md says when each fires.
 * Hook names are a closed list: an unknown name is rejected when the server is created.
 */
import type { IncomingMessage } from 'node:http';
import type { ConflictRecord } from '@tandem/conflicts';
import type { ConflictReport } from '@tandem/protocol';

/** Who is on the other end of a connection, as `authenticate` established it. */
export interface Principal {
  id: string;
  /** Display name for presence and op authorship. @default the id */
  name?: string;
  /** Cursor colour (CSS). @default derived from the id */
  colour?: string;
  /** Anything else the host wants middleware to see (roles, tenant, …). */
  [extra: string]: unknown;
}

/**
 * What a connection keeps of its upgrade request after the upgrade (the full IncomingMessage is
 * not retained: it would cost every idle connection several kilobytes). Every header but the
 * handshake's one-time `sec-websocket-key`.
 */
export interface RequestInfo {
  headers: IncomingMessage['headers'];
  url: string | undefined;
  remoteAddress: string | undefined;
}

export interface AuthenticatePayload {
  /** The HTTP upgrade request (headers, URL, cookies); on a refresh, what was kept of it. */
  request: IncomingMessage | RequestInfo;
  /** The token from the `token` query parameter, or from an auth refresh message. */
  token: string | undefined;
  /** True when the client refreshes credentials on a live connection. */
  refresh: boolean;
}

/**
 * What a request does to a document: `read` (fetch, subscribe, query results, presence
 * subscriptions), `create`, `write` (an op), `delete`, `presence` (broadcasting one's own cursor),
 * `comment` (start, reply to, edit, delete or resolve comments), `react` (react to a comment),
 * `history` (history reads), `admin` (admin routes; also a document's owners, who may delete anyone's
 * comment).
 */
export type AccessAction =
  | 'read'
  | 'create'
  | 'write'
  | 'delete'
  | 'presence'
  | 'comment'
  | 'react'
  | 'history'
  | 'admin';

export interface AuthorizePayload {
  principal: Principal;
  action: AccessAction;
  collection: string;
  id: string;
  /** The submitted op (ShareDB form: `{ op } | { create } | { del }`) for `create`, `write`, `delete`. */
  op?: unknown;
}

export interface ValidatePayload {
  principal: Principal;
  collection: string;
  id: string;
  /** The op as it will be committed (already transformed to the latest version). */
  op: unknown;
  /** The snapshot data the op produces. */
  snapshot: unknown;
  /** The version the op is committed at. */
  version: number;
}

export interface ConnectPayload {
  principal: Principal;
  connectionId: string;
  request: IncomingMessage | undefined;
  codec: 'json' | 'msgpack';
}

export interface DisconnectPayload {
  principal: Principal;
  connectionId: string;
  /** WebSocket close code. */
  code: number;
}

export interface CommitPayload {
  principal: Principal | undefined;
  collection: string;
  id: string;
  op: unknown;
  version: number;
  snapshot: unknown;
}

export interface ConflictPayload {
  /** The stored record, with the conflicting parts of both ops and (for manual fields) both values. */
  record: ConflictRecord;
  /** What the authors' clients receive (the record without its ops). */
  report: ConflictReport;
}

export interface TandemHooks {
  /**
   * At the HTTP upgrade (and on auth refresh). Return the principal; throw or reject to refuse:
   * the upgrade is answered with HTTP 401 before a socket exists.
   * @default every connection is an anonymous principal with a random id
   */
  authenticate?(payload: AuthenticatePayload): Principal | Promise<Principal>;
  /** Before every read (fetch, subscribe, query results) and write. Return false to refuse (FORBIDDEN). @default allow */
  authorize?(payload: AuthorizePayload): boolean | Promise<boolean>;
  /** Before a commit, with the resulting snapshot. Throw a TandemError to reject the op. @default accept */
  validate?(payload: ValidatePayload): void | Promise<void>;
  /** After the socket is open and the principal is known. */
  onConnect?(payload: ConnectPayload): void | Promise<void>;
  /** After the socket closed, once per connection. */
  onDisconnect?(payload: DisconnectPayload): void | Promise<void>;
  /** After an op is durable in the store, on the process that committed it. */
  onCommit?(payload: CommitPayload): void | Promise<void>;
  /**
   * Once per conflict @tandem/conflicts records (or `tandem.reportConflict`), on the process that
   * committed or refused the op, after the record is stored.
   */
  onConflict?(payload: ConflictPayload): void | Promise<void>;
}

export type HookName = keyof TandemHooks;

/** The closed list of hook names, checked at creation. */
export const HOOK_NAMES: readonly HookName[] = [
  'authenticate',
  'authorize',
  'validate',
  'onConnect',
  'onDisconnect',
  'onCommit',
  'onConflict',
];
