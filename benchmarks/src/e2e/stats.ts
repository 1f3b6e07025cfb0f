/** Counters shared by every simulated client in the clients process. All times are performance.now() ms. */
export class LoadStats {
  /** Measurement window; ops are counted when their event falls inside it. */
  windowStart = Number.POSITIVE_INFINITY;
  windowEnd = Number.POSITIVE_INFINITY;
  committed = 0;
  delivered = 0;
  /** Deliveries expected for keystrokes sent in the window (sent × receivers). */
  expectedDeliveries = 0;
  /** Deliveries received for keystrokes sent in the window. */
  windowDeliveries = 0;
  bytes = 0;
  frames = 0;
  latencies: number[] = [];
  /** Keystrokes acknowledged by the server since the start (for drain). */
  totalCommitted = 0;
  totalTyped = 0;
  receivers = 0;
  /** Server refusals of submitted keystrokes (each message once per distinct text). */
  errors: string[] = [];

  inWindow(t: number): boolean {
    return t >= this.windowStart && t < this.windowEnd;
  }

  typed(t: number): void {
    this.totalTyped++;
    if (this.inWindow(t)) this.expectedDeliveries += this.receivers;
  }

  commit(count: number, now: number): void {
    this.totalCommitted += count;
    if (this.inWindow(now)) this.committed += count;
  }

  /** One keystroke, typed at `sentAt`, reached another client at `now`. */
  deliver(sentAt: number, now: number): void {
    if (this.inWindow(now)) this.delivered++;
    if (this.inWindow(sentAt)) {
      this.windowDeliveries++;
      this.latencies.push(now - sentAt);
    }
  }

  /**
   * Optional latency breakdown (E2E_BREAKDOWN=1), per delivery inside the window: keystroke → the
   * client library handing the op to its socket, → the frame's arrival at the receiver's socket
   * (network and server), → the receiver's library reporting the op.
   */
  readonly breakdown =
    process.env.E2E_BREAKDOWN === undefined
      ? undefined
      : { send: [] as number[], transit: [] as number[], client: [] as number[] };

  part(typedAt: number, sentAt: number, arrivedAt: number, receivedAt: number): void {
    if (this.breakdown === undefined || !this.inWindow(typedAt)) return;
    this.breakdown.send.push(sentAt - typedAt);
    this.breakdown.transit.push(arrivedAt - sentAt);
    this.breakdown.client.push(receivedAt - arrivedAt);
  }

  frame(bytes: number, now: number): void {
    if (!this.inWindow(now)) return;
    this.frames++;
    this.bytes += bytes;
  }

  /** Viewers (room shape): ops, frames and bytes they received inside the window, counted not decoded. */
  viewerOps = 0;
  viewerFrames = 0;
  viewerBytes = 0;

  /** A viewer received one frame of `bytes` carrying `ops` ops. */
  view(bytes: number, ops: number, now: number): void {
    if (!this.inWindow(now)) return;
    this.viewerFrames++;
    this.viewerBytes += bytes;
    this.viewerOps += ops;
  }
}
