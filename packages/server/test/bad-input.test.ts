import { createHash } from 'node:crypto';
import { ErrorCode, isErrorCode } from '@tandem/protocol';
import { attach } from '@tandem/server';
import ShareDBClient from 'sharedb/lib/client';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { client, rawSocket, until } from './helpers';

interface Case {
  name: string;
  /** What to send: a raw frame (string) or a message to encode as JSON. */
  frame: string | Record<string, unknown>;
}

const MAX = 4_096;
const deep = (n: number): unknown => (n === 0 ? 1 : { d: deep(n - 1) });

/** The corpus: malformed frames, wrong types, unknown actions, oversize and deep payloads, bad ops, forbidden and unknown documents. */
function corpus(version: number, src: string): Case[] {
  const cases: Case[] = [];
  const malformed = [
    '{',
    '[',
    '}',
    '{"a":}',
    '{a:1}',
    "{'a':'f'}",
    '"\\u"',
    'nul',
    'tru',
    '{"a":"f"',
    '\u0000',
    '[1,',
    '{"a":"op","op":[}',
    '\ud800',
    '{"a":"f",}',
  ];
  for (const text of malformed) cases.push({ name: `malformed ${JSON.stringify(text)}`, frame: text });
  const notObjects = ['null', '1', '"text"', 'true', '[]', '[1,2]', '[null]', '[[]]', '3.5e300', '-0'];
  for (const text of notObjects) cases.push({ name: `not an object ${text}`, frame: text });
  const actions = [
    null,
    1,
    true,
    {},
    [],
    'zz',
    'OP',
    'hs2',
    '',
    'tandemx',
    'x'.repeat(100),
    'constructor',
    '__proto__',
    'toString',
  ];
  for (const a of actions) cases.push({ name: `unknown action ${JSON.stringify(a)}`, frame: { a } });
  cases.push({ name: 'no action', frame: { c: 'notes', d: 'target' } });
  for (const t of [undefined, null, 1, 'bogus', 'hello', 'result', 'conflict', '', 'auth2', 'x'.repeat(50)])
    cases.push({
      name: `tandem message t=${JSON.stringify(t)}`,
      frame: t === undefined ? { a: 'tandem' } : { a: 'tandem', t },
    });
  for (let i = 0; i < 20; i++)
    cases.push({
      name: `oversize frame ${i}`,
      frame: JSON.stringify({ a: 'f', c: 'notes', d: 'x'.repeat(MAX + i * 100) }),
    });
  // Ops on the target document: every one must be refused.
  const ops: [string, unknown][] = [
    ['huge string', ['s', { i: 'x'.repeat(600) }]],
    ['deep insert', ['deep', { i: deep(20) }]],
    ['deep path', ['a', 'b', 'c', 'd', 'e', 'f', 'g', { i: 1 }]],
    ['lone high surrogate', ['s', { i: 'a\ud800b' }]],
    ['lone low surrogate', ['s', { i: '\udc00' }]],
    ['surrogate key', ['s', { i: { '\udbff': 1 } }]],
    ['remove missing', ['missing', { r: true }]],
    ['bad component', ['n', { zz: 1 }]],
    ['string as op', 'not an op'],
    ['number as op', 42],
    ['object as op', { i: 1 }],
    ['nested arrays', [[[[['n']]]]]],
    ['text edit on number', ['n', { es: [0, 'x'] }]],
    ['text edit past end', ['text', { es: [100, 'x'] }]],
    ['insert into number', ['n', 'x', { i: 1 }]],
    ['pick without drop', ['n', { p: 0 }]],
    ['drop without pick', ['m', { d: 0 }]],
    ['replace root too deep', [{ r: true, i: deep(10) }]],
  ];
  let seq = 1;
  for (const [name, op] of ops) {
    for (const v of [version, version + 100, -1]) {
      cases.push({
        name: `op ${name} v=${v}`,
        frame: { a: 'op', c: 'notes', d: 'target', v, src, seq: seq++, op },
      });
    }
  }
  for (let i = 0; i < 10; i++) {
    cases.push({
      name: `forbidden write ${i}`,
      frame: {
        a: 'op',
        c: 'notes',
        d: 'secret',
        v: 1,
        src,
        seq: seq++,
        op: ['n', { r: true, i }],
      },
    });
    cases.push({ name: `forbidden read ${i}`, frame: { a: 'f', c: 'notes', d: 'secret' } });
    cases.push({ name: `forbidden subscribe ${i}`, frame: { a: 's', c: 'notes', d: 'secret' } });
    // Asking for ops from a version skips ShareDB's snapshot check: refused all the same.
    if (i < 4) {
      const read = [
        { a: 'f', c: 'notes', d: 'secret', v: i },
        { a: 's', c: 'notes', d: 'secret', v: i },
        { a: 'bf', c: 'notes', b: { secret: i } },
        { a: 'bs', c: 'notes', b: { target: 0, secret: i } },
      ][i];
      cases.push({ name: `forbidden ops read ${i}`, frame: read });
    }
    cases.push({ name: `unknown collection ${i}`, frame: { a: 'f', c: `nope${i}`, d: 'x' } });
    cases.push({
      name: `unknown collection write ${i}`,
      frame: {
        a: 'op',
        c: `nope${i}`,
        d: 'x',
        v: 0,
        src,
        seq: seq++,
        create: { type: 'json1', data: {} },
      },
    });
  }
  for (let i = 0; i < 10; i++) {
    cases.push({
      name: `history on secret ${i}`,
      frame: {
        a: 'tandem',
        t: 'history',
        rid: 1_000 + i,
        method: 'page',
        args: [{ collection: 'notes', id: 'secret' }],
      },
    });
    cases.push({
      name: `history bad args ${i}`,
      frame: { a: 'tandem', t: 'history', rid: 2_000 + i, method: i % 2 ? 'nope' : 'page', args: i },
    });
    cases.push({
      name: `lock bad ${i}`,
      frame: {
        a: 'tandem',
        t: 'lock',
        rid: 3_000 + i,
        action: 'acquire',
        collection: 'notes',
        id: 'secret',
        path: 'x',
      },
    });
  }
  // Issue #11's families: each a typed refusal, whatever the field it rides in.
  const deepJson = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  for (const n of [100, 1_000, 10_000])
    for (const field of ['extra', 'q', 'p'])
      cases.push({
        name: `deep ${field} ${n}`,
        frame: `{"a":"f","c":"notes","d":"target","${field}":${deepJson(n)}}`,
      });
  for (const frame of [
    '{"a":"op","c":"notes","d":"target","v":1,"seq":900,"op":["p",{"i":{"__proto__":1}}]}',
    '{"__proto__":{"x":1},"a":"f","c":"notes","d":"target"}',
    '{"a":"qf","id":1,"c":"notes","q":{"__proto__":{"title":1}}}',
  ])
    cases.push({ name: `__proto__ key ${frame.slice(0, 40)}`, frame });
  cases.push({
    name: 'bytes, not units: 1,400 × € in a 4,096-byte limit',
    frame: { a: 'f', c: 'notes', d: '€'.repeat(1_400) },
  });
  const reads: Record<string, unknown>[] = [
    // (A query resubscribe naming `secret` in `r` is not refused: it is dropped; attacks.test.ts.)
    { a: 'bf', c: 'notes', b: { secret: 0 } },
    { a: 'nf', id: 52, c: 'notes', d: 'secret', v: 0 },
    { a: 'nt', id: 53, c: 'notes', d: 'secret', ts: 0 },
    { a: 'ps', ch: 'notes.secret', seq: 1 },
    { a: 'pr', ch: 'notes.secret' },
    { a: 'f', c: '_tandem_sessions', d: 'x', v: 0 },
    { a: 'qs', id: 54, c: '_tandem_versions', q: {}, r: [['x', 0]] },
    { a: 'bs', c: '_tandem_locks', b: { x: 0 } },
  ];
  for (const [i, frame] of reads.entries()) cases.push({ name: `forbidden path ${i} ${frame.a}`, frame });
  // (Hostile query keys and bounds are the store's to refuse: attacks.test.ts runs them on SQLite.)
  const shapes: Record<string, unknown>[] = [
    { a: 'op' },
    { a: 'op', c: 'notes', d: 'target', v: 'one', seq: 1, op: [] },
    { a: 'op', c: 'notes', d: 'target', v: 1, seq: 0, op: [] },
    { a: 'op', c: 'notes', d: 'target', v: 1, seq: 1, op: [], create: { type: 'json1' } },
    { a: 'op', c: 'notes', d: 'target', v: 1, seq: 1, src: 'short', op: [] },
    { a: 'op', c: 'notes', d: 'zero', v: 0, seq: 1, src, create: { type: 'json0', data: {} } },
    { a: 'f', c: 'no.tes', d: 'x' },
    { a: 'f', c: 'notes', d: '' },
    { a: 'qs', id: 'x', c: 'notes', q: {} },
    { a: 'bs', c: 'notes', b: Array.from({ length: 1_001 }, (_, i) => `d${i}`) },
    { a: 'p', ch: 'notes.other', c: 'notes', d: 'target', id: 'p', pv: 0, v: 1, p: { path: [] } },
    { a: 'ps', ch: 'notes.target', seq: -1 },
  ];
  for (const [i, frame] of shapes.entries())
    cases.push({ name: `shape ${i} ${JSON.stringify(frame).slice(0, 60)}`, frame });
  return cases;
}

function checksum(data: unknown): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('hex');
}

describe('bad-input corpus against a live server', () => {
  it('every case gets a typed error; the process stays up; honest clients keep editing; documents change only by legitimate ops', async () => {
    const server = await attach(
      { port: 0 },
      {
        storage: 'memory:',
        maxMessageBytes: MAX,
        maxPayloadBytes: 64 * MAX,
        hooks: {
          authorize: ({ principal, id }) => id !== 'secret' || principal.id === 'owner',
          authenticate: ({ token }) => ({ id: token ?? 'attacker' }),
        },
        validation: { maxStringLength: 500, maxDepth: 6, collections: ['notes'] },
        // This socket is meant to get an answer to every case (the default closes it after ~100).
        rateLimits: { faults: { rate: 1_000, burst: 1_000 } },
      },
    );
    const owner = client(server.url(), { token: 'owner' });
    const honest = client(server.url(), { token: 'honest' });
    try {
      const secret = owner.doc<{ n: number }>('notes', 'secret');
      await secret.create({ n: 0 });
      const target = honest.doc<{ n: number; text: string; log: number[] }>('notes', 'target');
      await target.create({ n: 0, text: 'hello', log: [] });
      await target.subscribe();
      const before = checksum(secret.data);

      const { ws, frames } = await rawSocket(`${server.url()}?token=attacker`);
      ws.send(JSON.stringify({ a: 'hs', id: null }));
      await until(() => frames.some((f) => f.a === 'hs'), 5_000, 'handshake');
      const cases = corpus(target.version ?? 1, frames.find((f) => f.a === 'hs').id);
      expect(cases.length).toBeGreaterThanOrEqual(200);

      const errorsIn = (list: any[]) =>
        list.filter(
          (f) =>
            (f.a === 'tandem' && (f.t === 'error' || (f.t === 'result' && f.error))) || f.error !== undefined,
        );
      let edits = 0;
      /** Cases answered with anything but a Tandem ErrorCode (e.g. ShareDB's own ERR_*). */
      const untyped: string[] = [];
      for (const c of cases) {
        const seen = errorsIn(frames).length;
        ws.send(typeof c.frame === 'string' ? c.frame : JSON.stringify(c.frame));
        // Meanwhile an honest user edits.
        if (edits < 50) {
          edits++;
          target.submit(['log', edits - 1, { i: edits }]).catch(() => {});
        }
        await until(() => errorsIn(frames).length > seen, 5_000, `a typed error for ${c.name}`);
        const last = errorsIn(frames).at(-1);
        const code = last.error?.code;
        if (!isErrorCode(code)) untyped.push(`${c.name}: ${JSON.stringify(last).slice(0, 200)}`);
        if (c.name.startsWith('forbidden') && code !== ErrorCode.FORBIDDEN)
          untyped.push(`${c.name} (not FORBIDDEN): ${JSON.stringify(last).slice(0, 200)}`);
      }
      expect(untyped).toEqual([]);
      // ShareDB's own code stays in the details, for debugging.
      const notApplied = frames.find((f) => f.a === 'op' && f.seq === 19);
      expect(notApplied).toMatchObject({
        error: { code: ErrorCode.INVALID_OP },
        ed: { sharedbCode: 'ERR_OT_OP_NOT_APPLIED' },
      });
      expect(ws.readyState).toBe(ws.OPEN);

      // Still serving, honest edits all landed, the secret is untouched.
      await until(() => target.pendingCount === 0, 10_000, 'honest edits acknowledged');
      expect(target.data?.log).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(target.data?.n).toBe(0);
      expect(target.data?.text).toBe('hello');
      await secret.fetch();
      expect(checksum(secret.data)).toBe(before);
      const late = client(server.url(), { token: 'late' });
      await late.doc('notes', 'after').create({ ok: true });
      await late.close();
      expect(server.tandem.metrics().errors[ErrorCode.INVALID_MESSAGE]).toBeGreaterThan(0);
      ws.close();
    } finally {
      await Promise.all([owner.close(), honest.close()]);
      await server.close();
    }
  });

  it('ShareDB errors reach stock and Tandem clients as Tandem codes, and a stock client recovers from them', async () => {
    const server = await attach({ port: 0 }, { storage: 'memory:' });
    const stock = new ShareDBClient.Connection(new WebSocket(server.url()) as never);
    const tandem = client(server.url());
    try {
      const doc = stock.get('notes', 'stock-errors');
      const callback = (run: (cb: (e?: any) => void) => void) =>
        new Promise<any>((resolve) => run((e) => resolve(e)));
      expect(await callback((cb) => doc.create({ text: 'hi' }, 'json1', cb))).toBeUndefined();
      // An op that cannot apply: the stock client gets `{ code, message }`, rolls back and carries on.
      const refused = await callback((cb) => doc.submitOp(['missing', { r: true }], {}, cb));
      expect(refused).toMatchObject({ code: ErrorCode.INVALID_OP, message: expect.any(String) });
      await until(() => doc.data?.text === 'hi' && !doc.hasPending(), 5_000, 'stock rollback');
      expect(await callback((cb) => doc.submitOp(['text', { es: [2, '!'] }], {}, cb))).toBeUndefined();
      // Creating a document that exists: ALREADY_EXISTS, on the Tandem client too.
      await expect(tandem.doc('notes', 'stock-errors').create({ text: 'again' })).rejects.toMatchObject({
        code: ErrorCode.ALREADY_EXISTS,
        details: { sharedbCode: 'ERR_DOC_ALREADY_CREATED' },
      });
      const seen = tandem.doc<{ text: string }>('notes', 'stock-errors');
      await seen.fetch();
      expect(seen.data).toEqual({ text: 'hi!' });
    } finally {
      stock.close();
      await tandem.close();
      await server.close();
    }
  });
});
