/**
 * The one retry schedule (client reconnects and held ops, webhook deliveries, pub/sub gap reads):
 * the wait before retry number `attempt` (0-based) doubles from `minMs` up to `maxMs`, with full
 * jitter on its upper half. The jitter spreads a thundering herd (a server restart, a store coming
 * back) without ever retrying sooner than half the current step.
 */
export function backoffDelay(
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt));
  return ceiling / 2 + random() * (ceiling / 2);
}
