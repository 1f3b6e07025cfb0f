/** Rate limits: options, token buckets (per socket, action, user; shared over Redis), the process-wide fair admission, and one socket's throttle. */
export { Admission, type Flow, type Ticket } from './admission';
export { type Bucket, PENDING, TokenBucket, type UserBucketPool, UserBuckets } from './buckets';
export { rateLimitsExtension } from './extension';
export {
  type ActionBucket,
  type BucketOptions,
  bucketOf,
  type RateLimitOptions,
  type ResolvedRateLimits,
  resolveRateLimits,
} from './options';
export { type RedisCounter, RedisUserBuckets } from './redis-buckets';
export { Throttle, type ThrottleSink } from './throttle';
