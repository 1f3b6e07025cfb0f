/**
 * ShareDB client ids (`src`) as secrets of the client that holds them. ShareDB takes a client's id
 * from its handshake and each op's `src` as given, and treats an op whose `(src, seq)` it already
 * committed as a resend: acknowledged, not applied. Every broadcast op and presence message names
 * its sender's id, so a co-editor could claim another client's id and next seq, and that client's
 * next edit would be acknowledged and silently dropped.
 *
 * So ids are `<public>.<secret>`, both random (not ShareDB's Math.random-based ones), and other
 * clients only ever see the alias `~<public>` (@tandem/protocol's `clientIdAlias`), the same in ops
 * and presence (ShareDB's client matches the two to move a peer's cursor over its own edits). A
 * client may resume any id it knows, which is exactly its own: a reconnect or a reloaded offline
 * queue resending an op keeps ShareDB's exactly-once guarantee, for anonymous users too.
 */
import { createHash, randomBytes } from 'node:crypto';
import { clientIdAlias } from '@tandem/protocol';

/** Ids the server hands out: 128 public and 128 secret random bits. */
export function newClientId(): string {
  return `${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;
}

/**
 * Ids a client may resume: long enough not to be guessed (ids other servers or ShareDB handed out
 * are 32 hex digits). A short or odd one is dropped from a handshake and refused on an op; an alias
 * (`~…`) is never one.
 */
const RESUMABLE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{21,127}$/;

export function isResumableClientId(id: string): boolean {
  return RESUMABLE.test(id);
}

const hashed = new Map<string, string>();
/** Aliases of ids not in Tandem's form remembered; the map is dropped when full. */
const MAX_HASHED = 4_096;

/** What other clients see instead of `src`: its public part, or a one-way hash of an id of another form. */
export function aliasOf(src: string): string {
  const alias = clientIdAlias(src);
  if (alias !== undefined) return alias;
  let hash = hashed.get(src);
  if (hash === undefined) {
    hash = `~${createHash('sha256').update(src).digest('base64url').slice(0, 22)}`;
    if (hashed.size >= MAX_HASHED) hashed.clear();
    hashed.set(src, hash);
  }
  return hash;
}
