/**
 * Document presence: this user's cursor and selections, and everyone else's. The server stamps
 * `user` (id, name, colour) from the authenticated principal and `rtt` from its heartbeat, so what
 * others see cannot be spoofed. Cursors move with concurrent edits (the type's transformPresence).
 * Status is derived from activity: editing or commenting (typed in the document, or in a comment,
 * in the last few seconds), idle (nothing for a minute), away (page hidden), otherwise online.
 * Typing indicators ride along: `typing` is set from the first keystroke (in the document, or in a
 * thread's comment box) until 5 s after the last one, never stored; a peer's indicator also expires
 * here when its owner went quiet without saying so.
 */
import type { Path } from '@tandem/ot';
import type { PresenceStatus, PresenceValue } from '@tandem/protocol';
import { Emitter } from './emitter';
import type { ShareDbDocPresence } from './sharedb';

/** What the local user shares. Offsets are code points in the string at `path`. */
export interface LocalPresence {
  path: Path;
  offset?: number;
  selections?: { anchor: number; head: number }[];
}

/** Someone else in the document (`id` is their presence id, one per connection). */
export interface PeerPresence extends PresenceValue {
  presenceId: string;
}

type PresenceEvents = { change: (peers: PeerPresence[]) => void };

/** Typing within this window counts as editing (or commenting). */
const EDITING_MS = 3_000;
/** A typing indicator lasts this long after the last keystroke. */
export const TYPING_MS = 5_000;
/** While typing goes on the indicator is sent again this often, so that others can expire it. */
const TYPING_RESEND_MS = 2_000;
/** No activity for this long counts as idle. */
const IDLE_MS = 60_000;

export class DocPresence extends Emitter<PresenceEvents> {
  private readonly local;
  private value: LocalPresence | undefined;
  private status: PresenceStatus = 'online';
  private lastActivity = Date.now();
  private lastEdit = 0;
  private lastComment = 0;
  private typingIn: { threadId?: string } | undefined;
  private typingSentAt = 0;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  /** The indicator started, moved or is due again: the next status refresh sends it. */
  private typingChanged = false;
  /** When each peer's presence last arrived (their typing indicator expires from then). */
  private readonly heard = new Map<string, number>();
  private readonly typingShown = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Peers heard from since this client was last online. While offline we miss the "gone" of anyone
   * who leaves, so everyone is hidden on disconnect and reappears when their presence is resent
   * after the reconnect (ShareDB requests it) — no stale cursors.
   */
  private readonly live = new Set<string>();

  /** @param watchOnline called with a listener for this client's online/offline transitions */
  constructor(
    private readonly presence: ShareDbDocPresence,
    onError: (error: unknown) => void,
    watchOnline?: (listener: (online: boolean) => void) => void,
  ) {
    super();
    this.local = presence.create();
    presence.on('receive', (id) => {
      this.live.add(id);
      this.heard.set(id, Date.now());
      this.emit('change', this.peers());
    });
    watchOnline?.((online) => {
      if (online) return;
      this.live.clear();
      this.emit('change', this.peers());
    });
    presence.on('error', onError);
    presence.subscribe((error) => {
      if (error) onError(error);
    });
    // Status decays without user input (editing -> online -> idle), so it is re-evaluated on a timer,
    // and peers' typing indicators expire when their owner went quiet.
    this.timer = setInterval(() => {
      this.refreshStatus();
      if (this.expireTyping(Date.now())) this.emit('change', this.peers());
    }, 1_000);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Everyone else, with their latest cursor (and what they are typing in). */
  peers(): PeerPresence[] {
    const out: PeerPresence[] = [];
    const now = Date.now();
    for (const [presenceId, value] of Object.entries(this.presence.remotePresences)) {
      if (!this.live.has(presenceId)) continue;
      if (value === null || typeof value !== 'object') continue;
      const peer: PeerPresence = { ...(value as PresenceValue), presenceId };
      if (peer.typing !== undefined && now - (this.heard.get(presenceId) ?? 0) >= TYPING_MS)
        delete peer.typing;
      out.push(peer);
    }
    return out;
  }

  /** Peers whose typing indicator ran out since the last check (`typingShown`: shown at it). */
  private expireTyping(now: number): boolean {
    let expired = false;
    for (const [id, value] of Object.entries(this.presence.remotePresences)) {
      const typing = (value as PresenceValue | null)?.typing !== undefined;
      const shown = typing && now - (this.heard.get(id) ?? 0) < TYPING_MS;
      if (!shown && this.typingShown.delete(id)) expired = true;
      if (shown) this.typingShown.add(id);
    }
    return expired;
  }

  /**
   * This user is typing in a comment of thread `threadId` (`''` or absent: a new thread); call on
   * each keystroke. Others see it until 5 s after the last one. Edits of the document set it too.
   */
  typing(threadId = ''): void {
    this.lastComment = this.lastActivity = Date.now();
    this.keystroke({ threadId });
    queueMicrotask(() => this.refreshStatus());
  }

  /** Share a new cursor/selection. */
  update(value: LocalPresence): Promise<void> {
    this.value = value;
    this.lastActivity = Date.now();
    return this.send(value);
  }

  /** Note a local edit (the doc calls this while the op applies): status becomes `editing`. */
  noteEdit(): void {
    this.lastEdit = this.lastActivity = Date.now();
    this.keystroke({});
    // Once the op has applied: ShareDB moves our caret through it after every 'op' listener ran, so
    // a resend from inside the op event would carry the caret from before the edit, labelled as
    // after it (peers would show it one edit behind).
    queueMicrotask(() => this.refreshStatus());
  }

  private currentStatus(now: number): PresenceStatus {
    const doc = (globalThis as { document?: { visibilityState?: string } }).document;
    if (doc?.visibilityState === 'hidden') return 'away';
    if (now - this.lastEdit < EDITING_MS) return 'editing';
    if (now - this.lastComment < EDITING_MS) return 'commenting';
    if (now - this.lastActivity > IDLE_MS) return 'idle';
    return 'online';
  }

  private refreshStatus(): void {
    const next = this.currentStatus(Date.now());
    if (next === this.status && !this.typingChanged) return;
    this.status = next;
    this.typingChanged = false;
    void this.send().catch(() => {});
  }

  /**
   * A keystroke in the document (`{}`) or a comment: start, move or keep up the typing indicator
   * (sent by the `refreshStatus` that follows, once the op applied).
   */
  private keystroke(where: { threadId?: string }): void {
    const now = Date.now();
    if (
      this.typingIn === undefined ||
      this.typingIn.threadId !== where.threadId ||
      now - this.typingSentAt >= TYPING_RESEND_MS
    ) {
      this.typingChanged = true;
      this.typingSentAt = now;
    }
    this.typingIn = where;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => {
      this.typingIn = undefined;
      void this.send().catch(() => {});
    }, TYPING_MS);
    (this.typingTimer as { unref?: () => void }).unref?.();
  }

  private send(given?: LocalPresence): Promise<void> {
    // ShareDB keeps the submitted value transformed through later edits; prefer it over our copy.
    // Someone typing a comment without a caret in the document is still present: at the root.
    const value =
      given ??
      (this.local.value as LocalPresence | null | undefined) ??
      this.value ??
      (this.typingIn === undefined ? undefined : { path: [] });
    if (value === undefined) return Promise.resolve();
    const { typing: _, ...rest } = value as LocalPresence & { typing?: unknown };
    const next = this.typingIn === undefined ? rest : { ...rest, typing: this.typingIn };
    return new Promise((resolve, reject) => {
      this.local.submit({ ...next, status: this.status }, (error) => (error ? reject(error) : resolve()));
    });
  }

  destroy(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    clearTimeout(this.typingTimer);
    this.presence.destroy();
  }
}
