/** Rate-limit options: defaults, validation at configuration, and which bucket a message draws from. */
import { ErrorCode, TandemError } from '@tandem/protocol';

export interface BucketOptions {
  /** Tokens added per second (the sustained rate). */
  rate: number;
  /** Bucket size (the burst allowed after a quiet period). */
  burst: number;
}

export interface RateLimitOptions {
  /** Every message of one socket. @default { rate: 500, burst: 1000 } */
  connection?: BucketOptions;
  /** Ops (`a: 'op'`) of one socket; far above typing (~10/s), below a script. @default { rate: 200, burst: 400 } */
  ops?: BucketOptions;
  /** Presence updates of one socket; cursors need ~20/s at most. @default { rate: 60, burst: 120 } */
  presence?: BucketOptions;
  /** History calls of one socket; each may read many ops. @default { rate: 20, burst: 40 } */
  history?: BucketOptions;
  /**
   * Other Tandem calls of one socket: lock requests, extension calls and auth refreshes (each runs the host's
   * `authenticate` or writes the lock store). A UI takes a lock per field focused. @default { rate: 20, burst: 40 }
   */
  calls?: BucketOptions;
  /**
   * Bad messages of one socket (malformed, refused, over a limit): each is answered, and past this
   * budget the socket is closed with RATE_LIMITED (`bucket: 'faults'`) instead. An honest client
   * meets a refusal now and then. @default { rate: 10, burst: 100 }
   */
  faults?: BucketOptions;
  /**
   * Ops of one socket awaiting their answer, over all documents; later ones wait in order. ShareDB
   * clients keep one op in flight per document; a script pipelining hundreds would otherwise queue
   * them all in front of everyone else's. @default 32
   */
  inflightOps?: number;
  /**
   * Ops of one user over all their sockets (every process with `options.redis`, where `rate` is per
   * one-second window and `burst` is not used). @default { rate: 400, burst: 800 }
   */
  user?: BucketOptions;
  /** Messages held for one socket before it counts as abuse and is closed. @default 1000 */
  maxQueued?: number;
  /**
   * Ops of every socket of this process. Past it, waiting ops are admitted lightest user first
   * (max-min fair), delayed and never dropped. Size it below what the server commits without
   * slowing down, and above active users × their typing rate (a user under `rate / active users`
   * waits at most for the next token). @default off
   */
  process?: BucketOptions;
}

export type ResolvedRateLimits = Required<Omit<RateLimitOptions, 'process'>> & { process?: BucketOptions };

const DEFAULTS: ResolvedRateLimits = {
  connection: { rate: 500, burst: 1000 },
  ops: { rate: 200, burst: 400 },
  presence: { rate: 60, burst: 120 },
  history: { rate: 20, burst: 40 },
  calls: { rate: 20, burst: 40 },
  faults: { rate: 10, burst: 100 },
  inflightOps: 32,
  user: { rate: 400, burst: 800 },
  maxQueued: 1000,
};

function invalid(option: string): TandemError {
  return new TandemError(ErrorCode.INVALID_CONFIG, `invalid option rateLimits.${option}`, {
    option: `rateLimits.${option}`,
  });
}

function checkBucket(name: string, value: unknown, fallback: BucketOptions): BucketOptions {
  if (value === undefined) return fallback;
  const b = value as Partial<BucketOptions>;
  if (!(typeof b.rate === 'number' && b.rate > 0 && typeof b.burst === 'number' && b.burst >= 1))
    throw invalid(`${name}: needs rate > 0 and burst >= 1`);
  return { rate: b.rate, burst: b.burst };
}

/** `false` turns rate limiting off (trusted networks, benchmarks of the engine itself). */
export function resolveRateLimits(
  options: RateLimitOptions | false | undefined,
): ResolvedRateLimits | undefined {
  if (options === false) return undefined;
  const o = options ?? {};
  const maxQueued = o.maxQueued ?? DEFAULTS.maxQueued;
  if (typeof maxQueued !== 'number' || !(maxQueued >= 1)) throw invalid('maxQueued: must be >= 1');
  const inflightOps = o.inflightOps ?? DEFAULTS.inflightOps;
  if (!Number.isInteger(inflightOps) || inflightOps < 1)
    throw invalid('inflightOps: must be an integer >= 1');
  return {
    connection: checkBucket('connection', o.connection, DEFAULTS.connection),
    ops: checkBucket('ops', o.ops, DEFAULTS.ops),
    presence: checkBucket('presence', o.presence, DEFAULTS.presence),
    history: checkBucket('history', o.history, DEFAULTS.history),
    calls: checkBucket('calls', o.calls, DEFAULTS.calls),
    faults: checkBucket('faults', o.faults, DEFAULTS.faults),
    inflightOps,
    user: checkBucket('user', o.user, DEFAULTS.user),
    maxQueued,
    process: o.process === undefined ? undefined : checkBucket('process', o.process, o.process),
  };
}

export type ActionBucket = 'ops' | 'presence' | 'history' | 'calls';

/** Which per-action bucket a message draws from (undefined: only the connection's). */
export function bucketOf(message: { a?: unknown; t?: unknown }): ActionBucket | undefined {
  if (message.a === 'op') return 'ops';
  // A presence request makes every other client of the channel send its presence again.
  if (message.a === 'p' || message.a === 'pr') return 'presence';
  if (message.a === 'tandem') {
    if (message.t === 'history') return 'history';
    if (message.t === 'lock' || message.t === 'auth' || message.t === 'call') return 'calls';
  }
  return undefined;
}
