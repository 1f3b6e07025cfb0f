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
  checkConflictsOptions as checkCoreConflicts,
  installConflicts,
} from '@tandem/conflicts';
import {
  type HistoryOptions as CoreHistoryOptions,
  checkHistoryOptions as checkCoreHistory,
  type DocRef,
  type History,
  installHistory,
  type NamedVersion,
} from '@tandem/history';
import { invalidOption } from '@tandem/protocol';
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

/** `options.history`: false turns it off; the rest is @tandem/history's to check (`trustAgent` is ours). */
export function checkHistoryOptions(value: unknown): HistoryOptions | false {
  if (value === false) return false;
  const options = checkCoreHistory(value);
  if ('trustAgent' in options) throw invalidOption('history.trustAgent', 'is set by the server');
  return options;
}

/** `options.conflicts`: @tandem/conflicts checks it; `onConflict` and `logger` are the server's. */
export function checkConflictsOptions(value: unknown): ConflictsOptions {
  const options = checkCoreConflicts(value);
  for (const key of ['onConflict', 'logger'] as const)
    if (key in options)
      throw invalidOption(
        `conflicts.${key}`,
        `is set by the server (use the ${key === 'logger' ? 'logger option' : 'onConflict hook'})`,
      );
  return options;
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
