export type {
  BlameResult,
  DocRef,
  ForkRecord,
  HistoryEntry,
  HistoryPage,
  MergeResult,
  NamedVersion,
  NotificationData,
  NotificationKind,
  NotificationList,
  OpSummary,
  PageQuery,
  Reaction,
  Submitted,
  VerifyReport,
  VersionDiff,
  VersionedSnapshot,
} from '@tandem/protocol';
// The error model every method rejects with, so apps need no second import to handle it.
export { ErrorCode, isTandemError, TandemError } from '@tandem/protocol';
export type { ConnectionStatus, ConnectOptions, Logger, TandemRequest } from './client';
export { connect, TandemClient } from './client';
export type { CodecName } from './codecs';
export type {
  Comment,
  CommentInput,
  CommentsContext,
  CommentText,
  Mention,
  Thread,
  ThreadAnchor,
} from './comments';
export { DocComments } from './comments';
export type { DocChange } from './doc';
export { DocLock, TandemDoc } from './doc';
export { DocHistory } from './history';
export type { NotificationsContext } from './notifications';
export { Notifications } from './notifications';
export type { OfflineStore, PersistedDoc } from './offline';
export { indexedDbStore, memoryStore } from './offline';
export type { LocalPresence, PeerPresence } from './presence';
export { DocPresence } from './presence';
export type { ShareDbConnection, ShareDbDoc, ShareDbDocPresence, ShareDbQuery } from './sharedb';
export type { BackoffOptions, WebSocketConstructor, WebSocketLike } from './socket';
export type { TextChange, TextShift } from './text';
export { diffShift, shiftIndex, TextBinding } from './text';
