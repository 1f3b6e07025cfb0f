/**
 * Options, their defaults and their validation. Everything invalid is refused at creation with
 * INVALID_CONFIG, never at run time.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import { composeHooks } from './compose-hooks';
import type { Extension } from './extensions/extension';
import {
  type ConflictsOptions,
  checkConflictsOptions,
  checkHistoryOptions,
  type HistoryOptions,
} from './extensions/plugins';
import { type ResolvedWebhooks, resolveWebhooks, type WebhooksOptions } from './extensions/webhooks';
import { HOOK_NAMES, type TandemHooks } from './hooks';
import { type Logger, silentLogger } from './logger';
import type { AuditOptions } from './security/audit';
import { type ResolvedValidation, resolveValidation, type ValidationOptions } from './security/limits';
import { type AllowedOrigins, checkAllowedOrigins } from './security/origin';
import { type RateLimitOptions, type ResolvedRateLimits, resolveRateLimits } from './security/rate-limit';
import { resolveSessionsOptions, type SessionsOptions } from './security/sessions';
import type { Storage } from './storage';

export interface RedisOptions {
  /** Redis URL. @default 'redis://127.0.0.1:6379' */
  url?: string;
  /** Channel prefix, so several deployments can share one Redis. @default 'tandem' */
  prefix?: string;
  /**
   * How often this process checks that Redis still has every subscription it relies on (and
   * resubscribes what Redis lost); 0 turns the check off. @default 30_000
   */
  checkIntervalMs?: number;
}

export interface TandemOptions {
  /**
   * Lifecycle hooks (see docs/lifecycle.md); a list registers several handlers per hook (how they
   * compose: compose-hooks.ts). @default {}
   */
  hooks?: TandemHooks | readonly TandemHooks[];
  /**
   * Features of the host's own, on the interface the built-in ones use (extensions/extension.ts):
   * installed after the built-ins, in this order; their hooks run after the host's.
   */
  extensions?: readonly Extension[];
  /**
   * A Storage from @tandem/storage, or a storage URL for `createStorage`.
   * @default 'sqlite:./data/tandem.db' once @tandem/storage is available
   */
  storage?: Storage | string;
  /** Scale-out over Redis pub/sub (node-redis): a URL or options. @default in-process pub/sub */
  redis?: string | RedisOptions;
  /** URL path of the WebSocket endpoint, used by `attach`. @default '/tandem' */
  path?: string;
  /**
   * Largest message accepted and answered with TOO_LARGE (the socket stays open) when exceeded.
   * 1 MiB holds a large paste; anything bigger is almost certainly abuse.
   * @default 1_048_576
   */
  maxMessageBytes?: number;
  /**
   * Hard frame limit enforced by the WebSocket layer before buffering (the socket is closed with
   * 1009): it bounds the memory one frame can take. @default 4 × maxMessageBytes
   */
  maxPayloadBytes?: number;
  /**
   * A socket whose unsent bytes exceed this gets BACKPRESSURE and is closed: memory per slow
   * consumer stays bounded. 4 MiB is several seconds of a busy room at typing rates.
   * @default 4_194_304
   */
  maxBufferedBytes?: number;
  /** Heartbeat interval; a socket silent for two intervals is terminated. @default 15_000 */
  heartbeatMs?: number;
  /** Where diagnostics go. @default a silent logger */
  logger?: Logger;
  /**
   * @tandem/history: authorship on every op, and the history calls clients make (paging, time
   * travel, named versions, diff, blame, revert, undo, fork/merge). `false` turns it off (history
   * calls are then answered NOT_FOUND; ops still carry their author in `au`).
   * @default enabled, with @tandem/history's defaults
   */
  history?: HistoryOptions | false;
  /**
   * @tandem/conflicts: classification of concurrent edits, per-path policies and path locks. Its
   * records go to the `onConflict` hook and, as reports, to the authors involved.
   * @default every path `merge` (conflicts are still classified and reported); locks 30 s, at most
   * 2 min, 10 per user and 100 per document; a document's owners (never locked out) are those the
   * `authorize` hook allows `admin` on it
   */
  conflicts?: ConflictsOptions;
  /**
   * Browser origins allowed to open the socket (checked by `attach` at the upgrade; refused with
   * HTTP 403 FORBIDDEN). A list of exact origins (`'*'` allows all) or a function. Requests without
   * an Origin header (non-browser clients) are not checked. Secure by default against cross-site
   * WebSocket hijacking.
   * @default same origin only: the Origin's host must equal the Host header
   */
  allowedOrigins?: AllowedOrigins;
  /**
   * Sessions (`tandem.sessions`): records for principals carrying a `sessionId` (`tokenAuth` sets it
   * from the token's `sid`), with a lifetime and revocation across processes.
   * @default { ttlMs: 86_400_000 (24 h), sliding: false }
   */
  sessions?: SessionsOptions;
  /**
   * Token buckets per socket, per action and per user; over a limit messages are held in order
   * (never dropped) and the sender gets RATE_LIMITED with `retryAfterMs`; a socket whose hold queue
   * overflows is closed. `false` turns limiting off.
   * @default see RateLimitOptions: connection 500/s, ops 200/s, presence 60/s, history 20/s, user 400/s
   */
  rateLimits?: RateLimitOptions | false;
  /**
   * What clients may write: op and document size, nesting depth, string length (lone surrogates are
   * always refused), allowed collections, a JSON Schema per collection.
   * @default op 1 MiB, document 16 MiB, depth 64, strings 1 Mi units, every collection, no schemas
   */
  validation?: ValidationOptions;
  /**
   * Security events (auth failures, refused origins, forbidden, rate limited, violations, invalid
   * input, ended and revoked sessions): always counted (`metrics().security`); also written to a
   * pino `logger` and handed to a `sink` when given. @default counted only
   */
  audit?: AuditOptions;
  /**
   * Signed webhooks (HMAC-SHA256, Stripe-style `Tandem-Signature`) for commits, named versions,
   * conflicts and revocations, retried with backoff from a bounded in-memory queue; receivers check
   * them with `verifyWebhook`. @default none
   */
  webhooks?: WebhooksOptions;
}

export interface ResolvedOptions {
  /** The host's and the extensions' hooks, composed. */
  hooks: TandemHooks;
  extensions: readonly Extension[];
  storage: Storage | string | undefined;
  redis: Required<RedisOptions> | undefined;
  path: string;
  maxMessageBytes: number;
  maxPayloadBytes: number;
  maxBufferedBytes: number;
  heartbeatMs: number;
  logger: Logger;
  history: HistoryOptions | false;
  conflicts: ConflictsOptions;
  allowedOrigins: AllowedOrigins | undefined;
  sessions: Required<SessionsOptions>;
  rateLimits: ResolvedRateLimits | undefined;
  validation: ResolvedValidation;
  audit: AuditOptions;
  webhooks: ResolvedWebhooks | undefined;
}

const OPTION_NAMES = new Set<string>([
  'hooks',
  'extensions',
  'storage',
  'redis',
  'path',
  'maxMessageBytes',
  'maxPayloadBytes',
  'maxBufferedBytes',
  'heartbeatMs',
  'logger',
  'history',
  'conflicts',
  'allowedOrigins',
  'sessions',
  'rateLimits',
  'validation',
  'audit',
  'webhooks',
]);

function invalid(option: string, reason: string): TandemError {
  return new TandemError(ErrorCode.INVALID_CONFIG, `invalid option ${option}: ${reason}`, { option, reason });
}

function positive(options: TandemOptions, name: keyof TandemOptions, fallback: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw invalid(name, 'must be a positive number');
  return value;
}

function checkHooks(hooks: unknown, option = 'hooks'): TandemHooks {
  if (hooks === undefined) return {};
  if (typeof hooks !== 'object' || hooks === null) throw invalid(option, 'must be an object');
  const known = new Set<string>(HOOK_NAMES);
  for (const [name, fn] of Object.entries(hooks)) {
    if (!known.has(name)) throw invalid(option, `unknown hook '${name}' (known: ${HOOK_NAMES.join(', ')})`);
    if (fn !== undefined && typeof fn !== 'function')
      throw invalid(option, `hook '${name}' must be a function`);
  }
  return hooks as TandemHooks;
}

const EXTENSION_NAME = /^[a-z][a-z0-9-]{0,63}$/;

function checkExtensions(extensions: unknown): readonly Extension[] {
  if (extensions === undefined) return [];
  if (!Array.isArray(extensions)) throw invalid('extensions', 'must be an array');
  const names = new Set<string>();
  for (const [i, extension] of extensions.entries()) {
    const name = (extension as Partial<Extension> | null)?.name;
    if (typeof name !== 'string' || !EXTENSION_NAME.test(name))
      throw invalid(`extensions[${i}].name`, 'must match /^[a-z][a-z0-9-]{0,63}$/');
    if (names.has(name)) throw invalid(`extensions[${i}].name`, `'${name}' is used twice`);
    names.add(name);
    checkHooks((extension as Extension).hooks, `extensions[${i}].hooks`);
  }
  return extensions as readonly Extension[];
}

function resolveHooks(hooks: TandemOptions['hooks'], extensions: readonly Extension[]): TandemHooks {
  const host = Array.isArray(hooks) ? hooks : [hooks];
  return composeHooks([
    ...host.map((h, i) => checkHooks(h, Array.isArray(hooks) ? `hooks[${i}]` : 'hooks')),
    ...extensions.map((e) => e.hooks ?? {}),
  ]);
}

function resolveRedis(redis: TandemOptions['redis']): ResolvedOptions['redis'] {
  if (redis === undefined) return undefined;
  const given = typeof redis === 'string' ? { url: redis } : redis;
  if (typeof given !== 'object' || given === null) throw invalid('redis', 'must be a URL or { url, prefix }');
  const checkIntervalMs = given.checkIntervalMs ?? 30_000;
  if (typeof checkIntervalMs !== 'number' || !(checkIntervalMs >= 0))
    throw invalid('redis', 'checkIntervalMs must be >= 0');
  return { url: given.url ?? 'redis://127.0.0.1:6379', prefix: given.prefix ?? 'tandem', checkIntervalMs };
}

export function resolveOptions(options: TandemOptions = {}): ResolvedOptions {
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) throw invalid(name, 'unknown option');
  }
  const path = options.path ?? '/tandem';
  if (typeof path !== 'string' || !path.startsWith('/')) throw invalid('path', "must start with '/'");
  const maxMessageBytes = positive(options, 'maxMessageBytes', 1_048_576);
  const maxPayloadBytes = positive(options, 'maxPayloadBytes', 4 * maxMessageBytes);
  if (maxPayloadBytes < maxMessageBytes) throw invalid('maxPayloadBytes', 'must be at least maxMessageBytes');
  const extensions = checkExtensions(options.extensions);
  return {
    hooks: resolveHooks(options.hooks, extensions),
    extensions,
    storage: options.storage,
    redis: resolveRedis(options.redis),
    path,
    maxMessageBytes,
    maxPayloadBytes,
    maxBufferedBytes: positive(options, 'maxBufferedBytes', 4_194_304),
    heartbeatMs: positive(options, 'heartbeatMs', 15_000),
    logger: options.logger ?? silentLogger,
    history: checkHistoryOptions(options.history),
    conflicts: checkConflictsOptions(options.conflicts),
    allowedOrigins: checkAllowedOrigins(options.allowedOrigins),
    sessions: resolveSessionsOptions(options.sessions),
    rateLimits: resolveRateLimits(options.rateLimits),
    validation: resolveValidation(options.validation),
    audit: options.audit ?? {},
    webhooks: resolveWebhooks(options.webhooks),
  };
}
