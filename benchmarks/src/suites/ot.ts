/**
 * @tandem/ot against raw ot-json1 on the same op streams:
 * - a 50-field form (text edits in fields, replaces, number increments),
 * - a 100 KB text with typing (mostly sequential keystrokes, some backspaces, cursor jumps),
 * - a 1 MB text with typing.
 * apply / transform / compose run the same ops through both; `ropeType` apply is listed next to
 * them (same ops, rope snapshot). diff has no json1 counterpart, so it is reported on its own.
 * Ratios are @tandem/ot time ÷ raw json1 time (1.00 = same speed, lower is faster).
 */
import { compose, type Doc, diff, type JSONOp, ropeType, transform, type } from '@tandem/ot';
import * as json1 from 'ot-json1';
import { type BenchOptions, formatNumber, printTable, seededRandom } from '../report';

interface Stream {
  name: string;
  doc: Doc;
  /** Sequential ops: ops[i] applies to states[i]. */
  ops: JSONOp[];
  states: Doc[];
  /** others[i]: an op concurrent with ops[i] (also on states[i]), not conflicting with it. */
  others: JSONOp[];
}

function formStream(count: number): Stream {
  const rng = seededRandom(1);
  const fields: Record<string, Doc> = {};
  for (let i = 0; i < 50; i++) fields[`f${i}`] = i % 2 === 0 ? `value of field ${i}` : i;
  const opOn = (doc: Record<string, Doc>, k: number): JSONOp => {
    const key = `f${k}`;
    const v = doc[key];
    if (typeof v === 'string') return [key, { es: [v.length, 'x'] }];
    return rng() < 0.5 ? [key, { ena: 1 }] : [key, { r: v, i: (v as number) + 10 }];
  };
  return build('50-field form', fields, count, (doc) => {
    const d = doc as Record<string, Doc>;
    const k = Math.floor(rng() * 50);
    return [opOn(d, k), opOn(d, (k + 1 + Math.floor(rng() * 48)) % 50)];
  });
}

function textStream(name: string, size: number, count: number): Stream {
  const rng = seededRandom(size);
  const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '.split(' ');
  let text = '';
  while (text.length < size) text += `${words[Math.floor(rng() * words.length)]} `;
  let cursor = Math.floor(size / 2);
  return build(name, { text }, count, (doc) => {
    const len = ((doc as { text: string }).text as string).length; // ASCII: code points = UTF-16 units
    if (rng() < 0.02) cursor = Math.floor(rng() * len);
    cursor = Math.min(cursor, len);
    const other: JSONOp = ['text', { es: [Math.floor(rng() * len) + 1, 'y'] }];
    if (rng() < 0.1 && cursor > 0) {
      cursor--;
      return [['text', { es: cursor > 0 ? [cursor, { d: 1 }] : [{ d: 1 }] }], other];
    }
    const op: JSONOp = ['text', { es: cursor > 0 ? [cursor, 'a'] : ['a'] }];
    cursor++;
    return [op, other];
  });
}

function build(name: string, doc: Doc, count: number, next: (doc: Doc) => [JSONOp, JSONOp]): Stream {
  const ops: JSONOp[] = [];
  const others: JSONOp[] = [];
  const states: Doc[] = [];
  let current = doc;
  for (let i = 0; i < count; i++) {
    const [op, other] = next(current);
    states.push(current);
    ops.push(op);
    others.push(other);
    current = json1.type.apply(current, op) as Doc;
  }
  return { name, doc, ops, states, others };
}

/**
 * CPU time of `fn` in ms (user + system of this process): on a shared machine, wall time mostly
 * measures how long other processes held the cores.
 */
function timed(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * Best of `repeat` timed runs of each function after one warm-up each. Runs alternate between the
 * two so that load from other processes hits both alike; best-of damps a loaded machine.
 */
function bestPair(raw: () => void, ours: () => void, repeat: number): [number, number] {
  raw();
  ours();
  let a = Number.POSITIVE_INFINITY;
  let b = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeat; r++) {
    a = Math.min(a, timed(raw));
    b = Math.min(b, timed(ours));
  }
  return [a, b];
}

function best(fn: () => void, repeat: number): number {
  fn();
  let min = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeat; r++) min = Math.min(min, timed(fn));
  return min;
}

/** Passes over a stream of cheap ops so one timed run is long enough (≥ ~10,000 ops) to measure. */
const passesFor = (n: number): number => Math.max(1, Math.ceil(10_000 / n));

/** Cheap ops get many short alternating rounds: the minimum of many samples shrugs off load spikes. */
const CHEAP_ROUNDS = 15;

type Row = (string | number)[];

function measure(s: Stream, repeat: number, cheapRounds: number): Row[] {
  const n = s.ops.length;
  const opsPerSec = (ms: number, count = n): number => (count * 1000) / ms;
  const rows: Row[] = [];
  const row = (op: string, raw: number | null, ours: number, rope: number | null, count = n): void => {
    rows.push([
      s.name,
      op,
      raw === null ? 'n/a' : opsPerSec(raw, count),
      opsPerSec(ours, count),
      raw === null ? 'n/a (json1 has none)' : `${formatNumber(ours / raw)}×`,
      rope === null ? '—' : opsPerSec(rope, count),
    ]);
  };

  const [rawApply, ourApply] = bestPair(
    () => {
      let d: Doc | undefined = s.doc;
      for (const op of s.ops) d = json1.type.apply(d as Doc, op) as Doc;
    },
    () => {
      let d: Doc | undefined = s.doc;
      for (const op of s.ops) d = type.apply(d, op);
    },
    repeat,
  );
  // Rope snapshots are mutable: each run starts from a fresh one (built outside the timed loop).
  const ropes = Array.from({ length: repeat + 1 }, () => ropeType.create(s.doc));
  let ropeRun = 0;
  const ropeApply = best(() => {
    let d = ropes[ropeRun++];
    for (const op of s.ops) d = ropeType.apply(d, op);
  }, repeat);
  row('apply', rawApply, ourApply, ropeApply);

  const passes = passesFor(n);
  const [rawTransform, ourTransform] = bestPair(
    () => {
      for (let p = 0; p < passes; p++)
        for (let i = 0; i < n; i++) json1.type.transform(s.ops[i], s.others[i], 'left');
    },
    () => {
      for (let p = 0; p < passes; p++) for (let i = 0; i < n; i++) transform(s.ops[i], s.others[i], 'left');
    },
    cheapRounds,
  );
  row('transform', rawTransform, ourTransform, null, n * passes);

  const [rawCompose, ourCompose] = bestPair(
    () => {
      for (let p = 0; p < passes; p++)
        for (let i = 0; i + 1 < n; i++) json1.type.compose(s.ops[i], s.ops[i + 1]);
    },
    () => {
      for (let p = 0; p < passes; p++) for (let i = 0; i + 1 < n; i++) compose(s.ops[i], s.ops[i + 1]);
    },
    cheapRounds,
  );
  row('compose', rawCompose, ourCompose, null, (n - 1) * passes);

  // diff(state_i, state_{i+1}) recovers each op; sampled so the 1 MB text stays quick.
  const step = Math.max(1, Math.floor(n / 200));
  let diffs = 0;
  const ourDiff = best(() => {
    diffs = 0;
    for (let i = 0; i + 1 < n; i += step) {
      diff(s.states[i], s.states[i + 1]);
      diffs++;
    }
  }, repeat);
  row('diff', null, ourDiff, null, diffs);
  return rows;
}

export async function run(options: BenchOptions): Promise<void> {
  const repeat = options.quick ? 1 : 5;
  const streams = [
    formStream(options.quick ? 500 : 5_000),
    textStream('100 KB text, typing', 100_000, options.quick ? 300 : 3_000),
    textStream('1 MB text, typing', 1_000_000, options.quick ? 30 : 300),
  ];
  const rows = streams.flatMap((s) => measure(s, repeat, options.quick ? 1 : CHEAP_ROUNDS));
  printTable(
    [
      'workload',
      'operation',
      'raw ot-json1 (ops/s)',
      '@tandem/ot type (ops/s)',
      'time ratio (ours ÷ raw)',
      '@tandem/ot ropeType (ops/s)',
    ],
    rows,
  );
  console.log(
    `CPU time, best of ${repeat} runs after a warm-up, raw and ours alternating; transform/compose: best of ${options.quick ? 1 : CHEAP_ROUNDS} alternating runs of ≥ 10,000 ops. Op counts: ${streams.map((s) => `${s.name} ${s.ops.length}`).join(', ')}.` +
      ' The ropeType column applies the same json1 ops to a rope snapshot (built before timing).',
  );
}
