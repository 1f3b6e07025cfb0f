/**
 * ShareDB's PubSub base class, fenced (see fence.ts): Tandem's Redis pub/sub extends this instead
 * of reaching into ShareDB's private `_emit`, `_createStream`, `_removeStream` and `streams`.
 */
import ShareDB from 'sharedb';
import type { SubscriptionStream } from './subscription-stream';

type Callback = (error: unknown) => void;

/** The base as a subclass sees it (its published types call these private). */
interface PubSubBase {
  prefix?: string;
  streams: Record<string, Record<string, SubscriptionStream> | undefined>;
  streamsCount: number;
  close(callback?: Callback): void;
  emit(event: string, ...args: unknown[]): boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  _emit(channel: string, data: unknown): void;
  _createStream(channel: string): SubscriptionStream;
}
const PubSub = ShareDB.PubSub as unknown as new (options: { prefix?: string }) => PubSubBase;

export abstract class FencedPubSub extends PubSub {
  /** Hand a message to this process's streams of `channel`. */
  protected deliver(channel: string, data: unknown): void {
    this._emit(channel, data);
  }

  /** A new stream on `channel`, registered with the base (what a subscribe callback gets). */
  protected openStream(channel: string): SubscriptionStream {
    return this._createStream(channel);
  }

  /** Whether this process has a stream on `channel`. */
  protected hasStreams(channel: string): boolean {
    return this.streams[channel] !== undefined;
  }

  /** The last stream of `channel` on this process closed. */
  protected abstract channelEmptied(channel: string): void;

  _removeStream(channel: string, stream: SubscriptionStream): void {
    const map = this.streams[channel];
    if (map === undefined || map[stream.id as number] !== stream) return;
    this.streamsCount--;
    delete map[stream.id as number];
    for (const _ in map) return;
    delete this.streams[channel];
    this.channelEmptied(channel);
  }
}
