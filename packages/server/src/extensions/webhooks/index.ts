/** Signed webhooks: event types, options, signing and verifying, delivery, commit events. */
export { installCommitWebhooks } from './commits';
export { Webhooks } from './delivery';
export {
  type CommitEventData,
  WEBHOOK_EVENT_TYPES,
  type WebhookEvent,
  type WebhookEventType,
} from './events';
export {
  type ResolvedWebhooks,
  resolveWebhooks,
  type WebhookCounts,
  type WebhookEndpoint,
  type WebhooksOptions,
} from './options';
export { SIGNATURE_HEADER, tryVerifyWebhook, verifyWebhook } from './signature';
