/**
 * Decoded frames, generated: any JSON or msgpack value (deep, wide, long strings, odd keys such as
 * `__proto__`, dates, bytes, NaN, bigints where the codec carries them), and valid messages of every
 * action with one field replaced by such a value, sent to a live production-configured server in
 * every codec. Whatever arrives: every answer is a documented code without internals, no socket is
 * closed as an internal error, the process stays up, the honest client keeps converging, and each
 * stored document equals the replay of its op log. `FUZZ_RUNS` runs longer; `FUZZ_SEED` replays.
 */
import { Encoder } from '@msgpack/msgpack';
import type { TandemClient, TandemDoc } from '@tandem/client';
import { isErrorCode } from '@tandem/protocol';
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
  type WireCodec,
} from './fixtures/production';
import { until } from './helpers';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

let prod: Production;
let erin: TandemClient;
let doc: TandemDoc<{ title: string; log: number[] }>;

beforeAll(async () => {
  // Fuzzing sockets must be answered every time: a bigger fault budget than the default's 100.
  prod = await production({ rateLimits: { faults: { rate: 10_000, burst: 10_000 } } });
  erin = await prod.user('erin', { 'notes/*': 'editor' });
  doc = erin.doc('notes', 'fuzzed');
  await doc.create({ title: 'fuzz', log: [] });
  await doc.subscribe();
});

afterAll(async () => {
  await prod.replayMatches('notes', 'fuzzed');
  await prod.close();
});

/** A message of each action that the server would accept from an editor of notes/*. */
const templates: Record<string, unknown>[] = [
  { a: 'hs', id: null, protocol: 1, protocolMinor: 2 },
  { a: 'f', c: 'notes', d: 'fuzzed', v: null },
  { a: 's', c: 'notes', d: 'fuzzed', v: 1 },
  { a: 'u', c: 'notes', d: 'fuzzed' },
  { a: 'bf', c: 'notes', b: ['fuzzed', 'other'] },
  { a: 'bs', c: 'notes', b: { fuzzed: 1 } },
  { a: 'bu', c: 'notes', b: ['fuzzed'] },
  { a: 'qf', id: 1, c: 'notes', q: { title: 'fuzz' }, o: {} },
  { a: 'qs', id: 2, c: 'notes', q: { $sort: { title: 1 }, $limit: 2 }, r: [['fuzzed', 1]] },
  { a: 'qu', id: 2 },
  { a: 'op', c: 'notes', d: 'fuzzed', v: null, seq: 1, op: ['title', { es: [0, 'x'] }] },
  { a: 'op', c: 'notes', d: 'fresh', v: 0, seq: 2, create: { type: 'json1', data: { title: 'n' } } },
  { a: 'nf', id: 3, c: 'notes', d: 'fuzzed', v: 1 },
  { a: 'nt', id: 4, c: 'notes', d: 'fuzzed', ts: 0 },
  { a: 'pp' },
  {
    a: 'p',
    ch: 'notes.fuzzed',
    c: 'notes',
    d: 'fuzzed',
    id: 'p',
    pv: 0,
    v: 1,
    p: { path: ['title'], offset: 0 },
  },
  { a: 'ps', ch: 'notes.fuzzed', seq: 1 },
  { a: 'pr', ch: 'notes.fuzzed' },
  { a: 'tandem', t: 'ping', ts: 1 },
  { a: 'tandem', t: 'history', rid: 5, method: 'page', args: [{ collection: 'notes', id: 'fuzzed' }] },
  { a: 'tandem', t: 'lock', rid: 6, action: 'acquire', collection: 'notes', id: 'fuzzed', path: ['title'] },
];

const keys = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'a',
    'c',
    'd',
    'v',
    'op',
    'src',
    'seq',
    '$sort',
    '',
  ),
  fc.string({ maxLength: 8 }),
);

/** Values both codecs carry (JSON); the msgpack arbitrary adds what only msgpack carries. */
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1e308, -0, 2 ** 53 + 2),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 20 }),
    fc.constantFrom('x'.repeat(70_000), '\ud800', '€'.repeat(1_000)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(keys, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const msgpackOnly = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, new Date(0), new Uint8Array([1, 2, 3])),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);

const deep = fc.integer({ min: 100, max: 1_200 }).map((n) => {
  let v: unknown = 0;
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { k: v };
  return v;
});

function messageOf(codec: WireCodec) {
  const value = codec === 'msgpack' ? fc.oneof(jsonValue, msgpackOnly, deep) : fc.oneof(jsonValue, deep);
  return fc.oneof(
    // A template with one field replaced, or one more field.
    fc
      .tuple(
        fc.constantFrom(...templates),
        fc.oneof(keys, fc.constantFrom('a', 'c', 'd', 'v', 'op', 'b', 'r', 'q', 'p', 'ch', 'id', 't')),
        value,
      )
      .map(([template, key, v]) => ({ ...template, [key]: v })),
    // Anything at all, and batches of it.
    value,
    fc.array(fc.oneof(value, fc.constantFrom(...templates)), { maxLength: 6 }),
  );
}

const encoder = new Encoder({ maxDepth: 100_000, useBigInt64: true });

function frameOf(codec: WireCodec, message: unknown): string | Uint8Array | undefined {
  try {
    if (codec === 'msgpack') return encoder.encode(message);
    // JSON.stringify keeps an own `__proto__` key (fast-check builds them as own properties).
    return JSON.stringify(message);
  } catch {
    return undefined; // the test's own encoder cannot write it: nothing to send
  }
}

/** Wait until the server answered everything sent so far on `socket` (a ping after it). */
async function settled(socket: RawClient, marker: number): Promise<void> {
  const from = socket.messages.length;
  socket.send(socket.codec === 'plain' ? { a: 'pp' } : { a: 'tandem', t: 'ping', ts: marker });
  await socket.next(
    (m) => (socket.codec === 'plain' ? m.a === 'pp' : m.t === 'pong' && m.ts === marker),
    from,
  );
}

describe(`fuzzed frames against a live server (seed ${SEED}, ${RUNS} runs per codec)`, () => {
  it.each(CODECS)(
    '%s: documented codes only, no internal closes, the room keeps converging',
    async (codec) => {
      const token = await prod.token('mallory', { 'notes/*': 'editor' });
      let socket = await rawClient(prod.url, token, codec);
      let internal = 0;
      const watch = (s: RawClient) =>
        s.closed.then((code) => {
          if (code === 1011) internal++;
        });
      watch(socket);
      let sent = 0;
      await fc.assert(
        fc.asyncProperty(messageOf(codec), async (message) => {
          const frame = frameOf(codec, message);
          if (frame === undefined) return;
          if (socket.ws.readyState !== WebSocket.OPEN) {
            // Closed by a limit (a frame over maxPayload is closed by ws itself): carry on with a new one.
            socket = await rawClient(prod.url, token, codec);
            watch(socket);
          }
          socket.sendFrame(frame);
          if (++sent % 25 === 0) await settled(socket, sent);
        }),
        { numRuns: RUNS, seed: SEED },
      );
      if (socket.ws.readyState === WebSocket.OPEN) await settled(socket, -1);
      expect(internal).toBe(0);
      for (const m of socket.messages.filter(isErrorAnswer)) {
        expect(isErrorCode(codeOf(m)), JSON.stringify(m).slice(0, 300)).toBe(true);
        expect(JSON.stringify(m)).not.toMatch(/sqlite|SQLITE|TypeError|RangeError|at \S+ \(|node_modules/);
      }
      socket.close();
      // The honest user still edits, and sees what the store holds.
      await doc.submit(['log', 0, { i: sent }]);
      await until(() => doc.pendingCount === 0, 5_000, 'the honest edit acknowledged');
      const fresh = erin.doc<{ title: string; log: number[] }>('notes', 'fuzzed');
      await fresh.fetch();
      expect(fresh.data).toEqual(doc.data);
    },
  );
});
