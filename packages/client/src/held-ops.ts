/**
 * Ops the server could not store are held, not rolled back. A submit answered STORAGE_UNAVAILABLE
 * (the server's database is down or unreachable: a restart, a fail-over, a network cut) would make
 * ShareDB's client roll the op back and drop the user's edit, though the store may be back in a
 * moment. Instead the reply is kept from ShareDB, the op stays in flight (later edits queue behind
 * it, remote ops transform it as usual) and it is sent again after a backoff with the same src/seq,
 * so the server commits it once even if the failed attempt did reach the database. A reconnect
 * meanwhile resends it anyway (ShareDB's own path), and the timer then stands down.
 */
import { backoffDelay, ErrorCode } from '@tandem/protocol';
import type { BackoffOptions } from './socket';

/** The ShareDB client Doc internals a resend uses (`_sendOp` resends the op in flight). */
interface ResendableDoc {
  inflightOp: { seq?: number; src?: string; retries?: number } | null;
  _sendOp(): void;
}

/** An op reply from the server (ShareDB echoes the request, with `error`; Tandem adds details in `ed`). */
export interface OpReply {
  seq?: unknown;
  src?: unknown;
  error?: { code?: unknown; message?: unknown };
  ed?: unknown;
}

export class HeldOps {
  /** Failed attempts of each op held (keyed by ShareDB's op object, gone with it). */
  private readonly attempts = new WeakMap<object, number>();

  constructor(
    private readonly backoff: Required<BackoffOptions>,
    /** Told once per op when it is first held (the error as the server sent it). */
    private readonly onHeld: (reply: OpReply) => void,
  ) {}

  /**
   * Whether `reply` is a storage failure of the op `doc` has in flight, now held: ShareDB must not
   * see it. `doc` is the raw ShareDB doc, undefined when Tandem does not wrap it (then ShareDB
   * handles the reply as usual).
   */
  hold(doc: unknown, reply: OpReply): boolean {
    if (doc === undefined || reply.error?.code !== ErrorCode.STORAGE_UNAVAILABLE) return false;
    const resendable = doc as ResendableDoc;
    const op = resendable.inflightOp;
    if (op === null || op.seq !== reply.seq || (reply.src !== undefined && reply.src !== op.src))
      return false;
    const attempt = this.attempts.get(op) ?? 0;
    this.attempts.set(op, attempt + 1);
    if (attempt === 0) this.onHeld(reply);
    const retryAfterMs = (reply.ed as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    const delay = Math.max(
      backoffDelay(attempt, this.backoff.minDelayMs, this.backoff.maxDelayMs),
      typeof retryAfterMs === 'number' ? retryAfterMs : 0,
    );
    const sent = op.retries;
    setTimeout(() => {
      // Resent already (a reconnect did), acknowledged, or offline now: nothing to do here.
      if (resendable.inflightOp === op && op.retries === sent) resendable._sendOp();
    }, delay);
    return true;
  }
}
