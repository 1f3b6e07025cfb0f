/**
 * Rate limits as a built-in extension: it makes the per-user bucket pool (shared over Redis when
 * `options.redis` is set) and the process admission at install, and gives each served socket a
 * throttle as its message gate; the socket's shares are released when the gate stops.
 * The per-socket fault budget (`rateLimits.faults`) is not here: it charges bad frames in the
 * transport, before a socket is served or any gate exists (transport/connection.ts).
 */
import type { TandemError } from '@tandem/protocol';
import type { ClientMessage, Extension, ExtensionConnection, MessageGate } from '../../extensions/extension';
import { Admission } from './admission';
import { type UserBucketPool, UserBuckets } from './buckets';
import type { ResolvedRateLimits } from './options';
import { type RedisCounter, RedisUserBuckets } from './redis-buckets';
import { Throttle, type ThrottleSink } from './throttle';

/** The user bucket pool and the process admission, shared by every socket's gate. */
interface Shares {
  pool: UserBucketPool;
  /** The process-wide ops budget (`rateLimits.process`), fair across users. */
  admission: Admission | undefined;
}

/** The throttle's sink: one object with prototype methods, not five closures per socket (idle sockets are many). */
class GateSink implements ThrottleSink {
  constructor(
    private readonly connection: ExtensionConnection,
    readonly deliver: (message: ClientMessage) => void,
  ) {}
  limited(error: TandemError): void {
    this.connection.report(error);
  }
  violated(error: TandemError): void {
    this.connection.fail(error);
  }
  pause(): void {
    this.connection.pause();
  }
  resume(): void {
    this.connection.resume();
  }
}

/** A throttle as a socket's gate: ops' answers release held ops; stopping releases the user's shares. */
class ThrottleGate extends Throttle implements MessageGate {
  constructor(
    limits: ResolvedRateLimits,
    connection: ExtensionConnection,
    next: (message: ClientMessage) => void,
    private readonly shares: Shares,
    private readonly userId: string,
  ) {
    const { pool, admission } = shares;
    super(
      limits,
      new GateSink(connection, next),
      pool.acquire(userId, Date.now()),
      Date.now(),
      admission && { admission, flow: admission.acquire(userId) },
    );
  }

  answered(message: ClientMessage): void {
    this.replied(message);
  }

  /** On a violation and again when the socket closes: the shares are released once. */
  override stop(): void {
    if (this.stopped) return;
    super.stop();
    this.shares.pool.release(this.userId);
    this.shares.admission?.release(this.userId);
  }
}

/**
 * @param limits `options.rateLimits` (undefined: off, and the extension gates nothing)
 * @param redis the pub/sub's command client once the backend exists (undefined without `options.redis`)
 */
export function rateLimitsExtension(
  limits: ResolvedRateLimits | undefined,
  redis: () => RedisCounter | undefined,
): Extension {
  // Off: no gate at all, so sockets are not even asked for one.
  if (limits === undefined) return { name: 'rate-limits' };
  let shares: Shares | undefined;
  return {
    name: 'rate-limits',
    install({ options, logger }) {
      const commands = options.redis === undefined ? undefined : redis();
      const pool =
        options.redis === undefined || commands === undefined
          ? new UserBuckets(limits.user)
          : new RedisUserBuckets(commands, options.redis.prefix, limits.user, (error) =>
              logger.warn('rate limit lease failed; using a local share', { error: String(error) }),
            );
      shares = { pool, admission: limits.process === undefined ? undefined : new Admission(limits.process) };
    },
    gate(connection, next) {
      if (shares === undefined) return undefined;
      return new ThrottleGate(limits, connection, next, shares, connection.principal.id);
    },
    close() {
      shares?.admission?.stop();
    },
  };
}
