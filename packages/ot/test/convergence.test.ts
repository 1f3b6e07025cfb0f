/**
 * Convergence under ShareDB's protocol, with a tiny fake authority: clients apply their own ops at
 * once and send one at a time; the server transforms each incoming op over the ops committed since
 * its base version (incoming op as 'left', as sharedb/lib/ot.js does); clients transform their
 * in-flight and pending ops against incoming ones (client 'left', server 'right', as ShareDB's
 * client transformX does). A seeded schedule interleaves local edits, sends and deliveries; at
 * the end every replica must equal the server's document.
 */
import { apply, compose, type Doc, type JSONOp, transform } from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { docArb, json, prng, randomOp, runs } from './support/gen';

interface Client {
  doc: Doc;
  /** Server version the client has seen. */
  version: number;
  inflight: JSONOp | undefined;
  pending: JSONOp[];
  /** Ops from the server not yet delivered to this client (index into the log). */
  delivered: number;
}

function simulate(
  start: Doc,
  seed: number,
  clients: number,
  steps: number,
): { server: Doc; replicas: Doc[] } {
  const rng = prng(seed);
  const log: JSONOp[] = [];
  let server = start;
  const cs: Client[] = Array.from({ length: clients }, () => ({
    doc: start,
    version: 0,
    inflight: undefined,
    pending: [],
    delivered: 0,
  }));
  const submitted: { client: number; op: JSONOp; base: number }[] = [];
  /** Which client wrote each committed op (its author treats delivery as the acknowledgement). */
  const authors: number[] = [];

  const send = (i: number): void => {
    const c = cs[i];
    if (c.inflight !== undefined || c.pending.length === 0) return;
    c.inflight = c.pending.shift();
    submitted.push({ client: i, op: c.inflight as JSONOp, base: c.version });
  };
  const serverReceive = (): void => {
    const s = submitted.shift();
    if (s === undefined) return;
    let op = s.op;
    for (let v = s.base; v < log.length; v++) op = transform(op, log[v], 'left');
    server = apply(server, op) as Doc;
    log.push(op);
    authors.push(s.client);
  };
  const deliver = (i: number): void => {
    const c = cs[i];
    if (c.delivered >= log.length) return;
    const v = c.delivered++;
    c.version = v + 1;
    if (authors[v] === i) {
      c.inflight = undefined; // our own op, acknowledged
      return;
    }
    let incoming = log[v];
    // transformX against the in-flight op, then each pending op.
    const queue = c.inflight === undefined ? c.pending : [c.inflight, ...c.pending];
    const next: JSONOp[] = [];
    for (const mine of queue) {
      next.push(transform(mine, incoming, 'left'));
      incoming = transform(incoming, mine, 'right');
    }
    if (c.inflight !== undefined) c.inflight = next.shift();
    c.pending = next;
    c.doc = apply(c.doc, incoming) as Doc;
  };

  for (let step = 0; step < steps; step++) {
    const i = Math.floor(rng() * clients);
    const r = rng();
    if (r < 0.4) {
      const op = randomOp(cs[i].doc, rng, { maxParts: 2, moveBias: 0.25 });
      if (op !== null) {
        cs[i].doc = apply(cs[i].doc, op) as Doc;
        cs[i].pending.push(op);
      }
    } else if (r < 0.6) send(i);
    else if (r < 0.8) serverReceive();
    else deliver(i);
  }
  // Flush: everything sent, received and delivered.
  for (let round = 0; round < 1000; round++) {
    let busy = false;
    for (let i = 0; i < clients; i++) {
      send(i);
      if (cs[i].delivered < log.length || cs[i].inflight !== undefined || cs[i].pending.length > 0)
        busy = true;
    }
    while (submitted.length > 0) serverReceive();
    for (let i = 0; i < clients; i++) while (cs[i].delivered < log.length) deliver(i);
    if (!busy) break;
  }
  return { server, replicas: cs.map((c) => c.doc) };
}

describe('convergence through a ShareDB-like authority', () => {
  it('every replica ends equal to the server (random schedules)', () => {
    fc.assert(
      fc.property(docArb, fc.integer(), fc.integer({ min: 2, max: 4 }), (doc, seed, clients) => {
        const { server, replicas } = simulate(doc, seed, clients, 60);
        try {
          for (const r of replicas) expect(r).toEqual(server);
        } catch (e) {
          process.stderr.write(`repro convergence: ${json({ doc, seed, clients })}\n`);
          throw e;
        }
      }),
      { numRuns: runs(150) },
    );
  });

  it('compose of a client queue applies like the queue', () => {
    const doc = { t: 'a😀b', l: [1, 2] };
    const ops: JSONOp[] = [
      ['t', { es: [1, 'x'] }],
      ['l', 0, { r: 1 }],
      ['t', { es: [3, { d: 1 }] }],
    ];
    let seq: Doc = doc;
    for (const op of ops) seq = apply(seq, op) as Doc;
    expect(
      apply(
        doc,
        ops.reduce<JSONOp>((a, b) => compose(a, b), null),
      ),
    ).toEqual(seq);
  });
});
