/**
 * Issue #11's families of attack, each over real sockets against a production-configured server
 * (fixtures/production.ts), in every codec. Each family asserts what must hold whatever the
 * payload: the server answers with a documented code, stays up, the honest client beside the
 * attacker keeps converging, nothing forbidden reaches the attacker, and every stored snapshot
 * equals the replay of its op log. Payloads are generated (fast-check) where a family has many.
 */
import { Encoder } from '@msgpack/msgpack';
import type { TandemClient, TandemDoc } from '@tandem/client';
import { ErrorCode, isErrorCode } from '@tandem/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  CODECS,
  codeOf,
  isErrorAnswer,
  type Production,
  production,
  type RawClient,
  rawClient,
} from './fixtures/production';
import { until, upgrade } from './helpers';

/** In every forbidden document: any frame holding it is a leak. */
const SECRET = `TOPSECRET-${Math.random().toString(36).slice(2)}`;

let prod: Production;
let olga: TandemClient; // owner of notes/secret and notes/shared
let erin: TandemClient; // editor of notes/shared: the honest user beside every attack
let shared: TandemDoc<{ title: string; log: number[]; n: number; settings: { public: boolean } }>;
const attackers: RawClient[] = [];
let edits = 0;

/** An attacker: editor of notes/shared, viewer of nothing else. */
async function attacker(codec: (typeof CODECS)[number]): Promise<RawClient> {
  const a = await rawClient(prod.url, await prod.token('mallory', { 'notes/shared': 'editor' }), codec);
  attackers.push(a);
  await a.clientId();
  return a;
}

/** Erin edits and sees her edit acknowledged and on the owner's replica: the room still works. */
async function honestStillConverges(): Promise<void> {
  edits++;
  const olgaDoc = olga.doc<typeof shared.data>('notes', 'shared');
  await shared.submit(['log', shared.data?.log.length ?? 0, { i: edits }]);
  await until(
    () => JSON.stringify(olgaDoc.data) === JSON.stringify(shared.data) && shared.pendingCount === 0,
    5_000,
    'the owner and the editor converged',
  );
}

/** No message the attacker ever received holds a forbidden document's content. */
function noLeak(a: RawClient): void {
  for (const frame of a.raw) expect(frame.includes(SECRET), frame.slice(0, 300)).toBe(false);
}

/** No error message carries database or engine internals. */
function noInternals(a: RawClient): void {
  for (const m of a.messages.filter(isErrorAnswer)) {
    expect(isErrorCode(codeOf(m)), JSON.stringify(m).slice(0, 300)).toBe(true);
    expect(JSON.stringify(m)).not.toMatch(/sqlite|SQLITE|TypeError|RangeError|at \S+ \(|node_modules/);
  }
}

beforeAll(async () => {
  prod = await production();
  olga = await prod.user('olga', { 'notes/secret': 'owner', 'notes/shared': 'owner' });
  erin = await prod.user('erin', { 'notes/shared': 'editor' });
  const secret = olga.doc('notes', 'secret');
  await secret.create({ title: SECRET, pin: SECRET, n: 1 });
  await olga.doc('notes', 'shared').create({ title: 'shared', log: [], n: 0, settings: { public: false } });
  await olga.doc('notes', 'shared').subscribe();
  shared = erin.doc('notes', 'shared');
  await shared.subscribe();
});

afterAll(async () => {
  for (const a of attackers) a.close();
  for (const id of ['secret', 'shared']) await prod.replayMatches('notes', id);
  await prod.close();
});

describe('1. no frame takes the process down', () => {
  const deep = (n: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < n; i++) value = { d: value };
    return value;
  };
  /** Where a deep value can ride in each message ShareDB takes (fields it reads, and extra ones). */
  const carriers: ((value: unknown) => Record<string, unknown>)[] = [
    (v) => ({ a: 'op', c: 'notes', d: 'shared', v: 1, seq: 1, op: ['x', { i: v }] }),
    (v) => ({ a: 'op', c: 'notes', d: 'secret', v: 1, seq: 1, op: ['x', { i: v }] }),
    (v) => ({ a: 'op', c: 'notes', d: 'new', v: 0, seq: 1, create: { type: 'json1', data: v } }),
    (v) => ({ a: 'f', c: 'notes', d: 'secret', extra: v }),
    (v) => ({ a: 's', c: 'notes', d: 'shared', v: null, x: v }),
    (v) => ({ a: 'qf', id: 1, c: 'notes', q: { title: v } }),
    (v) => ({ a: 'qs', id: 2, c: 'notes', q: {}, o: { deep: v } }),
    (v) => ({ a: 'p', ch: 'notes.secret', c: 'notes', d: 'secret', id: 'p1', pv: 0, v: 1, p: v }),
    (v) => ({ a: 'ps', ch: 'notes.secret', seq: 1, extra: v }),
    (v) => ({ a: 'tandem', t: 'history', rid: 1, method: 'page', args: [v] }),
    (v) => ({
      a: 'tandem',
      t: 'lock',
      rid: 2,
      action: 'acquire',
      collection: 'notes',
      id: 'shared',
      path: v,
    }),
    (v) => ({ a: 'tandem', t: 'ping', ts: v }),
  ];

  it('deep messages anywhere, in every codec: a typed error, the socket and the room carry on', async () => {
    const sockets: Record<string, RawClient> = Object.fromEntries(
      await Promise.all(CODECS.map(async (c) => [c, await attacker(c)])),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CODECS),
        fc.integer({ min: 0, max: carriers.length - 1 }),
        // Deeper than this, the test's own encoders (recursive, like most) overflow the stack.
        fc.integer({ min: 140, max: 1_500 }),
        async (codec, carrier, depth) => {
          const a = sockets[codec];
          const from = a.messages.length;
          a.send(carriers[carrier](deep(depth)));
          const answer = await a.next(isErrorAnswer, from, `an answer to depth ${depth}`);
          expect([ErrorCode.TOO_LARGE, ErrorCode.INVALID_MESSAGE]).toContain(codeOf(answer));
        },
      ),
      { numRuns: 60 },
    );
    // 10,000-deep frames, written by hand (no encoder would produce them).
    const plain = sockets.plain;
    const from = plain.messages.length;
    plain.sendFrame(`{"a":"f","c":"notes","d":"shared","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    expect(codeOf(await plain.next(isErrorAnswer, from))).toBe(ErrorCode.TOO_LARGE);
    const msgpack = sockets.msgpack;
    const at = msgpack.messages.length;
    const nested = new Uint8Array(4 * 10_000 + 1);
    for (let i = 0; i < 10_000; i++) nested.set([0x81, 0xa1, 0x64], i * 3); // { d: … }
    nested[3 * 10_000] = 1;
    msgpack.sendFrame(nested.subarray(0, 3 * 10_000 + 1));
    expect([ErrorCode.TOO_LARGE, ErrorCode.INVALID_MESSAGE]).toContain(
      codeOf(await msgpack.next(isErrorAnswer, at)),
    );
    for (const a of Object.values(sockets)) {
      expect(a.ws.readyState).toBe(WebSocket.OPEN);
      noLeak(a);
      noInternals(a);
    }
    await honestStillConverges();
  });

  it('values JSON cannot hold never enter: dates, bytes, extension types, NaN, Infinity, __proto__ keys', async () => {
    const a = await attacker('msgpack');
    const encoder = new Encoder();
    const values: unknown[] = [
      new Date(0),
      new Uint8Array([1, 2]),
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -Infinity,
    ];
    for (const value of values) {
      const from = a.messages.length;
      a.sendFrame(
        encoder.encode({ a: 'op', c: 'notes', d: 'shared', v: null, seq: 1, op: ['bad', { i: value }] }),
      );
      expect(codeOf(await a.next(isErrorAnswer, from))).toBe(ErrorCode.INVALID_MESSAGE);
      const versionFrom = a.messages.length;
      a.sendFrame(encoder.encode({ a: 'f', c: 'notes', d: 'shared', v: value }));
      expect(codeOf(await a.next(isErrorAnswer, versionFrom))).toBe(ErrorCode.INVALID_MESSAGE);
    }
    // An extension type (5) and a msgpack timestamp, by hand.
    for (const frame of [
      Uint8Array.of(0x81, 0xa1, 0x61, 0xd4, 5, 1),
      Uint8Array.of(0x81, 0xa1, 0x61, 0xd6, 0xff, 0, 0, 0, 1),
    ]) {
      const from = a.messages.length;
      a.sendFrame(frame);
      expect(codeOf(await a.next(isErrorAnswer, from))).toBe(ErrorCode.INVALID_MESSAGE);
    }
    // `__proto__` as an own key over JSON (msgpack cannot even decode it, so msgpack clients
    // would never load the document again).
    const json = await attacker('json');
    for (const frame of [
      '{"a":"op","c":"notes","d":"shared","v":null,"seq":1,"op":["p",{"i":{"__proto__":{"x":1}}}]}',
      '{"a":"op","c":"notes","d":"proto","v":0,"seq":1,"create":{"type":"json1","data":{"__proto__":1}}}',
      '{"__proto__":{"a":"f"},"a":"f","c":"notes","d":"shared"}',
    ]) {
      const from = json.messages.length;
      json.sendFrame(frame);
      expect(codeOf(await json.next(isErrorAnswer, from))).toBe(ErrorCode.INVALID_MESSAGE);
    }
    // A number edit past the largest double.
    const big = await attacker('json');
    const id = await big.clientId();
    await shared.submit(['n', { r: true, i: 1e308 }]);
    const from = big.messages.length;
    big.send({ a: 'op', c: 'notes', d: 'shared', v: null, src: id, seq: 1, op: ['n', { ena: 1e308 }] });
    expect(codeOf(await big.next((m) => m.a === 'op' && m.error, from))).toBe(ErrorCode.INVALID_OP);
    await honestStillConverges();
    // A msgpack client can still load the document, and it is what the op log says.
    const reader = await attacker('msgpack');
    const at = reader.messages.length;
    reader.send({ a: 'f', c: 'notes', d: 'shared' });
    const fetched = await reader.next((m) => m.a === 'f' && m.data, at);
    expect(fetched.data.data.n).toBe(1e308);
    await prod.replayMatches('notes', 'shared');
  });

  it('byte limits count bytes: 1,000,000 € (3 MB of UTF-8) is over a 1 MiB limit', async () => {
    const a = await attacker('plain');
    const id = await a.clientId();
    const from = a.messages.length;
    a.send({
      a: 'op',
      c: 'notes',
      d: 'shared',
      v: null,
      src: id,
      seq: 1,
      op: ['e', { i: '€'.repeat(1_000_000) }],
    });
    const answer = await a.next(isErrorAnswer, from);
    // Answered as ShareDB answers an op (so the client rolls it back), the details in `ed`.
    expect(answer).toMatchObject({
      a: 'op',
      c: 'notes',
      d: 'shared',
      seq: 1,
      error: { code: ErrorCode.TOO_LARGE },
    });
    expect(answer.ed).toMatchObject({ what: 'message' });
    expect(answer.ed.actual).toBeGreaterThan(3_000_000);
  });
});

describe('2. every read path is authorized as ShareDB performs it', () => {
  /** Each way to ask ShareDB for a document's content, its ops, its past or its presence. */
  const reads = (c: string, d: string): Record<string, unknown>[] => [
    { a: 'f', c, d },
    { a: 's', c, d },
    { a: 'f', c, d, v: 0 },
    { a: 's', c, d, v: 0 },
    { a: 'bf', c, b: [d] },
    { a: 'bs', c, b: [d] },
    { a: 'bf', c, b: { [d]: 0 } },
    { a: 'bs', c, b: { [d]: 0, shared: 0 } },
    { a: 'qf', id: 7, c, q: { title: 'nothing' }, r: [[d, 0]] },
    { a: 'qs', id: 8, c, q: { title: 'nothing' }, r: [[d, 0]] },
    { a: 'qs', id: 9, c, q: { title: 'nothing' }, r: [[d, null]] },
    { a: 'qs', id: 10, c, q: {}, r: [[d, 0]] },
    { a: 'nf', id: 11, c, d, v: 1 },
    { a: 'nf', id: 12, c, d, v: null },
    { a: 'nt', id: 13, c, d, ts: Date.now() },
    { a: 'ps', ch: `${c}.${d}`, seq: 1 },
    { a: 'pr', ch: `${c}.${d}` },
    { a: 'tandem', t: 'history', rid: 14, method: 'page', args: [{ collection: c, id: d }] },
    { a: 'tandem', t: 'history', rid: 15, method: 'snapshotAt', args: [{ collection: c, id: d }, 1] },
  ];

  it.each(CODECS)(
    'a forbidden document and Tandem’s reserved collections leak nothing (%s)',
    async (codec) => {
      const a = await attacker(codec);
      const targets: [string, string][] = [
        ['notes', 'secret'],
        ['_tandem_sessions', 'x'],
        ['_tandem_versions', 'x'],
        ['_tandem_locks', 'x'],
      ];
      for (const [c, d] of targets) {
        for (const message of reads(c, d)) {
          const from = a.messages.length;
          a.send(message);
          // Every read is answered (with an error, or an empty query result); none carries content.
          await a.next(
            (m) => isErrorAnswer(m) || (m.a === message.a && m.id === message.id),
            from,
            JSON.stringify(message),
          );
        }
      }
      // Presence published to the forbidden document's channel while the attacker listens there.
      const olgaPresence = olga.doc('notes', 'secret');
      await olgaPresence.subscribe();
      await olgaPresence.presence.update({ path: ['title'], offset: 3 });
      await honestStillConverges();
      noLeak(a);
      noInternals(a);
      const refused = a.messages.filter(isErrorAnswer).map(codeOf);
      expect(refused.length).toBeGreaterThan(0);
      for (const code of refused)
        expect([ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND, ErrorCode.INVALID_MESSAGE]).toContain(code);
    },
  );

  it('presence goes only to the channel of the document it was authorized for', async () => {
    const a = await attacker('json');
    const from = a.messages.length;
    a.send({
      a: 'p',
      ch: 'notes.secret',
      c: 'notes',
      d: 'shared',
      id: 'x',
      pv: 0,
      v: 1,
      p: { path: ['title'] },
    });
    expect(await a.next(isErrorAnswer, from)).toMatchObject({ error: { code: ErrorCode.INVALID_MESSAGE } });
    const generic = a.messages.length;
    a.send({ a: 'p', ch: 'anything', id: 'y', pv: 0, p: { path: [] } });
    expect(codeOf(await a.next(isErrorAnswer, generic))).toBe(ErrorCode.INVALID_MESSAGE);
  });
});

describe('7. nobody can stand in for another user’s cursor', () => {
  it('presence ids are namespaced by their sender: another user’s id and a huge version change nothing', async () => {
    const olgaDoc = olga.doc('notes', 'shared');
    const erinDoc = erin.doc('notes', 'shared');
    await erinDoc.presence.update({ path: ['title'], offset: 1 });
    await until(
      () => olgaDoc.presence.peers().some((p) => p.user.id === 'erin' && p.offset === 1),
      5_000,
      'Erin shown',
    );
    const a = await attacker('json');
    a.send({ a: 'ps', ch: 'notes.shared', seq: 1 });
    await a.next((m) => m.a === 'ps');
    // Mallory sees Erin's presence under a namespaced id, and replays it under every id she can think of.
    const seen = await a.next((m) => m.a === 'p' && m.p?.user?.id === 'erin');
    const raw = String(seen.id).slice(String(seen.id).indexOf(':') + 1);
    for (const id of [seen.id, raw]) {
      a.send({
        a: 'p',
        ch: 'notes.shared',
        c: 'notes',
        d: 'shared',
        id,
        pv: 1e15,
        v: seen.v,
        p: { path: ['title'], offset: 4 },
      });
    }
    await until(
      () => olgaDoc.presence.peers().some((p) => p.user.id === 'mallory'),
      5_000,
      'Mallory shown as herself',
    );
    // Erin moves: Olga sees it; Erin's cursor is still Erin's.
    await erinDoc.presence.update({ path: ['title'], offset: 3 });
    await until(
      () => olgaDoc.presence.peers().some((p) => p.user.id === 'erin' && p.offset === 3),
      5_000,
      'Erin moved',
    );
    a.close();
  });
});

describe('3. nobody can claim another client’s id', () => {
  it('others’ ids are never shown (aliases instead), and aliases or short ids cannot be used', async () => {
    const erinDoc = erin.doc<typeof shared.data>('notes', 'shared');
    const a = await attacker('json');
    const own = await a.clientId();
    a.send({ a: 's', c: 'notes', d: 'shared', v: null });
    // Erin edits while Mallory watches: Mallory sees her op, but not her id.
    await honestStillConverges();
    const erinsOp = await a.next((m) => m.a === 'op' && m.op !== undefined && m.src !== own);
    expect(erinsOp.src.startsWith('~')).toBe(true);
    // Claiming the alias, an id built on the alias's public part, or a made-up short id: refused.
    const forged = `${erinsOp.src.slice(1)}.${'f'.repeat(22)}`;
    for (const src of [erinsOp.src, forged, 'erin', 'x'.repeat(21)]) {
      const from = a.messages.length;
      a.send({
        a: 'op',
        c: 'notes',
        d: 'shared',
        v: null,
        src,
        seq: erinsOp.seq + 1,
        op: ['title', { r: true, i: 'owned' }],
      });
      expect(codeOf(await a.next((m) => m.a === 'op' && m.error, from))).toBe(ErrorCode.INVALID_MESSAGE);
    }
    // A handshake naming the alias, or an id built on it, keeps the id the server handed out.
    for (const id of [erinsOp.src, forged]) {
      const from = a.messages.length;
      a.send({ a: 'hs', id, protocol: 1, protocolMinor: 2 });
      const hs = await a.next((m) => m.a === 'hs', from);
      expect(hs.id).not.toBe(id);
      expect(hs.id.startsWith(erinsOp.src.slice(1))).toBe(false);
    }
    // Erin's next edits all apply, and both replicas agree with the store.
    for (let i = 0; i < 3; i++) await honestStillConverges();
    expect(erinDoc.data?.title).toBe('shared');
    await prod.replayMatches('notes', 'shared');
  });

  it('a client resumes its own id after a reconnect: a resent op commits once', async () => {
    const token = await prod.token('anon-like', { 'notes/shared': 'editor' });
    const first = await rawClient(prod.url, token, 'json');
    attackers.push(first);
    const id = await first.clientId();
    // ShareDB recognises a resend while transforming it over what was committed since its version.
    first.send({ a: 'f', c: 'notes', d: 'shared' });
    const v = (await first.next((m) => m.a === 'f' && m.data)).data.v;
    const op = {
      a: 'op',
      c: 'notes',
      d: 'shared',
      v,
      src: id,
      seq: 1,
      op: ['title', { r: true, i: 'once' }],
    };
    first.send(op);
    await first.next((m) => m.a === 'op' && m.seq === 1 && m.src === id);
    first.close();
    const second = await rawClient(prod.url, token, 'json');
    attackers.push(second);
    const from = second.messages.length;
    second.send({ a: 'hs', id, protocol: 1, protocolMinor: 2 });
    expect((await second.next((m) => m.a === 'hs', from)).id).toBe(id);
    // The same op again (its ack was "lost"): acknowledged, not applied twice.
    second.send({ ...op, op: ['title', { r: true, i: 'twice' }] });
    const ack = await second.next((m) => m.a === 'op' && m.seq === 1, from);
    expect(ack.error).toBeUndefined();
    await until(() => shared.data?.title === 'once', 5_000, 'the first op only');
    await shared.submit(['title', { r: true, i: 'shared' }]);
  });
});

describe('refused requests are answered as their sender expects', () => {
  it('a stock or Tandem client whose op is refused before ShareDB rolls it back and carries on', async () => {
    const deepValue = Array.from({ length: 150 }).reduce<unknown>((v) => ({ d: v }), 1);
    await expect(shared.submit(['deep', { i: deepValue }])).rejects.toMatchObject({
      code: ErrorCode.TOO_LARGE,
    });
    await until(() => shared.pendingCount === 0, 5_000, 'rolled back');
    await honestStillConverges();
  });

  it('query options a client sends are not ShareDB’s to read: no database switch, no 1 ms polls', async () => {
    const a = await attacker('plain');
    for (const [i, o] of [
      { db: 'toString' },
      { db: '__proto__' },
      { pollInterval: 1, pollDebounce: 0 },
    ].entries()) {
      const from = a.messages.length;
      a.send({ a: 'qs', id: 100 + i, c: 'notes', q: { title: 'shared' }, o });
      const answer = await a.next((m) => m.a === 'qs' && m.id === 100 + i, from);
      expect(answer.error).toBeUndefined();
    }
    await honestStillConverges();
    a.close();
  });
});

describe('8. no single message costs more than the limiter charges', () => {
  it('bulk requests over 1,000 documents, batch frames over 256 messages: refused at once', async () => {
    const a = await attacker('json');
    const ids = Array.from({ length: 20_000 }, (_, i) => `d${i}`);
    for (const message of [
      { a: 'bs', c: 'notes', b: ids },
      { a: 'bf', c: 'notes', b: Object.fromEntries(ids.map((id) => [id, 0])) },
      { a: 'qs', id: 1, c: 'notes', q: {}, r: ids.map((id) => [id, 0]) },
    ]) {
      const from = a.messages.length;
      a.send(message);
      expect(await a.next(isErrorAnswer, from)).toMatchObject({ error: { code: ErrorCode.TOO_LARGE } });
    }
    for (const batch of [Array(65_535).fill(null), Array(25_000).fill({ a: 'tandem', t: 'ping', ts: 1 })]) {
      const from = a.messages.length;
      a.send(batch);
      expect(await a.next(isErrorAnswer, from)).toMatchObject({
        error: { code: ErrorCode.TOO_LARGE, details: { what: 'batch' } },
      });
    }
    await honestStillConverges();
  });

  it('floods of calls, pings and pipelined ops are held at their rates; the honest user keeps editing', async () => {
    const a = await attacker('json');
    const id = await a.clientId();
    const token = await prod.token('mallory', { 'notes/shared': 'editor' });
    const started = Date.now();
    // 1,000 lock requests, 2,000 auth refreshes, 5,000 pings, 1,200 ops on 1,200 documents.
    for (let i = 0; i < 1_000; i++)
      a.send({
        a: 'tandem',
        t: 'lock',
        rid: i,
        action: 'acquire',
        collection: 'notes',
        id: 'shared',
        path: ['l', i],
      });
    for (let i = 0; i < 2_000; i++) a.send({ a: 'tandem', t: 'auth', rid: 10_000 + i, token });
    for (let i = 0; i < 5_000; i++) a.send({ a: 'tandem', t: 'ping', ts: i });
    for (let i = 0; i < 1_200; i++)
      a.send({
        a: 'op',
        c: 'notes',
        d: `p${i}`,
        v: 0,
        src: id,
        seq: i + 1,
        create: { type: 'json1', data: {} },
      });
    for (let i = 0; i < 5; i++) await honestStillConverges();
    // The flood is held, at the calls bucket's rate (40 at once, then 20/s), and its sender told.
    await a.next((m) => codeOf(m) === ErrorCode.RATE_LIMITED);
    const seconds = (Date.now() - started) / 1_000;
    const answered = a.messages.filter((m) => m.a === 'tandem' && m.t === 'result').length;
    expect(answered).toBeLessThanOrEqual(40 + 20 * seconds + 5);
    a.close();
  });

  it('a socket sending only bad messages is closed once its fault budget is spent', async () => {
    const a = await attacker('json');
    for (let i = 0; i < 300; i++) a.send({ a: 'nope', i });
    expect(await a.closed).toBe(1008);
    expect(a.messages.filter(isErrorAnswer).length).toBeLessThan(300);
    expect(a.messages.at(-1)).toMatchObject({
      error: { code: ErrorCode.RATE_LIMITED, details: { bucket: 'faults' } },
    });
    await honestStillConverges();
  });

  it('presence requests reach each client at most once a second per channel', async () => {
    const a = await attacker('json');
    a.send({ a: 'ps', ch: 'notes.shared', seq: 1 });
    await a.next((m) => m.a === 'ps');
    const asked: number[] = [];
    const listener = await rawClient(
      prod.url,
      await prod.token('lena', { 'notes/shared': 'viewer' }),
      'json',
    );
    attackers.push(listener);
    await listener.clientId();
    listener.send({ a: 'ps', ch: 'notes.shared', seq: 1 });
    await listener.next((m) => m.a === 'ps');
    listener.ws.on('message', () => {
      for (const m of listener.messages.splice(0)) if (m.a === 'pr') asked.push(Date.now());
    });
    for (let i = 0; i < 50; i++) a.send({ a: 'pr', ch: 'notes.shared' });
    await until(() => asked.length >= 2, 5_000, 'the delayed request');
    // 50 requests within a few ms: one delivered now, one at the end of the interval.
    expect(asked.length).toBe(2);
    expect(asked[1] - asked[0]).toBeGreaterThanOrEqual(900);
  });
});

describe('9–13. upgrades, document types, typed codes', () => {
  it('upgrades to any other path are answered 404 at once', async () => {
    const base = prod.url.replace(/\/tandem$/, '');
    for (const path of ['/nope', '/tandem/', '//tandem', '/tandem/x', '/TANDEM']) {
      expect((await upgrade(`${base}${path}`)).status).toBe(404);
    }
  });

  it('documents are json1 only: json0 creates are refused, also after a delete', async () => {
    const a = await attacker('json');
    const id = await a.clientId();
    const from = a.messages.length;
    a.send({
      a: 'op',
      c: 'notes',
      d: 'zero',
      v: 0,
      src: id,
      seq: 1,
      create: { type: 'json0', data: { deep: 1 } },
    });
    expect(codeOf(await a.next((m) => m.a === 'op' && m.error, from))).toBe(ErrorCode.INVALID_OP);
    a.send({
      a: 'op',
      c: 'notes',
      d: 'zero',
      v: 0,
      src: id,
      seq: 2,
      create: { type: 'http://sharejs.org/types/JSONv0', data: {} },
    });
    expect(codeOf(await a.next((m) => m.a === 'op' && m.seq === 2 && m.error, from))).toBe(
      ErrorCode.INVALID_OP,
    );
  });

  it('bad requests get their documented code, never INTERNAL or database text', async () => {
    const a = await attacker('json');
    const cases: [unknown, string][] = [
      [{ a: 'op' }, ErrorCode.INVALID_MESSAGE],
      [{ a: 'op', c: 'notes', d: 'shared', v: -1, seq: 1, op: [] }, ErrorCode.INVALID_MESSAGE],
      [{ a: 'qf', id: 1, c: 'notes', q: { 'a\u0000b': 1 } }, ErrorCode.INVALID_MESSAGE],
      [{ a: 'qf', id: 2, c: 'notes', q: { 'a\\b': 1 } }, ErrorCode.INVALID_MESSAGE],
      [{ a: 'qf', id: 3, c: 'notes', q: { $limit: 1e308 } }, ErrorCode.INVALID_MESSAGE],
      [{ a: 'qf', id: 4, c: 'notes', q: { $skip: 2 ** 63 } }, ErrorCode.INVALID_MESSAGE],
      [
        { a: 'qf', id: 5, c: 'notes', q: { title: { $in: Array.from({ length: 2_000 }, (_, i) => i) } } },
        ErrorCode.TOO_LARGE,
      ],
      [{ a: 'f', c: 'no.tes', d: 'x' }, ErrorCode.NOT_FOUND],
      [
        { a: 'p', ch: 'no.tes.x', c: 'no.tes', d: 'x', id: 'p', pv: 0, v: 0, p: null },
        ErrorCode.INVALID_MESSAGE,
      ],
    ];
    for (const [message, code] of cases) {
      const from = a.messages.length;
      a.send(message);
      expect(codeOf(await a.next(isErrorAnswer, from)), JSON.stringify(message)).toBe(code);
    }
    noInternals(a);
  });
});
