/**
 * Random documents and random ops for the law tests.
 *
 * Documents come from fast-check (so they shrink). Ops are built from a document with a seeded PRNG:
 * the generator needs the document to aim at real paths, and a seed makes every failure a one-line
 * repro. Candidate ops that json1 refuses to apply are discarded and regenerated.
 */

import { existsSync, readFileSync } from 'node:fs';
import { apply, compose, type Doc, type JSONOp, type Path } from '@tandem/ot';
import fc from 'fast-check';
import * as json1 from 'ot-json1';
import { vi } from 'vitest';

/** Code points that matter: ASCII, a BMP accent, astral emoji and a musical symbol (surrogate pairs). */
const UNITS = ['a', 'b', 'c', ' ', 'é', '😀', '🎉', '𝄞'];
const KEYS = ['a', 'b', 'c', 'd', 'e'];

export const runs = (fallback: number): number => Number(process.env.FUZZ_RUNS ?? fallback);

// Long fuzz runs (FUZZ_RUNS=…) outlast the default 30 s test timeout: lift it for them.
if (process.env.FUZZ_RUNS !== undefined) vi.setConfig({ testTimeout: 24 * 3_600_000 });

export const textArb = fc.array(fc.constantFrom(...UNITS), { maxLength: 8 }).map((u) => u.join(''));

export const valueArb: fc.Arbitrary<Doc> = fc.letrec<{ value: Doc }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    textArb,
    fc.integer({ min: -5, max: 5 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Root documents are objects, like ShareDB json1 documents in practice. */
export const docArb: fc.Arbitrary<Doc> = fc.dictionary(fc.constantFrom(...KEYS), valueArb, { maxKeys: 5 });

/** mulberry32: tiny, fast, good enough for choosing among a handful of options. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const int = (rng: Rng, n: number): number => Math.floor(rng() * n);

interface Slot {
  path: Path;
  value: Doc;
}

function allSlots(doc: Doc, path: Path = [], out: Slot[] = []): Slot[] {
  out.push({ path, value: doc });
  if (Array.isArray(doc)) {
    for (let i = 0; i < doc.length; i++) allSlots(doc[i], [...path, i], out);
  } else if (doc !== null && typeof doc === 'object')
    for (const k of Object.keys(doc)) allSlots(doc[k], [...path, k], out);
  return out;
}

function randomText(rng: Rng, max: number): string {
  let s = '';
  const n = 1 + int(rng, max);
  for (let i = 0; i < n; i++) s += pick(rng, UNITS);
  return s;
}

function randomValue(rng: Rng): Doc {
  switch (int(rng, 5)) {
    case 0:
      return randomText(rng, 4);
    case 1:
      return int(rng, 10);
    case 2:
      return { [pick(rng, KEYS)]: randomText(rng, 3) };
    case 3:
      return [randomText(rng, 2), int(rng, 3)];
    default:
      return null;
  }
}

const isContainer = (v: Doc): boolean => v !== null && typeof v === 'object';

/** A text-unicode op on a string of `len` code points. */
export function randomTextOp(rng: Rng, s: string): (number | string | { d: string })[] {
  const cps = [...s];
  const pos = int(rng, cps.length + 1);
  const del = rng() < 0.5 ? int(rng, cps.length - pos + 1) : 0;
  const ins = del === 0 || rng() < 0.5 ? randomText(rng, 3) : '';
  const op: (number | string | { d: string })[] = [];
  if (pos > 0) op.push(pos);
  if (del > 0) op.push({ d: cps.slice(pos, pos + del).join('') });
  if (ins !== '') op.push(ins);
  return op;
}

/** One candidate single-action op on `doc` (may be invalid; the caller checks by applying it). */
function candidate(doc: Doc, rng: Rng, moveBias: number): JSONOp {
  const slots = allSlots(doc);
  const nonRoot = slots.filter((s) => s.path.length > 0);
  const action = rng() < moveBias ? 6 : int(rng, 6);
  switch (action) {
    case 0:
    case 1: {
      const strings = nonRoot.filter((s) => typeof s.value === 'string');
      if (strings.length === 0) return null;
      const s = pick(rng, strings);
      const edit = randomTextOp(rng, s.value as string);
      return edit.length === 0 ? null : json1.editOp(s.path, 'text-unicode', edit);
    }
    case 2: {
      const containers = slots.filter((s) => isContainer(s.value));
      const c = pick(rng, containers);
      const key = Array.isArray(c.value) ? int(rng, c.value.length + 1) : pick(rng, KEYS);
      return json1.insertOp([...c.path, key], randomValue(rng));
    }
    case 3: {
      if (nonRoot.length === 0) return null;
      const s = pick(rng, nonRoot);
      return json1.type.writeCursor().writeAtPath(s.path, 'r', s.value).get();
    }
    case 4: {
      if (nonRoot.length === 0) return null;
      const s = pick(rng, nonRoot);
      return json1.replaceOp(s.path, s.value, randomValue(rng));
    }
    case 5: {
      const nums = nonRoot.filter((s) => typeof s.value === 'number');
      if (nums.length === 0) return null;
      return json1.editOp(pick(rng, nums).path, 'number', 1 + int(rng, 3));
    }
    default: {
      if (nonRoot.length === 0) return null;
      const from = pick(rng, nonRoot);
      const containers = slots.filter((s) => isContainer(s.value));
      const to = pick(rng, containers);
      const key = Array.isArray(to.value) ? int(rng, to.value.length + 1) : pick(rng, KEYS);
      return json1.moveOp(from.path, [...to.path, key]);
    }
  }
}

/** A valid op on `doc`: 1–`maxParts` actions composed, or null when nothing valid was found. */
/** `moveBias`: probability that an action is a move (the rest split evenly among the others). */
export function randomOp(doc: Doc, rng: Rng, { maxParts = 3, moveBias = 0.2 } = {}): JSONOp {
  let op: JSONOp = null;
  let current: Doc | undefined = doc;
  const parts = 1 + int(rng, maxParts);
  for (let p = 0; p < parts; p++) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const c = candidate(current as Doc, rng, moveBias);
      if (c === null) continue;
      try {
        const next = apply(current, c);
        op = compose(op, c);
        current = next;
        break;
      } catch {
        // json1 refused this candidate (e.g. a key already taken); try another one.
      }
    }
  }
  return op;
}

export const json = (x: unknown): string => JSON.stringify(x);

/** The saved cases of test/corpus/<name>.json (an empty list when there is no such file). */
/**
 * The saved cases of one law (test/corpus/<name>.json). A missing or empty corpus is an error, not
 * zero cases: a corpus test that replays nothing must not pass.
 */
export function corpus<T>(name: string): T[] {
  const url = new URL(`../corpus/${name}.json`, import.meta.url);
  if (!existsSync(url)) throw new Error(`test/corpus/${name}.json is missing`);
  const cases = JSON.parse(readFileSync(url, 'utf8')) as T[];
  if (!Array.isArray(cases) || cases.length === 0) throw new Error(`test/corpus/${name}.json holds no cases`);
  return cases;
}
