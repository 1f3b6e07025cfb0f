/**
 * Property: random concurrent op streams under random policies (and a random lock) converge on
 * every replica and on the server. Each round, every client edits its own copy and submits at
 * once, so the server transforms, retries, rejects, refuses and fixes up ops in every order.
 */
import type { PolicyName } from '@tandem/conflicts';
import {
  type Doc as Data,
  deleteText,
  insert,
  insertText,
  type JSONOp,
  move,
  remove,
  replace,
} from '@tandem/ot';
import fc from 'fast-check';
import type { Doc } from 'sharedb/lib/client';
import { expect, test } from 'vitest';
import { create, fetch, serverData, setup } from './helpers';

const POLICIES: PolicyName[] = ['merge', 'last-writer-wins', 'reject', 'manual'];
const PATTERNS = ['/title', '/body', '/fields/*/value', '/list/**'];

interface State {
  title: string;
  body: string;
  fields: Record<string, { value?: string }>;
  list: number[];
}

const initial = (): State => ({
  title: 't',
  body: 'hello world',
  fields: { a: { value: 'x' }, b: { value: 'y' } },
  list: [1, 2, 3],
});

/** A valid, invertible op on `data`, chosen by `pick` (numbers in [0, 1)). */
function randomOp(data: State, pick: () => number, tag: string): JSONOp {
  const n = (max: number) => Math.floor(pick() * max);
  switch (n(7)) {
    case 0:
      return replace(['title'], tag, data.title);
    case 1:
      return insertText(['body'], n(data.body.length + 1), tag, data.body);
    case 2: {
      if (data.body.length === 0) return insertText(['body'], 0, tag, data.body);
      const at = n(data.body.length);
      return deleteText(['body'], at, 1 + n(Math.min(4, data.body.length - at)), data.body);
    }
    case 3: {
      const key = pick() < 0.5 ? 'a' : 'b';
      const field = data.fields[key];
      if (field === undefined) return insert(['fields', key], { value: tag });
      if (field.value === undefined) return insert(['fields', key, 'value'], tag);
      return pick() < 0.3
        ? remove(['fields', key, 'value'], field.value)
        : replace(['fields', key, 'value'], tag, field.value);
    }
    case 4:
      return insert(['list', n(data.list.length + 1)], n(100));
    case 5:
      return data.list.length === 0
        ? insert(['list', 0], 0)
        : remove(['list', n(data.list.length)], data.list[0] as Data);
    default:
      return data.list.length < 2
        ? insert(['list', 0], 7)
        : move(['list', n(data.list.length)], ['list', n(data.list.length)]);
  }
}

/** A shrunk random stream, padded with zeros to the generator's length. */
const pad = (xs: number[]): number[] => [...xs, ...Array<number>(200 - xs.length).fill(0)];

const settled = (doc: Doc) => new Promise<void>((resolve) => doc.whenNothingPending(() => resolve()));

async function caughtUp(docs: Doc[], version: () => Promise<number>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const v = await version();
    if (docs.every((d) => d.version === v && !d.hasWritePending())) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('random concurrent ops under random policies converge on every replica', async () => {
  // Every policy outcome must actually occur, or the property proves less than it claims.
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom(...POLICIES), { minLength: PATTERNS.length, maxLength: PATTERNS.length }),
      fc.option(fc.constantFrom(['title'], ['body'], ['list'], ['fields', 'a']), { nil: undefined }),
      fc.array(fc.double({ min: 0, max: 0.999999, noNaN: true }), { minLength: 200, maxLength: 200 }),
      fc.integer({ min: 2, max: 6 }),
      async (policies, lockPath, randoms, rounds) => {
        let cursor = 0;
        const pick = () => randoms[cursor++ % randoms.length];
        const rules = Object.fromEntries(PATTERNS.map((p, i) => [p, policies[i]]));
        const s = setup({ policies: { notes: rules } });
        const names = ['alice', 'bob', 'carol'];
        const docs = names.map((name) => s.connect(name).get('notes', 'p'));
        await create(docs[0], initial() as unknown as Data);
        await Promise.all(docs.map((d) => new Promise<void>((r, j) => d.subscribe((e) => (e ? j(e) : r())))));
        if (lockPath !== undefined) {
          await s.handle.locks.acquire({
            collection: 'notes',
            docId: 'p',
            path: [...lockPath],
            owner: 'alice',
          });
        }
        const errors: string[] = [];
        for (let round = 0; round < rounds; round++) {
          docs.forEach((doc, i) => {
            const count = 1 + Math.floor(pick() * 2);
            for (let k = 0; k < count; k++) {
              const op = randomOp(doc.data as State, pick, `${names[i][0]}${round}${k}`);
              doc.submitOp(op as never, {}, (e) => {
                if (e) errors.push(String((e as unknown as { code?: string }).code));
              });
            }
          });
          await Promise.all(docs.map(settled));
        }
        const server = s.backend.connect().get('notes', 'p');
        await caughtUp(docs, async () => {
          await fetch(server);
          return server.version as number;
        });
        const truth = await serverData(s, 'notes', 'p');
        const repro = JSON.stringify({ rules, lockPath, rounds, errors });
        for (const doc of docs) expect(doc.data, repro).toEqual(truth);
        for (const e of errors) expect(['CONFLICT_REJECTED', 'LOCKED'], repro).toContain(e);
        await s.handle.close();
        for (const r of s.records) seen.add(r.resolution);
      },
    ),
    {
      numRuns: Number(process.env.CONFLICTS_RUNS ?? 40),
      // Past failures, replayed every run. 1: a rejected op whose pending successor was transformed
      // into a bare remove; json1 inverted it into `title: true` on the sender (fixed in @tandem/ot).
      examples: [[['reject', 'merge', 'merge', 'merge'], undefined, pad([0, 0, 0.5, 0, 0, 0, 1 / 7]), 2]],
    },
  );
  expect([...seen].sort()).toEqual(
    expect.arrayContaining(['kept-committed', 'last-writer-wins', 'op-wins', 'rejected']),
  );
});
