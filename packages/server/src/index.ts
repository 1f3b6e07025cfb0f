export type {
  Caller,
  CallHandler,
  ClientMessage,
  Extension,
  ExtensionBackend,
  ExtensionConnection,
  ExtensionContext,
  MessageGate,
} from './extensions/extension';
export type { AccessScope } from './extensions/live-access';
export { refreshAccess } from './extensions/live-access';
export type {
  CommitEventData,
  WebhookCounts,
  WebhookEndpoint,
  WebhookEvent,
  WebhookEventType,
  WebhooksOptions,
} from './extensions/webhooks';
export { tryVerifyWebhook, verifyWebhook } from './extensions/webhooks';
export type {
  AccessAction,
  AuthenticatePayload,
  AuthorizePayload,
  CommitPayload,
  ConflictPayload,
  ConnectPayload,
  DisconnectPayload,
  HookName,
  Principal,
  RequestInfo,
  TandemHooks,
  ValidatePayload,
} from './hooks';
export type { AttachedTandem, AttachTarget, ListeningApp, PortTarget } from './http/attach';
export { attach } from './http/attach';
export type { Logger } from './logger';
export type { HistogramSnapshot, MetricsSnapshot } from './metrics';
export type { RedisOptions, ResolvedOptions, TandemOptions } from './options';
export type { AuditLogger, AuditOptions, SecurityEvent, SecurityEventKind } from './security/audit';
export type { ValidationOptions } from './security/limits';
export type { AllowedOrigins } from './security/origin';
export { checkOrigin } from './security/origin';
export type { Path, PathRule, RoleModelOptions } from './security/permissions';
export { ACTION_ROLE, grantedRole, opPaths, roleAuthorize } from './security/permissions';
export type { BucketOptions, RateLimitOptions } from './security/rate-limit';
export type { CollectionSchemas } from './security/schema';
export type {
  RevokeTarget,
  SessionFilter,
  SessionRecord,
  SessionState,
  Sessions,
  SessionsOptions,
} from './security/sessions';
export type {
  DocumentRole,
  IssueParams,
  TokenKey,
  TokenPrincipal,
  TokenRefusal,
  Tokens,
  TokensOptions,
  VerifiedToken,
} from './security/tokens';
export { createTokens, tokenAuth } from './security/tokens';
export type { Storage } from './storage';
export type { ConnectionContext, Readiness, Tandem } from './tandem';
export { createTandem, tokenOf } from './tandem';
export type { SocketListener, TandemSocket } from './transport/socket';
export { fromWs } from './transport/socket';
