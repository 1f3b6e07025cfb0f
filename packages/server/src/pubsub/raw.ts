/**
 * The part of ShareDB's PubSub that Tandem's own channels use (events, live access): publish to
 * channels and subscribe to one as a stream. The one definition of it.
 */
export interface PubSubStream {
  on(event: 'data', listener: (data: unknown) => void): void;
  destroy(): void;
}

export interface RawPubSub {
  publish(channels: string[], data: unknown, callback: (error?: unknown) => void): void;
  subscribe(channel: string, callback: (error: unknown, stream?: PubSubStream) => void): void;
}
