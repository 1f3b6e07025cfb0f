/**
 * Tandem's own features, as extensions, and the one order they install in. Most add ShareDB
 * middleware, and ShareDB runs middleware in the order it was added, so this list is also the order
 * every message meets them; the connection hooks (admit, gate, heartbeat) run in this order too.
 * The host's extensions (`options.extensions`) come after.
 */
import type { ConflictRecord } from '@tandem/conflicts';
import type { DocRef, NamedVersion } from '@tandem/history';
import { installTimings, type Metrics } from '../metrics';
import type { HookRunner } from '../run-hook';
import type { Audit } from '../security/audit';
import { installMiddleware } from '../security/middleware';
import { type RedisCounter, type ResolvedRateLimits, rateLimitsExtension } from '../security/rate-limit';
import { type Sessions, sessionsExtension } from '../security/sessions';
import type { Extension } from './extension';
import { installPlugins, type Plugins } from './plugins';
import { installValidation } from './validation';
import { installCommitWebhooks, type Webhooks } from './webhooks';

export interface BuiltInServer {
  metrics: Metrics;
  hooks: HookRunner;
  webhooks: Webhooks | undefined;
  audit: Audit;
  rateLimits: ResolvedRateLimits | undefined;
  /** The Redis pub/sub's command client, once the backend exists (rate limits share buckets on it). */
  redis(): RedisCounter | undefined;
  /** Where @tandem/conflicts' records go (tandem.ts: onConflict, webhooks, the authors' sockets). */
  reportConflict(record: ConflictRecord): void;
}

export interface BuiltIns {
  readonly list: readonly Extension[];
  /** @tandem/conflicts' and @tandem/history's handles, once installed. */
  plugins(): Plugins;
  /** The host's `tandem.sessions`, once installed. */
  sessions(): Sessions;
}

export function builtInExtensions(server: BuiltInServer): BuiltIns {
  let plugins: Plugins | undefined;
  const installed = (): Plugins => {
    if (plugins === undefined) throw new Error('conflicts and history are not installed yet');
    return plugins;
  };
  const sessions = sessionsExtension({
    audit: server.audit,
    trust: (agent) => installed().conflicts.trustAgent(agent),
  });
  const list: Extension[] = [
    // 1. Timings first: its `submit` middleware stamps an op's arrival before any other runs.
    { name: 'metrics', install: ({ backend }) => installTimings(backend as never, server.metrics) },
    // 2. Limits: collection allowlist, sizes, depth and schemas, before any hook sees a message.
    { name: 'validation', install: ({ backend, options }) => installValidation(backend, options.validation) },
    // 3. Access: the principal bound to its agent, `authorize` on every read and write, authorship
    //    stamped, the `validate` hook, `onCommit`.
    { name: 'access', install: ({ backend, logger }) => installMiddleware(backend, server.hooks, logger) },
    // 4. Commit webhooks: only ops that passed everything above and are durable.
    {
      name: 'webhooks',
      install: ({ backend }) => {
        if (server.webhooks !== undefined) installCommitWebhooks(backend, server.webhooks);
      },
    },
    // 5. Conflicts, then history: they see ops already authorized and validated (DESIGN.md,
    //    "One op's journey"); history's writers are trusted by conflicts' reserved-collection guard.
    {
      name: 'conflicts-history',
      install: ({ backend, options }) => {
        plugins = installPlugins(
          backend,
          options,
          server.reportConflict,
          (ref: DocRef, version: NamedVersion) =>
            server.webhooks?.emit('version.created', { collection: ref.collection, id: ref.id, ...version }),
        );
      },
      // Records in flight are stored and reported before pub/sub and the store close.
      close: () => plugins?.conflicts.close(),
    },
    // 6. Sessions (no middleware): refuses ended sessions at the upgrade, admits a socket's session
    //    before it is served and on refresh, expires it on the heartbeat. After conflicts-history:
    //    its records' writer must be one conflicts' reserved-collection guard trusts.
    sessions,
    // 7. Rate limits (no middleware): each served socket's throttle is the first gate its messages
    //    meet (the host's gates come after), so what a flood costs is bounded before any work.
    rateLimitsExtension(server.rateLimits, server.redis),
  ];
  return { list, plugins: installed, sessions: () => sessions.handle() };
}
