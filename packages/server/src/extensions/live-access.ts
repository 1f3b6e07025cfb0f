/**
 * Access of live sockets after a role change. Requests are authorized when they arrive, but a
 * subscription keeps streaming ops, presence and query results without asking again (asking per op
 * and subscriber would put the host's role lookup on the fan-out path). When roles change, the host
 * calls `refreshAccess`: every server process re-authorizes the matching subscriptions of its
 * sockets and cuts those no longer readable, telling the client FORBIDDEN with the document named.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import type { RawPubSub } from '../pubsub/raw';
import type { ServerAgent } from '../sharedb/agent-custom';
import { agentClosed, stopStreaming, streamedDocuments } from '../sharedb/subscriptions';

/** Which subscriptions to re-check; every field narrows it. @default every live subscription */
export interface AccessScope {
  userId?: string;
  collection?: string;
  id?: string;
}

/** A reserved pub/sub channel (no collection of that name carries ops), like the events channel. */
const CHANNEL = '_tandem_access';

/** A socket's ShareDB agent as far as live access needs it (its subscriptions are the fence's). */
export type LiveAgent = ServerAgent;

/** Resolves when allowed to read, rejects otherwise. */
export type ReadCheck = (agent: LiveAgent, collection: string, id: string) => Promise<void>;

const agentsOf = new WeakMap<object, Set<LiveAgent>>();
const checkOf = new WeakMap<object, ReadCheck>();

/** A socket's agent stream (connection.ts' AgentStream): its connection holds the agent once served. */
interface TrackedStream {
  connection: { agent?: unknown };
  on(event: 'close', listener: (this: TrackedStream) => void): void;
}

/** One shared 'close' listener instead of a closure per socket (idle memory per connection). */
function untrack(this: TrackedStream): void {
  const agent = this.connection.agent as (LiveAgent & { backend: object }) | undefined;
  if (agent !== undefined) agentsOf.get(agent.backend)?.delete(agent);
}

/** Follow one remote agent until its socket closes (the caller set `stream.connection.agent`). */
export function trackAgent(backend: ShareDB, agent: LiveAgent, stream: TrackedStream) {
  let agents = agentsOf.get(backend);
  if (agents === undefined) {
    agents = new Set();
    agentsOf.set(backend, agents);
  }
  agents.add(agent);
  stream.on('close', untrack);
}

function inScope(scope: AccessScope, collection: string, id: string): boolean {
  return (
    (scope.collection === undefined || scope.collection === collection) &&
    (scope.id === undefined || scope.id === id)
  );
}

/** Re-authorize one agent's subscriptions in scope; cut and report the refused ones. */
async function recheck(agent: LiveAgent, check: ReadCheck, scope: AccessScope): Promise<void> {
  const principal = agent.custom.principal;
  if (agentClosed(agent) || principal === undefined) return;
  if (scope.userId !== undefined && principal.id !== scope.userId) return;
  const targets = new Map<string, [string, string]>();
  for (const [collection, id] of streamedDocuments(agent))
    if (inScope(scope, collection, id)) targets.set(`${collection}\u0000${id}`, [collection, id]);
  await Promise.all(
    [...targets.values()].map(([collection, id]) =>
      check(agent, collection, id).catch((error: unknown) => {
        if (agentClosed(agent)) return;
        stopStreaming(agent, collection, id);
        const refused = TandemError.from(error, ErrorCode.FORBIDDEN);
        agent.custom.connection?.reportError(
          new TandemError(refused.code, refused.message, {
            ...refused.details,
            action: 'read',
            collection,
            id,
            reason: 'access-changed',
          }),
        );
      }),
    ),
  );
}

function isScope(data: unknown): data is AccessScope {
  if (typeof data !== 'object' || data === null) return false;
  return ['userId', 'collection', 'id'].every((k) => {
    const v = (data as Record<string, unknown>)[k];
    return v === undefined || typeof v === 'string';
  });
}

/** Listen for refreshes from every process (this one included). */
export function installLiveAccess(
  backend: ShareDB,
  check: ReadCheck,
  onError: (error: unknown) => void,
): void {
  checkOf.set(backend, check);
  const pubsub = backend.pubsub as unknown as RawPubSub;
  pubsub.subscribe(CHANNEL, (error, stream) => {
    if (error || stream === undefined) return onError(error);
    stream.on('data', (data) => {
      if (!isScope(data)) return;
      for (const agent of agentsOf.get(backend) ?? []) recheck(agent, check, data).catch(onError);
    });
  });
}

/**
 * Re-check one socket's subscriptions after its principal changed (an auth refresh whose token
 * grants less than the last one). Resolves when done; refusals are reported to the socket.
 */
export async function recheckAgent(agent: LiveAgent & { backend?: object }): Promise<void> {
  const check = agent.backend === undefined ? undefined : checkOf.get(agent.backend);
  if (check !== undefined) await recheck(agent, check, {});
}

/**
 * Tell every server process that roles changed: live subscriptions in `scope` (one user, one
 * collection, one document, or all) are re-authorized, and those no longer readable stop streaming
 * ops, presence and query results; their clients get FORBIDDEN naming the document
 * (`details.reason: 'access-changed'`). Resolves once published.
 */
export async function refreshAccess(
  tandem: { backend(): Promise<ShareDB> },
  scope: AccessScope = {},
): Promise<void> {
  if (!isScope(scope)) throw new TandemError(ErrorCode.INVALID_MESSAGE, 'invalid access scope');
  const pubsub = (await tandem.backend()).pubsub as unknown as RawPubSub;
  const message = {
    ...(scope.userId === undefined ? {} : { userId: scope.userId }),
    ...(scope.collection === undefined ? {} : { collection: scope.collection }),
    ...(scope.id === undefined ? {} : { id: scope.id }),
  };
  await new Promise<void>((resolve, reject) =>
    pubsub.publish([CHANNEL], message, (error) =>
      error ? reject(TandemError.from(error, ErrorCode.STORAGE_UNAVAILABLE)) : resolve(),
    ),
  );
}
