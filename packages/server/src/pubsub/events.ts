/**
 * Tandem's cross-process events: conflict reports and extensions' own data (ended sessions, pushes)
 * must reach connections on every server process. They travel on a reserved pub/sub channel of ShareDB's own pub/sub
 * (in-process, or Redis with `options.redis`), so scale-out needs nothing beyond what ops use.
 */
import { type ConflictReport, ErrorCode, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import type { Logger } from '../logger';
import type { RawPubSub } from './raw';

/**
 * ShareDB publishes ops on channels named after collections (`c` and `c.id`). A reserved name no
 * Tandem package writes as a collection can never carry ops.
 */
export const EVENTS_CHANNEL = '_tandem_events';

export type EventsMessage =
  | { t: 'conflict'; report: ConflictReport }
  /** An extension's own data, for its instances on every process (`ExtensionContext.publish`). */
  | { t: 'ext'; ext: string; data: unknown };

function isEventsMessage(data: unknown): data is EventsMessage {
  const m = data as Partial<{ t: unknown; report: unknown }> | null;
  if (m?.t === 'conflict') return typeof m.report === 'object' && m.report !== null;
  if (m?.t === 'ext') return typeof (m as { ext?: unknown }).ext === 'string';
  return false;
}

export interface EventsChannel {
  publish(message: EventsMessage): Promise<void>;
  close(): void;
}

/** Subscribe this process to Tandem's events; `deliver` gets every event, from any process (this one included). */
export function openEventsChannel(
  backend: ShareDB,
  deliver: (message: EventsMessage) => void,
  logger: Logger,
): Promise<EventsChannel> {
  const pubsub = backend.pubsub as unknown as RawPubSub;
  return new Promise((resolve, reject) => {
    pubsub.subscribe(EVENTS_CHANNEL, (error, stream) => {
      if (error || stream === undefined) {
        // Redis refused us (NOAUTH, protected mode's DENIED, …): a typed start-up failure.
        return reject(
          new TandemError(
            ErrorCode.STORAGE_UNAVAILABLE,
            `could not subscribe to Tandem's events channel: ${error instanceof Error ? error.message : String(error)}`,
            { store: 'redis' },
            { cause: error },
          ),
        );
      }
      stream.on('data', (data) => {
        if (isEventsMessage(data)) deliver(data);
      });
      resolve({
        publish: (message) =>
          new Promise<void>((done) => {
            pubsub.publish([EVENTS_CHANNEL], message, (failure) => {
              if (failure) logger.error(`could not publish a ${message.t} event`, { error: String(failure) });
              done();
            });
          }),
        close: () => stream.destroy(),
      });
    });
  });
}
