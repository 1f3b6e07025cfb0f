/** Sessions: the stored records (records.ts) and the built-in extension that applies them to sockets. */
export { type SessionsExtension, type SessionsServer, sessionsExtension } from './extension';
export {
  createSessionManager,
  ended,
  type RevokeTarget,
  resolveSessionsOptions,
  type SessionFilter,
  type SessionManager,
  type SessionRecord,
  type SessionState,
  type Sessions,
  type SessionsOptions,
} from './records';
