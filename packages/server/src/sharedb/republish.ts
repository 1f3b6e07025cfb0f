/**
 * A committed op that was never published reaches other subscribers only with its document's next
 * op (ordered delivery fills the gap then): ShareDB publishes after a commit it saw succeed, so a
 * store that committed and then failed to say so (a connection cut during COMMIT), or a process
 * killed between commit and publish, leaves the op unannounced — for good, if it was the last.
 *
 * Its author always resends it (an op held after STORAGE_UNAVAILABLE, or the op in flight after a
 * reconnect), and ShareDB, finding it committed, acknowledges it (ERR_OP_ALREADY_SUBMITTED). It is
 * published then, as stored. Subscribers that have it drop it (pubsub/ordered-delivery.ts counts it as a
 * duplicate); a resent committed op costs one read and one publish.
 */
import type { Logger } from '../logger';

interface ResentRequest {
  index: string;
  collection: string;
  id: string;
  op: { v?: number | null };
  suppressPublish?: boolean;
}

interface RepublishingBackend {
  db: {
    getOps(
      collection: string,
      id: string,
      from: number,
      to: number,
      options: null,
      callback: (error: unknown, ops?: Record<string, unknown>[]) => void,
    ): void;
  };
  pubsub: { publish(channels: string[], data: unknown, callback: (error?: unknown) => void): void };
  getChannels(collection: string, id: string): string[];
  on(event: 'submitRequestEnd', listener: (error: unknown, request: ResentRequest) => void): unknown;
}

export function republishResentOps(backend: RepublishingBackend, logger: Logger): void {
  backend.on('submitRequestEnd', (error, request) => {
    if ((error as { code?: unknown } | undefined)?.code !== 'ERR_OP_ALREADY_SUBMITTED') return;
    // ShareDB set `op.v` to the version the op was committed at when it found it.
    const v = request.op.v;
    if (request.suppressPublish || typeof v !== 'number') return;
    const { collection, id } = request;
    backend.db.getOps(collection, id, v, v + 1, null, (readError, ops) => {
      if (readError || ops?.length !== 1) {
        // Not lost: ordered delivery still fills the gap with the document's next op.
        logger.warn('could not republish a resent committed op', {
          collection,
          id,
          v,
          error: String(readError ?? 'not found'),
        });
        return;
      }
      const op: Record<string, unknown> = { ...ops[0], c: collection, d: id };
      if (request.index !== collection) op.i = request.index;
      backend.pubsub.publish(backend.getChannels(collection, id), op, () => {});
    });
  });
}
