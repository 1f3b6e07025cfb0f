/**
 * @tandem/conflicts and @tandem/history on the server: their options (checked at creation, so a bad
 * config fails with INVALID_CONFIG before any socket is served) and their installation on the
 * backend. The server owns the parts that tie them to itself: conflicts report through the
 * server's `onConflict` and logger, and history's record writers are trusted by conflicts'
 * reserved-collection guard.
 */
import {
  type ConflictRecord,
  type ConflictsHandle,
  type ConflictsOptions as CoreConflictsOptions,
  installConflicts,
  isReservedCollection,
  resolveLockOptions,
  tryCompilePolicies,
} from '@tandem/conflicts';
import {
  type HistoryOptions as CoreHistoryOptions,
  type DocRef,
  type History,
  installHistory,
  type NamedVersion,
} from '@tandem/history';
import { ErrorCode, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import type { TandemHooks } from '../hooks';
import type { Logger } from '../logger';
import { allowsAdmin } from '../security/access';

/** @tandem/history's options; `trustAgent` is the server's to set. */
export type HistoryOptions = Omit<CoreHistoryOptions, 'trustAgent'>;

/**
 * @tandem/conflicts' options; records go to the `onConflict` hook and the server's logger. Unless
 * `locks.isDocumentOwner` is given, a document's owners are the principals the `authorize` hook
 * allows `admin` on it (none without the hook), as for the admin routes.
 */
export type ConflictsOptions = Omit<CoreConflictsOptions, 'onConflict' | 'logger'>;

export interface Plugins {
  conflicts: ConflictsHandle;
  /** Undefined when `options.history` is false. */
  history: History | undefined;
}

const HISTORY_OPTIONS = new Set([
  'milestoneInterval',
  'maxMessageLength',
  'maxPageSize',
  'versionsCollection',
  'forksCollection',
  'readBatch',
  'now',
]);
const HISTORY_COLLECTIONS = ['versionsCollection', 'forksCollection'] as const;
const CONFLICTS_OPTIONS = new Set(['policies', 'locks', 'versionCache', 'now']);

function invalid(option: string, reason: string): TandemError {
  return new TandemError(ErrorCode.INVALID_CONFIG, `invalid option ${option}: ${reason}`, { option, reason });
}

function plainObject(option: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(option, 'must be an object');
  return value as Record<string, unknown>;
}

function knownKeys(option: string, value: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw invalid(`${option}.${key}`, 'unknown option');
  }
}

/** Numbers that count things (sizes, intervals, milliseconds) must be positive integers. */
function positiveIntegers(option: string, value: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of keys) {
    const n = value[key];
    if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1))
      throw invalid(`${option}.${key}`, 'must be a positive integer');
  }
}

function clock(option: string, value: Record<string, unknown>): void {
  if (value.now !== undefined && typeof value.now !== 'function')
    throw invalid(`${option}.now`, 'must be a function');
}

export function checkHistoryOptions(value: unknown): HistoryOptions | false {
  if (value === undefined) return {};
  if (value === false) return false;
  const options = plainObject('history', value);
  knownKeys('history', options, HISTORY_OPTIONS);
  positiveIntegers('history', options, ['milestoneInterval', 'maxMessageLength', 'maxPageSize', 'readBatch']);
  clock('history', options);
  for (const key of HISTORY_COLLECTIONS) {
    const name = options[key];
    // Only reserved collections are closed to clients: anywhere else they could forge history.
    if (name !== undefined && (typeof name !== 'string' || !isReservedCollection(name)))
      throw invalid(`history.${key}`, "must be a collection name starting with '_tandem_'");
  }
  return options as HistoryOptions;
}

export function checkConflictsOptions(value: unknown): ConflictsOptions {
  if (value === undefined) return {};
  const options = plainObject('conflicts', value);
  knownKeys('conflicts', options, CONFLICTS_OPTIONS);
  const policies = tryCompilePolicies(options.policies as never, isReservedCollection);
  if (!policies.ok) throw invalid('conflicts.policies', policies.error.message);
  if (options.locks !== undefined) {
    try {
      resolveLockOptions(plainObject('conflicts.locks', options.locks));
    } catch (error) {
      const details = (error as TandemError).details as { option?: string; reason?: string } | undefined;
      if (details?.option === undefined) throw error;
      throw invalid(`conflicts.${details.option}`, details.reason ?? 'invalid');
    }
  }
  if (options.versionCache !== undefined) {
    const cache = plainObject('conflicts.versionCache', options.versionCache);
    knownKeys('conflicts.versionCache', cache, new Set(['versions', 'documents']));
    positiveIntegers('conflicts.versionCache', cache, ['versions', 'documents']);
  }
  clock('conflicts', options);
  return options as ConflictsOptions;
}

/**
 * Install on a backend that already has the server's middleware, so each ShareDB step runs the
 * server's checks first: validate → conflicts → history stamping (DESIGN.md, "One op's journey").
 */
export function installPlugins(
  backend: ShareDB,
  options: {
    conflicts: ConflictsOptions;
    history: HistoryOptions | false;
    logger: Logger;
    hooks: TandemHooks;
  },
  onConflict: (record: ConflictRecord) => void,
  onVersion: (ref: DocRef, version: NamedVersion) => void = () => {},
): Plugins {
  const locks = {
    isDocumentOwner: (principal: { id: string }, collection: string, id: string) =>
      allowsAdmin(options.hooks, principal, collection, id),
    ...options.conflicts.locks,
  };
  const conflicts = installConflicts(backend, {
    ...options.conflicts,
    locks,
    logger: options.logger,
    onConflict,
  });
  if (options.history === false) return { conflicts, history: undefined };
  const history = installHistory(backend, { ...options.history, trustAgent: conflicts.trustAgent });
  // Every way a named version is made (client calls, admin routes, the host) goes through here.
  const createVersion = history.createVersion;
  history.createVersion = async (ref, actor, input) => {
    const created = await createVersion(ref, actor, input);
    onVersion(ref, created);
    return created;
  };
  return { conflicts, history };
}
