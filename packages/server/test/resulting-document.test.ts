/**
 * `checkResultingDocument` looks only at the places an op's number edits and moves land, not at the
 * whole document: here it agrees with a walk of the whole resulting document, for random documents
 * (within the limits before the op) and random moves and number edits.
 */
import { apply, type Doc, type JSONOp, move } from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkResultingDocument, depthOf, resolveValidation } from '../src/security/limits';

const limits = resolveValidation({ maxDepth: 5 });

type Path = (string | number)[];

const doc: fc.Arbitrary<Doc> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(0, 1, -1, 1e308, -1e308, 0.5),
    fc.string({ maxLength: 3 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('value'), { maxKeys: 3 }),
  ),
})).value as fc.Arbitrary<Doc>;

/** Every path in a document, with its value. */
function paths(value: unknown, at: Path = []): [Path, unknown][] {
  const out: [Path, unknown][] = [[at, value]];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...paths(v, [...at, i]));
  } else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  return out;
}

/** The whole-document verdict: within the depth limit, and every number finite. */
function wholeDocumentOk(data: unknown): boolean {
  return (
    paths(data).every(([, v]) => typeof v !== 'number' || Number.isFinite(v)) &&
    depthOf(data, 100) <= limits.maxDepth
  );
}

describe('checking the resulting document where the op lands', () => {
  it('agrees with a walk of the whole document, for moves and number edits', () => {
    let ran = 0;
    fc.assert(
      fc.property(
        doc,
        fc.nat(),
        fc.nat(),
        fc.constantFrom(1, -1, 1e308, -1e308, 0.25),
        fc.boolean(),
        (data, i, j, n, moving) => {
          fc.pre(typeof data === 'object' && data !== null && wholeDocumentOk(data));
          const all = paths(data).filter(([p]) => p.length > 0);
          let op: JSONOp;
          if (moving) {
            const [from] = all[i % Math.max(1, all.length)] ?? [[]];
            const containers = paths(data).filter(
              ([p, v]) =>
                typeof v === 'object' &&
                v !== null &&
                !(p.length >= from.length && from.every((k, x) => p[x] === k)),
            );
            fc.pre(from.length > 0 && containers.length > 0);
            const [parent, container] = containers[j % containers.length];
            const key = Array.isArray(container) ? 0 : 'moved';
            op = move(from, [...parent, key]);
          } else {
            const numbers = all.filter(([, v]) => typeof v === 'number');
            fc.pre(numbers.length > 0);
            op = [...numbers[i % numbers.length][0], { ena: n }] as JSONOp;
          }
          let result: unknown;
          try {
            result = apply(data, op);
          } catch {
            fc.pre(false);
          }
          ran++;
          const local = (() => {
            try {
              checkResultingDocument(op, result, limits);
              return true;
            } catch {
              return false;
            }
          })();
          expect(local).toBe(wholeDocumentOk(result));
        },
      ),
      { numRuns: 500 },
    );
    expect(ran).toBeGreaterThan(100);
  });
});
