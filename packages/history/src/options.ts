/** installHistory's options, each with its default and the reason for it. */
import { isReservedCollection } from '@tandem/conflicts';
import { clockOption, invalidOption, knownKeys, plainObject, positiveIntegers } from '@tandem/protocol';

export interface HistoryOptions {
  /**
   * Save a milestone snapshot every this many versions, so time travel replays at most this many
   * ops. Overrides the milestone DB's own interval (set per commit through ShareDB's
   * `saveMilestoneSnapshot` flag). Smaller is faster to read and costs one stored snapshot each.
   * @default 100
   */
  milestoneInterval?: number;
  /**
   * Longest message or intent kept from a client, in characters; longer ones are cut. A bound on
   * what any client can make the server store with every op.
   * @default 500
   */
  maxMessageLength?: number;
  /**
   * Largest page `page()` returns, whatever the caller asks.
   * @default 500
   */
  maxPageSize?: number;
  /**
   * Collection of the named-version records (one document per versioned document).
   * @default '_tandem_versions'
   */
  versionsCollection?: string;
  /**
   * Collection of the fork lineage records (one document per fork).
   * @default '_tandem_forks'
   */
  forksCollection?: string;
  /**
   * Ops read from the database per batch while replaying or scanning; bounds memory on long
   * histories.
   * @default 5000
   */
  readBatch?: number;
  /** Clock for named versions and forks (tests). @default Date.now */
  now?: () => number;
  /**
   * Called with each server-side ShareDB agent that writes history's records (reserved
   * collections), before it submits. A reserved-collection guard, such as @tandem/conflicts' (which
   * refuses every agent it did not create), must trust these agents; they also carry
   * `agent.custom.tandemInternal = true`. Agents acting for a user (revert, undo, merge, fork
   * creation) are never passed here: they go through the normal authorization.
   * @default none
   */
  trustAgent?: (agent: object) => void;
}

export type ResolvedHistoryOptions = Required<HistoryOptions>;

const OPTION_NAMES = new Set([
  'milestoneInterval',
  'maxMessageLength',
  'maxPageSize',
  'versionsCollection',
  'forksCollection',
  'readBatch',
  'now',
  'trustAgent',
]);
const COLLECTIONS = ['versionsCollection', 'forksCollection'] as const;

/**
 * INVALID_CONFIG (naming `<prefix>.<key>`) unless `value` is a valid HistoryOptions: known keys,
 * positive integer counts, a clock function, record collections that are reserved (anywhere else
 * clients could forge history).
 */
export function checkHistoryOptions(value: unknown, prefix = 'history'): HistoryOptions {
  if (value === undefined) return {};
  const options = plainObject(prefix, value);
  knownKeys(prefix, options, OPTION_NAMES);
  positiveIntegers(prefix, options, ['milestoneInterval', 'maxMessageLength', 'maxPageSize', 'readBatch']);
  clockOption(prefix, options);
  if (options.trustAgent !== undefined && typeof options.trustAgent !== 'function')
    throw invalidOption(`${prefix}.trustAgent`, 'must be a function');
  for (const key of COLLECTIONS) {
    const name = options[key];
    if (name !== undefined && (typeof name !== 'string' || !isReservedCollection(name)))
      throw invalidOption(`${prefix}.${key}`, "must be a collection name starting with '_tandem_'");
  }
  return options as HistoryOptions;
}

export function resolveOptions(given: HistoryOptions = {}): ResolvedHistoryOptions {
  const options = checkHistoryOptions(given);
  return {
    milestoneInterval: options.milestoneInterval ?? 100,
    maxMessageLength: options.maxMessageLength ?? 500,
    maxPageSize: options.maxPageSize ?? 500,
    versionsCollection: options.versionsCollection ?? '_tandem_versions',
    forksCollection: options.forksCollection ?? '_tandem_forks',
    readBatch: options.readBatch ?? 5000,
    now: options.now ?? Date.now,
    trustAgent: options.trustAgent ?? (() => {}),
  };
}
