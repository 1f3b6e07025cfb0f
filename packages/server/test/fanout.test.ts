import { createTandem, type TandemSocket } from '@tandem/server';
import { describe, expect, it, vi } from 'vitest';
import { FlushScheduler } from '../src/transport/flush-scheduler';
import { until } from './helpers';

/** A ShareDB message as a Tandem JSON client receives it (frames may batch several). */
type Message = { a: string; v?: number; src?: string; op?: unknown; seq?: number; error?: unknown };

/** An in-memory socket speaking tandem.json.v1 that decodes what the server sends it. */
function memorySocket(onMessage_?: (message: Message) => void) {
  const received: Message[] = [];
  let onMessage: (frame: string | Uint8Array) => void = () => {};
  const socket: TandemSocket = {
    protocol: 'tandem.json.v1',
    bufferedAmount: 0,
    send: (frame) => {
      const decoded = JSON.parse(String(frame)) as Message | Message[];
      for (const message of Array.isArray(decoded) ? decoded : [decoded]) {
        received.push(message);
        onMessage_?.(message);
      }
    },
    close: () => {},
    terminate: () => {},
    listen: (l) => {
      onMessage = (frame) => l.socketMessage(frame);
    },
  };
  return { socket, received, send: (message: object) => onMessage(JSON.stringify(message)) };
}

const ROOM = { c: 'rooms', d: 'burst' };

/** A Tandem on memory:, without limits, and one document of ROOM's collection created in it. */
async function withDoc(id: string, text: string) {
  const tandem = createTandem({ storage: 'memory:', rateLimits: false, heartbeatMs: 60_000 });
  await tandem.ready;
  const backend = await tandem.backend();
  const doc = backend.connect().get(ROOM.c, id);
  await new Promise<void>((resolve, reject) =>
    doc.create({ text }, 'json1', (e) => (e ? reject(e) : resolve())),
  );
  return { tandem, backend, doc };
}

describe('fan-out under a burst of concurrent submits', () => {
  it('acks and ops leave while the burst is still committing, in version order before each ack', async () => {
    const { tandem, backend } = await withDoc(ROOM.d, '.'.repeat(200));

    // Enough sockets that committing the burst takes far longer than one flush interval.
    const count = 150;
    const sockets = Array.from({ length: count }, () => memorySocket());
    for (const s of sockets) {
      tandem.handleConnection(s.socket);
      s.send({ a: 'hs', id: null, protocol: 1, protocolMinor: 1 });
      s.send({ a: 's', ...ROOM });
    }
    await until(() => sockets.every((s) => s.received.some((m) => m.a === 's')), 10_000, 'subscribed');

    // Every socket types one character against version 1, all in the same tick: ShareDB commits them
    // one after another in a single chain of callbacks. Count what left before its last commit.
    // (Distinct positions: inserts at one point would also be classified and stored as conflicts.)
    let committed = 0;
    let sentBeforeLastCommit = -1;
    const opsSent = () => sockets.reduce((n, s) => n + s.received.filter((m) => m.a === 'op').length, 0);
    backend.use('afterWrite', (context: { collection: string }, next: () => void) => {
      if (context.collection === ROOM.c && ++committed === count) sentBeforeLastCommit = opsSent();
      next();
    });
    for (const [i, s] of sockets.entries()) {
      s.send({ a: 'op', ...ROOM, v: 1, seq: 1, op: ['text', { es: [i + 1, 'x'] }] });
    }
    const acked = (s: ReturnType<typeof memorySocket>) =>
      s.received.some((m) => m.a === 'op' && m.seq === 1 && m.op === undefined && m.error === undefined);
    await until(() => sockets.every(acked), 20_000, 'every op acknowledged');

    // Before the fix nothing was written until the whole burst had committed.
    expect(sentBeforeLastCommit).toBeGreaterThan(0);
    for (const s of sockets) {
      // What a ShareDB client does: apply the next version, drop older ones, and at its ack be at the
      // ack's version (a gap or a late op would leave it stuck).
      let version = 1;
      for (const m of s.received) {
        if (m.a !== 'op') continue;
        if (m.op === undefined) {
          expect(m.v).toBe(version);
          break;
        }
        expect(m.v as number).toBeLessThanOrEqual(version);
        if (m.v === version) version++;
      }
    }
    await tandem.close();
  });

  it("writes a submit's ack before the room the op goes to: its author sends nothing more until then", async () => {
    const { tandem, backend } = await withDoc('ack-first', 'abc');
    // The order in which sockets are written, across the room.
    const writes: { socket: number; message: Message }[] = [];
    const sockets = Array.from({ length: 40 }, (_, i) =>
      memorySocket((message) => writes.push({ socket: i, message })),
    );
    for (const s of sockets) {
      tandem.handleConnection(s.socket);
      s.send({ a: 'hs', id: null, protocol: 1, protocolMinor: 1 });
      s.send({ a: 's', c: ROOM.c, d: 'ack-first' });
      await until(() => s.received.some((m) => m.a === 's'), 5_000, 'subscribed');
    }
    // The first and the last socket to join type in the same turn. The first one's op reaches the
    // room, the last one's socket included, in join order, where the last one's ack then waits
    // unless acks go first.
    const [early, late] = [0, sockets.length - 1];
    writes.length = 0;
    sockets[early].send({ a: 'op', c: ROOM.c, d: 'ack-first', v: 1, seq: 1, op: ['text', { es: [1, 'x'] }] });
    sockets[late].send({ a: 'op', c: ROOM.c, d: 'ack-first', v: 1, seq: 1, op: ['text', { es: [2, 'y'] }] });
    const isAck = (w: { message: Message }) => w.message.a === 'op' && w.message.op === undefined;
    await until(() => writes.filter(isAck).length === 2, 5_000, 'both acked');
    await until(
      () => sockets.every((s) => s.received.filter((m) => m.op !== undefined).length >= 1),
      5_000,
      'fanned out',
    );
    // The early op committed first (v1), so the room was queued for it before the late ack.
    expect(writes.find((w) => w.socket === early && isAck(w))?.message.v).toBe(1);
    const ackOfLate = writes.findIndex((w) => w.socket === late && isAck(w));
    const firstToOthers = writes.findIndex((w) => w.socket !== early && w.socket !== late);
    expect(ackOfLate).toBeGreaterThanOrEqual(0);
    expect(ackOfLate).toBeLessThan(firstToOthers);
    // Nothing is written twice: every other socket got each op once.
    for (const [i, s] of sockets.entries()) {
      if (i === early || i === late) continue;
      expect(s.received.filter((m) => m.a === 'op').map((m) => m.v)).toEqual([1, 2]);
    }

    // A refusal is a reply its client waits on too. The late op (from the future: refused) is sent
    // while the early one commits, so that its refusal is queued after the room was.
    writes.length = 0;
    let sent = false;
    backend.use('afterWrite', (context: { op?: { v?: number } }, next: () => void) => {
      if (!sent && context.op?.v === 3) {
        sent = true;
        sockets[late].send({
          a: 'op',
          c: ROOM.c,
          d: 'ack-first',
          v: 99,
          seq: 2,
          op: ['text', { es: [1, 'w'] }],
        });
      }
      next();
    });
    sockets[early].send({ a: 'op', c: ROOM.c, d: 'ack-first', v: 3, seq: 2, op: ['text', { es: [1, 'z'] }] });
    const refused = (w: { socket: number; message: Message }) =>
      w.socket === late && w.message.error !== undefined;
    await until(() => writes.some(refused), 5_000, 'late op refused');
    await until(
      () =>
        writes.filter((w) => w.message.v === 3 && w.message.op !== undefined).length === sockets.length - 1,
      5_000,
      'fanned out',
    );
    expect(writes.findIndex(refused)).toBeLessThan(
      writes.findIndex((w) => w.socket !== early && w.socket !== late),
    );
    await tandem.close();
  });

  it('a submit reply skips the ops the subscription already delivered; a fetch reply does not', async () => {
    const { tandem, doc } = await withDoc('skip', 'abc');
    const s = memorySocket();
    tandem.handleConnection(s.socket);
    s.send({ a: 'hs', id: null, protocol: 1, protocolMinor: 1 });
    s.send({ a: 's', c: ROOM.c, d: 'skip' });
    await until(() => s.received.some((m) => m.a === 's'), 5_000, 'subscribed');
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) =>
        doc.submitOp(['text', { es: [1, 'x'] }], {}, (e) => (e ? reject(e) : resolve())),
      );
    }
    const ops = (v: number) =>
      s.received.filter((m) => m.a === 'op' && m.op !== undefined && m.v === v).length;
    await until(() => ops(3) === 1, 5_000, 'ops 1-3 through the subscription');

    // Typed against version 1: transformed over ops 1-3, which the reply need not carry again.
    s.send({ a: 'op', c: ROOM.c, d: 'skip', v: 1, seq: 1, op: ['text', { es: [2, 'y'] }] });
    await until(
      () => s.received.some((m) => m.a === 'op' && m.seq === 1 && m.op === undefined),
      5_000,
      'ack',
    );
    expect([ops(1), ops(2), ops(3)]).toEqual([1, 1, 1]);
    expect(s.received.find((m) => m.a === 'op' && m.seq === 1 && m.op === undefined)?.v).toBe(4);

    // A client that dropped an op asks for it again: the fetch gets every op from its version on.
    s.send({ a: 'f', c: ROOM.c, d: 'skip', v: 1 });
    await until(() => s.received.some((m) => m.a === 'f'), 5_000, 'fetch reply');
    expect([ops(1), ops(2), ops(3), ops(4)]).toEqual([2, 2, 2, 1]);
    await tandem.close();
  });

  it('an op resent after its ack was lost (already committed) is acked after the ops it was transformed over', async () => {
    const { tandem, doc } = await withDoc('resent', 'abc');
    const submit = (op: unknown) =>
      new Promise<void>((resolve, reject) =>
        doc.submitOp(op as never, {}, (e) => (e ? reject(e) : resolve())),
      );
    await submit(['text', { es: [1, 'x'] }]); // v1, by someone else
    // The first socket's op commits at v2 (over v1); its socket goes before it reads the ack.
    const first = memorySocket();
    tandem.handleConnection(first.socket);
    first.send({ a: 'hs', id: null, protocol: 1, protocolMinor: 1 });
    await until(() => first.received.some((m) => m.a === 'hs'), 5_000, 'handshake');
    // Sent under the id the server handed out, as a client resending after a reconnect does.
    const src = (first.received.find((m) => m.a === 'hs') as { id?: string } | undefined)?.id;
    const op = { a: 'op', c: ROOM.c, d: 'resent', v: 1, src, seq: 1, op: ['text', { es: [2, 'y'] }] };
    first.send(op);
    await until(() => first.received.some((m) => m.a === 'op' && m.seq === 1), 5_000, 'committed');
    await submit(['text', { es: [0, 'z'] }]); // v3: not the resent op's business
    // Reconnected, the client resends it, still at version 1.
    const second = memorySocket();
    tandem.handleConnection(second.socket);
    second.send({ a: 'hs', id: null, protocol: 1, protocolMinor: 1 });
    second.send(op);
    await until(() => second.received.some((m) => m.a === 'op' && m.seq === 1), 5_000, 'ack');
    const replies = second.received
      .filter((m) => m.a === 'op')
      .map((m) => ({ v: m.v, ack: m.op === undefined }));
    expect(replies).toEqual([
      { v: 1, ack: false },
      { v: 2, ack: true },
    ]);
    await tandem.close();
  });
});

describe('FlushScheduler', () => {
  it('never waits while frames are owed: after a slow flush the next runs at the end of the turn, carrying everything queued meanwhile', async () => {
    // Only timers are faked: a flush scheduled with a timer (pacing) would never run here.
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
    try {
      const scheduler = new FlushScheduler();
      const flushes: number[] = [];
      let owed = 0;
      let slow = true;
      const target = {
        flush() {
          flushes.push(owed);
          owed = 0;
          // The first flush stands for thousands of sockets: 20 ms of writes.
          if (slow) {
            slow = false;
            const end = performance.now() + 20;
            while (performance.now() < end);
          }
        },
      };
      // As a connection does: marked once per flush, however many frames it is owed.
      const queue = () => {
        if (owed++ === 0) scheduler.mark(target);
      };
      queue();
      await new Promise((resolve) => setImmediate(resolve));
      expect(flushes).toEqual([1]);
      queue();
      queue();
      await new Promise((resolve) => setImmediate(resolve));
      // One frame carried both, at the next turn: no timer had to fire.
      expect(flushes).toEqual([1, 2]);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
