/** The acting user as history records it. */
import type { Actor, OpAuthor } from './types';

export function authorOfActor(actor: Actor): OpAuthor {
  return { id: actor.id, name: actor.name ?? actor.id };
}
