/** Builds the ShareDB backend: Tandem's document type, the store, and in-process or Redis pub/sub. */
import { type } from '@tandem/ot';
import { optionalImport } from '@tandem/protocol';
import ShareDB from 'sharedb';
import { submitReplies } from './fanout';
import type { Logger } from './logger';
import { installSubscriptionStreams } from './op-stream';
import type { ResolvedOptions } from './options';
import type { Storage } from './storage';

let registered = false;

/** ShareDB logs through one process-wide logger (console by default); send it to ours. */
function routeShareDbLogs(logger: Logger): void {
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  (ShareDB as unknown as { logger: { setMethods(m: object): void } }).logger.setMethods({
    info: (...args: unknown[]) => logger.debug(text(args)),
    warn: (...args: unknown[]) => logger.warn(text(args)),
    error: (...args: unknown[]) => logger.error(text(args)),
  });
}

/** Redis pub/sub over node-redis: optional peer dependencies, loaded only with `options.redis`. */
async function redisPubSub(redis: NonNullable<ResolvedOptions['redis']>): Promise<ShareDB.PubSub> {
  const feature = 'options.redis (scale-out over Redis)';
  // redis first: sharedb-redis-pubsub requires it, and the error should name what to install.
  await optionalImport('redis', () => import('redis'), feature);
  const { default: RedisPubSub } = await optionalImport(
    'sharedb-redis-pubsub',
    () => import('sharedb-redis-pubsub'),
    feature,
  );
  return new RedisPubSub({ url: redis.url, prefix: redis.prefix }) as never;
}

export async function createBackend(
  storage: Storage,
  redis: ResolvedOptions['redis'],
  logger: Logger,
): Promise<ShareDB> {
  routeShareDbLogs(logger);
  if (!registered) {
    ShareDB.types.register(type as never);
    registered = true;
  }
  const pubsub = redis === undefined ? undefined : await redisPubSub(redis);
  const backend = new ShareDB({
    db: storage.db as never,
    milestoneDb: storage.milestoneDb as never,
    pubsub: pubsub as never,
    presence: true,
    // Presence errors from other clients are theirs, not this client's business.
    doNotForwardSendPresenceErrorsToClient: true,
  });
  installSubscriptionStreams(backend.pubsub);
  // The op list a submit's reply will re-send (fanout.ts skips what the subscription delivered).
  backend.use('afterWrite', (request: { ops?: object }, next: () => void) => {
    if (request.ops !== undefined) submitReplies.add(request.ops);
    next();
  });
  return backend;
}
