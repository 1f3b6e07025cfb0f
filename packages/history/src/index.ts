export type { StackStep, UndoStack } from '@tandem/ot';
/** The pure undo stack lives in @tandem/ot (the client's undo is built on it); re-exported here. */
export { applyRemote, createUndoStack, recordEdit, redo, undo } from '@tandem/ot';
export { canonicalJson, checksum } from './canonical';
export type { CompactableDB, CompactResult } from './compaction';
export { memoryCompaction } from './compaction';
export type { ForkInput, MergeCollision, MergeResult } from './fork';
export type { History } from './history';
export { installHistory } from './history';
export type { HistoryOptions } from './options';
export { checkHistoryOptions } from './options';
export type { RevertOptions } from './revert';
export type { AccessAction, CallContext, HistoryCall, HistoryMethod } from './rpc';
export { HISTORY_METHODS, handleHistoryCall } from './rpc';
export { summarizeOp } from './summary';
export type {
  Actor,
  BlameRange,
  BlameResult,
  DocRef,
  ForkRecord,
  HistoryEntry,
  HistoryPage,
  MergeRecord,
  NamedVersion,
  OpMeta,
  OpSummary,
  PageQuery,
  Submitted,
  VerifyReport,
  VersionCheck,
  VersionDiff,
  VersionedSnapshot,
} from './types';
export type { CreateVersionInput } from './versions';
