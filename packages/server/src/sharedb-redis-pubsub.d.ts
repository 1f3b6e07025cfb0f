// sharedb-redis-pubsub ships no types; this is the part Tandem uses.
declare module 'sharedb-redis-pubsub' {
  class RedisPubSub {
    constructor(options: { url?: string; prefix?: string });
    close(callback?: (error?: unknown) => void): void;
  }
  export default RedisPubSub;
}
