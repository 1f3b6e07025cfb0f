/**
 * Builds the ShareDB backend: Tandem's document type, the store, in-process or Redis pub/sub
 * (pubsub/redis.ts), and doc subscriptions delivered in version order (pubsub/ordered-delivery.ts).
 */
import { registerTandemType, type TypeRegistry } from '@tandem/ot';
import { optionalImport } from '@tandem/protocol';
import ShareDB from 'sharedb';
import type { Logger } from '../logger';
import type { ResolvedOptions } from '../options';
import { type ChannelOp, OrderedDelivery } from '../pubsub/ordered-delivery';
import { RedisPubSub } from '../pubsub/redis';
import type { Storage } from '../storage';
import { installSubmitReplies } from './agent';
import { orderPubSub, reportSubscribeVersions } from './ordering';
import { republishResentOps } from './republish';
import { installSubscriptionStreams } from './subscription-stream';

/** ShareDB logs through one process-wide logger (console by default); send it to ours. */
function routeShareDbLogs(logger: Logger): void {
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  (ShareDB as unknown as { logger: { setMethods(m: object): void } }).logger.setMethods({
    info: (...args: unknown[]) => logger.debug(text(args)),
    warn: (...args: unknown[]) => logger.warn(text(args)),
    error: (...args: unknown[]) => logger.error(text(args)),
  });
}

export interface Backend {
  sharedb: ShareDB;
  /** Redis pub/sub (`options.redis`): its command connection serves rate-limit leases and readiness. */
  redis: RedisPubSub | undefined;
  delivery: OrderedDelivery;
}

interface OpsReader {
  getOps(
    collection: string,
    id: string,
    from: number,
    to: number | null,
    options: null,
    callback: (error: unknown, ops?: Omit<ChannelOp, 'c' | 'd'>[]) => void,
  ): void;
}

export async function createBackend(
  storage: Storage,
  redis: ResolvedOptions['redis'],
  logger: Logger,
): Promise<Backend> {
  routeShareDbLogs(logger);
  registerTandemType(ShareDB.types as unknown as TypeRegistry);
  const pubsub =
    redis === undefined
      ? undefined
      : new RedisPubSub({
          url: redis.url,
          prefix: redis.prefix,
          checkIntervalMs: redis.checkIntervalMs,
          logger,
          // node-redis is an optional peer dependency, loaded only with `options.redis`.
          createClient: (
            await optionalImport('redis', () => import('redis'), 'options.redis (scale-out over Redis)')
          ).createClient,
        });
  const backend = new ShareDB({
    db: storage.db as never,
    milestoneDb: storage.milestoneDb as never,
    pubsub: pubsub as never,
    presence: true,
    // Presence errors from other clients are theirs, not this client's business.
    doNotForwardSendPresenceErrorsToClient: true,
  });
  installSubscriptionStreams(backend.pubsub);
  // Missing ops are read as ShareDB publishes them: no metadata, collection and id on each.
  const delivery = new OrderedDelivery(
    backend.pubsub as never,
    (collection, id, from, to) =>
      new Promise((resolve, reject) =>
        (backend.db as unknown as OpsReader).getOps(collection, id, from, to, null, (error, ops) =>
          error ? reject(error) : resolve((ops ?? []).map((op) => ({ ...op, c: collection, d: id }))),
        ),
      ),
    logger,
  );
  orderPubSub(backend.pubsub, delivery);
  reportSubscribeVersions(backend as never, delivery);
  if (pubsub !== undefined) pubsub.onResubscribed = (channels) => delivery.catchUp(channels);
  installSubmitReplies(backend as never);
  republishResentOps(backend as never, logger);
  return { sharedb: backend, redis: pubsub, delivery };
}

/** One read from the store behind the backend (a readiness probe: any answer, even "no such doc", is up). */
export function readProbe(backend: ShareDB): Promise<void> {
  const db = backend.db as unknown as {
    getSnapshot(c: string, id: string, f: null, o: null, cb: (e: unknown) => void): void;
  };
  return new Promise<void>((resolve, reject) =>
    db.getSnapshot('_tandem_health', 'probe', null, null, (e) => (e ? reject(e) : resolve())),
  );
}
