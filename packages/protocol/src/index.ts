export { backoffDelay } from './backoff';
export { clientIdAlias } from './client-ids';
export type { Codec, Frame, MsgpackImplementation } from './codec';
export {
  batchedJsonCodec,
  msgpackArrayHeader,
  msgpackCodec,
  plainJsonCodec,
  Subprotocol,
  selectSubprotocol,
} from './codec';
export type {
  CommentAnchor,
  CommentBody,
  CommentData,
  CommentsPush,
  MentionSpan,
  NotificationData,
  NotificationKind,
  NotificationList,
  Reaction,
  ThreadData,
  ThreadList,
  ThreadUpdate,
} from './comments';
export { COMMENTS_EXTENSION, NOTIFICATION_PRIORITY, REACTIONS } from './comments';
export { clockOption, invalidOption, knownKeys, plainObject, positiveIntegers } from './config';
export type { ErrorDetails, Result, WireError } from './errors';
export { ErrorCode, err, isErrorCode, isTandemError, isWireError, ok, TandemError, unwrap } from './errors';
export type {
  BlameOwner,
  BlameRange,
  BlameResult,
  DocPath,
  DocRef,
  ForkRecord,
  HistoryEntry,
  HistoryPage,
  MergeRecord,
  MergeResult,
  NamedVersion,
  OpSummary,
  PageQuery,
  Submitted,
  VerifyReport,
  VersionCheck,
  VersionDiff,
  VersionedSnapshot,
} from './history';
export { cloneJson } from './json';
export type { Logger } from './logger';
export { silentLogger } from './logger';
export type {
  AuthRefreshMessage,
  ConflictKind,
  ConflictMessage,
  ConflictReport,
  ConflictSeverity,
  ErrorMessage,
  ExtensionCallMessage,
  HelloMessage,
  HistoryCallMessage,
  LockInfo,
  LockMessage,
  OpAuthor,
  PingMessage,
  PresenceStatus,
  PresenceValue,
  PushMessage,
  ResultMessage,
  TandemMessage,
  UserInfo,
} from './messages';
export { AUTHOR_FIELD, isTandemMessage, TANDEM_ACTION } from './messages';
export { optionalImport } from './optional';
export { fromShareDbError } from './sharedb-errors';
