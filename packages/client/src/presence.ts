/**
 * Document presence: this user's cursor and selections, and everyone else's. The server stamps
 * `user` (id, name, colour) from the authenticated principal and `rtt` from its heartbeat, so what
 * others see cannot be spoofed. Cursors move with concurrent edits (the type's transformPresence).
 * Status is derived from activity: editing (typed in the last few seconds), idle (nothing for a
 * minute), away (page hidden), otherwise online.
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

/** Typing within this window counts as editing. */
const EDITING_MS = 3_000;
/** No activity for this long counts as idle. */
const IDLE_MS = 60_000;

export class DocPresence extends Emitter<PresenceEvents> {
  private readonly local;
  private value: LocalPresence | undefined;
  private status: PresenceStatus = 'online';
  private lastActivity = Date.now();
  private lastEdit = 0;
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
    // Status decays without user input (editing -> online -> idle), so it is re-evaluated on a timer.
    this.timer = setInterval(() => this.refreshStatus(), 1_000);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Everyone else, with their latest cursor. */
  peers(): PeerPresence[] {
    const out: PeerPresence[] = [];
    for (const [presenceId, value] of Object.entries(this.presence.remotePresences)) {
      if (!this.live.has(presenceId)) continue;
      if (value !== null && typeof value === 'object') out.push({ ...(value as PresenceValue), presenceId });
    }
    return out;
  }

  /** Share a new cursor/selection. */
  update(value: LocalPresence): Promise<void> {
    this.value = value;
    this.lastActivity = Date.now();
    return new Promise((resolve, reject) => {
      this.local.submit({ ...value, status: this.status }, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Note a local edit (the doc calls this while the op applies): status becomes `editing`. */
  noteEdit(): void {
    this.lastEdit = this.lastActivity = Date.now();
    // Once the op has applied: ShareDB moves our caret through it after every 'op' listener ran, so
    // a resend from inside the op event would carry the caret from before the edit, labelled as
    // after it (peers would show it one edit behind).
    queueMicrotask(() => this.refreshStatus());
  }

  private currentStatus(now: number): PresenceStatus {
    const doc = (globalThis as { document?: { visibilityState?: string } }).document;
    if (doc?.visibilityState === 'hidden') return 'away';
    if (now - this.lastEdit < EDITING_MS) return 'editing';
    if (now - this.lastActivity > IDLE_MS) return 'idle';
    return 'online';
  }

  private refreshStatus(): void {
    const next = this.currentStatus(Date.now());
    if (next === this.status) return;
    this.status = next;
    if (this.value !== undefined) void this.send().catch(() => {});
  }

  private send(): Promise<void> {
    // ShareDB keeps the submitted value transformed through later edits; prefer it over our copy.
    const value = (this.local.value as LocalPresence | null | undefined) ?? this.value;
    if (value === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.local.submit({ ...value, status: this.status }, (error) => (error ? reject(error) : resolve()));
    });
  }

  destroy(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.presence.destroy();
  }
}
