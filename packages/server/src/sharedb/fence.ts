/**
 * The fence. Tandem's server replaces or wraps these ShareDB internals, and only in this folder:
 *
 * - Agent (agent.ts): `_onOp`, `_sendOps`, `_subscribeToStream` (the fan-out fast path), `_isOwnOp`
 *   (an op its client was told failed goes to it), `_reply` (error details), the maps a fresh agent is built with (slimmed); subscriptions.ts reads and cuts
 *   `subscribedDocs`, `subscribedPresences`, `subscribedQueries`.
 * - PubSub (subscription-stream.ts, ordering.ts; pubsub-base.ts, which pubsub/redis.ts extends): `_createStream`,
 *   `_removeStream`, `_emit`, `streams`.
 * - Backend (ordering.ts, agent.ts, republish.ts): `subscribe`, `subscribeBulk`, the
 *   `submitRequestEnd` event (a submit request's `op`, `ops`, `index`, `suppressPublish`) and its
 *   `ops` at `afterWrite`; `db` is replaced by a proxy (security/read-filter.ts).
 * - Node's EventEmitter `_events` (fast-map.ts), for the agent's stream and ws sockets.
 *
 * `assertSupported()` runs when a Tandem is created: the installed sharedb must be a version these
 * patches were tested with, and each thing they replace must be where they expect it; otherwise
 * Tandem refuses to start (INVALID_CONFIG naming what is wrong) rather than degrade silently.
 * Tests that fail loudly if a patch stops applying: test/conformance/agent-patches.cjs (ShareDB's
 * own client suites through the patches, and the fast path counted), test/fence.test.ts.
 */
import { createRequire } from 'node:module';
import { ErrorCode, TandemError } from '@tandem/protocol';
import ShareDB from 'sharedb';
import { AGENT_MAPS } from './agent';

/** The sharedb versions the patches are tested with (the workspace's `sharedb: ~5.2.2`). */
export const TESTED_SHAREDB = { from: [5, 2, 2], below: [5, 3, 0] } as const;

const PROBES: Record<string, readonly string[]> = {
  'Agent.prototype': ['_onOp', '_sendOps', '_sendOp', '_reply', '_subscribeToStream', '_isOwnOp', '_src'],
  'PubSub.prototype': ['_createStream', '_removeStream', '_emit', 'subscribe', 'publish'],
  'Backend.prototype': ['subscribe', 'subscribeBulk', 'listen', 'connect', 'use', 'trigger'],
};

/** Fields of an agent the patches read or swap (checked on a live agent: they are set in its constructor). */
const AGENT_FIELDS = [...AGENT_MAPS, 'clientId', 'stream', 'backend'] as const;

function parse(version: string): number[] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return match === null ? undefined : match.slice(1, 4).map(Number);
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function refuse(problem: string): TandemError {
  const range = `>=${TESTED_SHAREDB.from.join('.')} <${TESTED_SHAREDB.below.join('.')}`;
  return new TandemError(
    ErrorCode.INVALID_CONFIG,
    `@tandem/server patches ShareDB internals tested with sharedb ${range}: ${problem}. Install a sharedb in that range.`,
    { option: 'sharedb', reason: problem, tested: range },
  );
}

/** What is wrong with this sharedb for Tandem's patches, or undefined (pure: the tests feed it). */
export function unsupported(
  version: string,
  has: (where: string, name: string) => boolean,
): string | undefined {
  const parsed = parse(version);
  if (parsed === undefined) return `its version ${JSON.stringify(version)} cannot be read`;
  if (compare(parsed, TESTED_SHAREDB.from) < 0 || compare(parsed, TESTED_SHAREDB.below) >= 0)
    return `sharedb ${version} is installed`;
  for (const [where, names] of Object.entries(PROBES))
    for (const name of names) if (!has(where, name)) return `${where}.${name} is missing`;
  for (const name of AGENT_FIELDS) if (!has('agent', name)) return `an agent has no ${name}`;
  return undefined;
}

function installedVersion(): string {
  // Both module formats: `__filename` in the CJS build, `import.meta.url` in the ESM one.
  const require = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
  return (require('sharedb/package.json') as { version: string }).version;
}

let checked = false;

/** Throws INVALID_CONFIG unless the installed sharedb is one the patches are tested with. Once per process. */
export function assertSupported(): void {
  if (checked) return;
  const Agent = (ShareDB as unknown as { Agent: { prototype: object } }).Agent;
  const prototypes: Record<string, object | undefined> = {
    'Agent.prototype': Agent?.prototype,
    'PubSub.prototype': (ShareDB as unknown as { PubSub: { prototype: object } }).PubSub?.prototype,
    'Backend.prototype': (ShareDB as unknown as { prototype: object }).prototype,
  };
  // A throwaway in-memory backend: an agent's fields are only there once it is built.
  const backend = new ShareDB();
  const agent = (backend.connect() as unknown as { agent: object | null }).agent ?? {};
  const problem = unsupported(installedVersion(), (where, name) =>
    where === 'agent'
      ? name in agent
      : typeof (prototypes[where] as Record<string, unknown> | undefined)?.[name] === 'function',
  );
  backend.close();
  if (problem !== undefined) throw refuse(problem);
  checked = true;
}
