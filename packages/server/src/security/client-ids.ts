/**
 * ShareDB client ids (`src`) as secrets of the client that holds them. ShareDB takes a client's id
 * from its handshake and each op's `src` as given, and treats an op whose `(src, seq)` it already
 * committed as a resend: acknowledged, not applied. Every broadcast op and presence message names
 * its sender's id, so a co-editor could claim another client's id and next seq, and that client's
 * next edit would be acknowledged and silently dropped.
 *
 * So ids are `<public>.<secret>`: a random secret, and a public part that is a hash of it. Other
 * clients only ever see the alias `~<public>` (@tandem/protocol's `clientIdAlias`), the same in ops
 * and presence (ShareDB's client matches the two to move a peer's cursor over its own edits). An id
 * whose public part is not the hash of its secret is refused, so knowing an alias gives nothing. A
 * client may resume any id it knows, which is exactly its own: a reconnect or a reloaded offline
 * queue resending an op keeps ShareDB's exactly-once guarantee, for anonymous users too. Ids of
 * another form (ShareDB's own, 32 hex digits) are resumable when long enough, and are aliased by a
 * hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { clientIdAlias } from '@tandem/protocol';

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** Ids the server hands out: 128 secret random bits and the public part that hashes them. */
export function newClientId(): string {
  const secret = randomBytes(16).toString('base64url');
  return `${digest(secret)}.${secret}`;
}

/** Long enough not to be guessed; `~…` (an alias) is never one. */
const RESUMABLE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{21,127}$/;

/**
 * Whether a client may use `id` (resume it in a handshake, or send an op under it): one the server
 * could have handed out, and, in Tandem's form, one whose public part hashes its secret.
 */
export function isResumableClientId(id: string): boolean {
  if (!RESUMABLE.test(id)) return false;
  const dot = id.indexOf('.');
  return dot < 0 || id.slice(0, dot) === digest(id.slice(dot + 1));
}

const hashed = new Map<string, string>();
/** Aliases of ids not in Tandem's form remembered; the map is dropped when full. */
const MAX_HASHED = 4_096;

/** What other clients see instead of `src`. */
export function aliasOf(src: string): string {
  const alias = clientIdAlias(src);
  if (alias !== undefined) return alias;
  let hash = hashed.get(src);
  if (hash === undefined) {
    hash = `~${digest(src)}`;
    if (hashed.size >= MAX_HASHED) hashed.clear();
    hashed.set(src, hash);
  }
  return hash;
}
