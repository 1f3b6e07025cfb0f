/**
 * What a ShareDB agent streams to its socket (doc, presence and query subscriptions), read and cut
 * here: they are the Agent's private maps, so only the fence touches them.
 */

interface Stream {
  destroy(): void;
}

interface QueryEmitterLike {
  collection: string;
  ids: string[];
  onDiff(diff: { type: 'remove'; index: number; howMany: number }[]): void;
}

/** The parts of a ShareDB agent that hold its subscriptions. */
interface SubscribingAgent {
  closed?: boolean;
  subscribedDocs: Record<string, Record<string, Stream> | undefined>;
  subscribedPresences: Record<string, Stream | undefined>;
  subscribedQueries: Record<string, QueryEmitterLike>;
}

const as = (agent: object) => agent as SubscribingAgent;

/** Whether ShareDB closed the agent (its socket went). */
export function agentClosed(agent: object): boolean {
  return as(agent).closed === true;
}

/**
 * Every document the agent streams something of: doc subscriptions, presence channels
 * (`collection.id`) and the current results of its query subscriptions.
 */
export function streamedDocuments(agent: object): [collection: string, id: string][] {
  const a = as(agent);
  const out: [string, string][] = [];
  for (const collection in a.subscribedDocs)
    for (const id in a.subscribedDocs[collection]) out.push([collection, id]);
  for (const channel in a.subscribedPresences) {
    const dot = channel.indexOf('.');
    if (dot > 0) out.push([channel.slice(0, dot), channel.slice(dot + 1)]);
  }
  for (const key in a.subscribedQueries) {
    const emitter = a.subscribedQueries[key];
    for (const id of emitter.ids) out.push([emitter.collection, id]);
  }
  return out;
}

/** Documents with a doc subscription (for counting open documents). */
export function subscribedDocuments(agent: object): [collection: string, id: string][] {
  const docs = as(agent).subscribedDocs;
  const out: [string, string][] = [];
  for (const collection in docs) for (const id in docs[collection]) out.push([collection, id]);
  return out;
}

/** Stop everything that streams `collection/id` to this agent: its ops, its presence, its place in query results. */
export function stopStreaming(agent: object, collection: string, id: string): void {
  const a = as(agent);
  const docs = a.subscribedDocs[collection];
  const stream = docs?.[id];
  if (docs !== undefined && stream !== undefined) {
    delete docs[id];
    stream.destroy();
  }
  // ShareDB's presence channel of a document is `collection.id`.
  const channel = `${collection}.${id}`;
  const presence = a.subscribedPresences[channel];
  if (presence !== undefined) {
    delete a.subscribedPresences[channel];
    presence.destroy();
  }
  for (const key in a.subscribedQueries) {
    const emitter = a.subscribedQueries[key];
    const index = emitter.collection === collection ? emitter.ids.indexOf(id) : -1;
    if (index < 0) continue;
    // Later polls are filtered by the read filter, so it does not come back while unreadable.
    emitter.ids.splice(index, 1);
    emitter.onDiff([{ type: 'remove', index, howMany: 1 }]);
  }
}
