/**
 * `@tandem/server/webhooks`: what a webhook receiver needs to verify and read deliveries. It loads
 * neither ShareDB nor Redis nor the rest of the server (test/webhook-entry.test.ts checks).
 */
export type { CommitEventData, WebhookEvent, WebhookEventType } from './extensions/webhooks/events';
export { SIGNATURE_HEADER, tryVerifyWebhook, verifyWebhook } from './extensions/webhooks/signature';
