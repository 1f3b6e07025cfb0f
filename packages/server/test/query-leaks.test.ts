/**
 * Queries under per-document reads are non-interfering: whatever the query (filters, `$sort`,
 * `$skip`, `$limit`, `$count`), its answer is the same query run over the readable documents
 * alone, so nothing about unreadable documents (how many match, where they sort) changes it.
 * Before, the store paged first and forbidden documents were cut after: bisecting on a sort key
 * read a secret field one comparison at a time.
 */
import { ErrorCode } from '@tandem/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeOf,
  isErrorAnswer,
  type Production,
  production,
  type RawClient,
  rawClient,
} from './fixtures/production';

let prod: Production;
let reader: RawClient;
/** What the reader may see: `k` of each readable document (distinct, so any sort is total). */
const readable = new Map<string, number>();
const SEED = Number(process.env.QUERY_LEAKS_SEED ?? Date.now() % 1_000_000);

beforeAll(async () => {
  prod = await production();
  const grants: Record<string, 'viewer'> = {};
  const [values] = fc.sample(
    fc.uniqueArray(fc.integer({ min: -50, max: 50 }), { minLength: 12, maxLength: 12 }),
    {
      seed: SEED,
      numRuns: 1,
    },
  );
  const [secrets] = fc.sample(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 12, maxLength: 12 }), {
    seed: SEED + 1,
    numRuns: 1,
  });
  const owner = await prod.user('olga', { 'notes/*': 'owner' });
  for (const [i, k] of values.entries()) {
    readable.set(`r${i}`, k);
    grants[`notes/r${i}`] = 'viewer';
    await owner.doc('notes', `r${i}`).create({ k });
  }
  for (const [i, k] of secrets.entries()) await owner.doc('notes', `s${i}`).create({ k, secret: true });
  reader = await rawClient(prod.url, await prod.token('rita', grants), 'json');
  await reader.clientId();
});

afterAll(async () => {
  reader.close();
  await prod.close();
});

interface Query {
  min: number;
  order: 1 | -1;
  skip?: number;
  limit?: number;
  count: boolean;
}

/** The reference: the query over readable documents only, in JS. */
function expected(q: Query): { ids: string[]; count: number } {
  const matches = [...readable].filter(([, k]) => k >= q.min).sort((a, b) => (a[1] - b[1]) * q.order);
  const skip = q.skip ?? 0;
  const paged = matches.slice(skip, q.limit === undefined ? undefined : skip + q.limit);
  return { ids: paged.map(([id]) => id), count: paged.length };
}

let queryId = 0;
async function ask(q: Query, action: 'qf' | 'qs'): Promise<{ ids: string[]; count: unknown }> {
  const id = ++queryId;
  const query: Record<string, unknown> = { k: { $gte: q.min }, $sort: { k: q.order } };
  if (q.skip !== undefined) query.$skip = q.skip;
  if (q.limit !== undefined) query.$limit = q.limit;
  if (q.count) query.$count = true;
  const from = reader.messages.length;
  reader.send({ a: action, id, c: 'notes', q: query });
  const answer = await reader.next(
    (m) => m.a === action && m.id === id,
    from,
    `query ${JSON.stringify(query)}`,
  );
  if (action === 'qs') reader.send({ a: 'qu', id });
  expect(answer.error, JSON.stringify(answer.error)).toBeUndefined();
  return { ids: (answer.data as { d: string }[]).map((d) => d.d), count: answer.extra };
}

describe('queries under per-document reads', () => {
  it(`answer as if unreadable documents did not exist (seed ${SEED})`, async () => {
    const query = fc.record({
      min: fc.integer({ min: -55, max: 55 }),
      order: fc.constantFrom(1 as const, -1 as const),
      skip: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
      limit: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
      count: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(query, fc.constantFrom('qf' as const, 'qs' as const), async (q, action) => {
        const want = expected(q);
        const got = await ask(q, action);
        if (q.count) {
          expect(got.ids).toEqual([]);
          expect(got.count).toBe(want.count);
        } else {
          expect(got.ids).toEqual(want.ids);
        }
      }),
      { numRuns: 80, seed: SEED },
    );
    for (const frame of reader.raw) expect(frame).not.toContain('secret');
  });

  it('aggregations over unasked documents are refused, not computed', async () => {
    const from = reader.messages.length;
    reader.send({ a: 'qf', id: 9_999, c: 'notes', q: { $aggregate: [] } });
    const answer = await reader.next(isErrorAnswer, from);
    expect([ErrorCode.INVALID_MESSAGE, ErrorCode.FORBIDDEN]).toContain(codeOf(answer));
  });
});
