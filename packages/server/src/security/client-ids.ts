/**
 * ShareDB client ids (`src`) as secrets of the client that holds them. ShareDB takes a client's id
 * from its handshake and each op's `src` as given, and treats an op whose `(src, seq)` it already
 * committed as a resend: acknowledged, not applied. Every broadcast op and presence message names
 * its sender's id, so a co-editor could claim another client's id and next seq, and that client's
 * next edit would be acknowledged and silently dropped.
 *
 * So ids are unguessable (random, not ShareDB's Math.random-based ones) and never shown to anyone
 * but their holder: what other clients receive is an alias, a one-way hash of the id, the same in
 * ops and presence (ShareDB's client matches the two to move a peer's cursor over its own edits).
 * A client may resume any id it knows, which is exactly its own: a reconnect or a reloaded offline
 * queue resending an op keeps ShareDB's exactly-once guarantee, for anonymous users too.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Ids the server hands out: 128 random bits. */
export function newClientId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Ids a client may resume: long enough not to be guessed (ids other servers or ShareDB handed out
 * are 32 hex digits). A short or odd one is dropped from a handshake and refused on an op.
 */
const RESUMABLE = /^[A-Za-z0-9_-]{22,128}$/;

export function isResumableClientId(id: string): boolean {
  return RESUMABLE.test(id);
}

const aliases = new Map<string, string>();
/** Aliases remembered (the ids of a busy room's clients); the map is dropped when full. */
const MAX_ALIASES = 4_096;

/** What other clients see instead of `src`: stable, and not the id itself (it cannot be reversed). */
export function aliasOf(src: string): string {
  let alias = aliases.get(src);
  if (alias === undefined) {
    alias = `~${createHash('sha256').update(src).digest('base64url').slice(0, 22)}`;
    if (aliases.size >= MAX_ALIASES) aliases.clear();
    aliases.set(src, alias);
  }
  return alias;
}
