/**
 * Rate limits as a built-in extension: it makes the per-user bucket pool (shared over Redis when
 * `options.redis` is set) and the process admission at install, and gives each served socket a
 * throttle as its message gate; the socket's shares are released when the gate stops.
 * The per-socket fault budget (`rateLimits.faults`) is not here: it charges bad frames in the
 * transport, before a socket is served or any gate exists (transport/connection.ts).
 */
import type { ClientMessage, Extension, ExtensionConnection, MessageGate } from '../../extensions/extension';
import { Admission } from './admission';
import { type UserBucketPool, UserBuckets } from './buckets';
import type { ResolvedRateLimits } from './options';
import { type RedisCounter, RedisUserBuckets } from './redis-buckets';
import { Throttle } from './throttle';

/** A throttle as a socket's gate: ops' answers release held ops; stopping releases the user's shares. */
class ThrottleGate extends Throttle implements MessageGate {
  private released = false;

  constructor(
    limits: ResolvedRateLimits,
    connection: ExtensionConnection,
    next: (message: ClientMessage) => void,
    private readonly pool: UserBucketPool,
    private readonly admission: Admission | undefined,
    private readonly userId: string,
  ) {
    super(
      limits,
      {
        deliver: next,
        limited: (error) => connection.report(error),
        violated: (error) => connection.fail(error),
        pause: () => connection.pause(),
        resume: () => connection.resume(),
      },
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
    super.stop();
    if (this.released) return;
    this.released = true;
    this.pool.release(this.userId);
    this.admission?.release(this.userId);
  }
}

/** @param redis the pub/sub's command client once the backend exists (undefined without `options.redis`) */
export function rateLimitsExtension(redis: () => RedisCounter | undefined): Extension {
  let limits: ResolvedRateLimits | undefined;
  let pool: UserBucketPool | undefined;
  /** The process-wide ops budget (`rateLimits.process`), fair across users. */
  let admission: Admission | undefined;
  return {
    name: 'rate-limits',
    install({ options, logger }) {
      limits = options.rateLimits;
      if (limits === undefined) return;
      const commands = options.redis === undefined ? undefined : redis();
      pool =
        options.redis === undefined || commands === undefined
          ? new UserBuckets(limits.user)
          : new RedisUserBuckets(commands, options.redis.prefix, limits.user, (error) =>
              logger.warn('rate limit lease failed; using a local share', { error: String(error) }),
            );
      admission = limits.process === undefined ? undefined : new Admission(limits.process);
    },
    gate(connection, next) {
      if (limits === undefined || pool === undefined) return undefined;
      return new ThrottleGate(limits, connection, next, pool, admission, connection.principal.id);
    },
    close() {
      admission?.stop();
    },
  };
}
