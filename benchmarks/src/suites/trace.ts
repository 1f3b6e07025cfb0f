/**
 * The automerge-paper editing trace (259,778 single-character edits) replayed through:
 * - @tandem/ot `ropeType` — each patch built with `spliceTextAtCodePoint` and applied as a json1 op;
 * - raw ot-json1 and raw ot-text-unicode on plain strings — too slow to run whole in a suite (each
 *   edit copies the text and rescans it for the code-point offset), so they run sampled windows
 *   spread over the trace, each starting from the real text at that point, and the whole-trace
 *   time is estimated as the sum of each window's per-edit cost × the edits it stands for;
 * - Yjs (Y.Text insert/delete);
 * - bare JS string splices (the floor: no OT at all).
 * Every full run checks the final text equals the trace's `endContent`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ropeType, serialize, spliceTextAtCodePoint } from '@tandem/ot';
import * as json1 from 'ot-json1';
import { type as textUnicode } from 'ot-text-unicode';
import * as Y from 'yjs';
import { type BenchOptions, formatNumber, printTable } from '../report';

type Patch = [pos: number, deleted: number, inserted: string];
interface Trace {
  startContent: string;
  endContent: string;
  txns: { patches: Patch[] }[];
}

/** The trace ships with the benchmarks (provenance and licence: benchmarks/data/README.md). */
const TRACE_URL = new URL('../../data/automerge-paper.json.gz', import.meta.url);

function loadTrace(): { trace: Trace; patches: Patch[] } {
  const trace = JSON.parse(gunzipSync(readFileSync(fileURLToPath(TRACE_URL))).toString('utf8')) as Trace;
  return { trace, patches: trace.txns.flatMap((t) => t.patches) };
}

interface Row {
  name: string;
  edits: number;
  ms: number;
  /** Whole-trace time: measured, or estimated from a partial run. */
  fullMs: number;
  extrapolated: boolean;
  ok: string;
}

function tandemRope(trace: Trace, patches: Patch[]): { ms: number; text: string } {
  let text = '';
  const ms = timeSync(() => {
    let snap = ropeType.create({ text: trace.startContent });
    const path = ['text'];
    for (const [pos, del, ins] of patches)
      snap = ropeType.apply(snap, spliceTextAtCodePoint(path, pos, del, ins));
    text = (serialize(snap) as { text: string }).text;
  });
  return { ms, text };
}

function json1Plain(trace: Trace, patches: Patch[]): { ms: number; text: string } {
  let text = '';
  const ms = timeSync(() => {
    let doc: unknown = { text: trace.startContent };
    for (const [pos, del, ins] of patches) {
      const edit: (number | string | { d: number })[] = [];
      if (pos > 0) edit.push(pos);
      if (del > 0) edit.push({ d: del });
      if (ins.length > 0) edit.push(ins);
      doc = json1.type.apply(doc as json1.Doc, ['text', { es: edit }]);
    }
    text = (doc as { text: string }).text;
  });
  return { ms, text };
}

function textUnicodePlain(trace: Trace, patches: Patch[]): { ms: number; text: string } {
  let text = trace.startContent;
  const ms = timeSync(() => {
    for (const [pos, del, ins] of patches) {
      const edit: (number | string | { d: number })[] = [];
      if (pos > 0) edit.push(pos);
      if (del > 0) edit.push({ d: del });
      if (ins.length > 0) edit.push(ins);
      text = textUnicode.apply(text, edit);
    }
  });
  return { ms, text };
}

function yjs(trace: Trace, patches: Patch[]): { ms: number; text: string } {
  let text = '';
  const ms = timeSync(() => {
    const doc = new Y.Doc();
    const t = doc.getText('text');
    t.insert(0, trace.startContent);
    // The trace has no astral characters, so its code-point positions are also UTF-16 positions.
    for (const [pos, del, ins] of patches) {
      if (del > 0) t.delete(pos, del);
      if (ins.length > 0) t.insert(pos, ins);
    }
    text = t.toString();
  });
  return { ms, text };
}

function jsSplices(trace: Trace, patches: Patch[]): { ms: number; text: string } {
  let text = trace.startContent;
  const ms = timeSync(() => {
    for (const [pos, del, ins] of patches) text = text.slice(0, pos) + ins + text.slice(pos + del);
  });
  return { ms, text };
}

/**
 * CPU time of `fn` in ms (user + system of this process): on a shared machine, wall time mostly
 * measures how long other processes held the cores.
 */
function timeSync(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

interface Estimate {
  /** Edits actually run. */
  edits: number;
  ms: number;
  /** Estimated whole-trace time. */
  fullMs: number;
}

/**
 * Run `windows` evenly spaced windows of `size` edits, each from the true text at its start, and
 * estimate the whole trace. Per-edit cost of plain-string OT grows with the text, so sampling the
 * whole range (not a prefix) matters.
 */
function sampled(
  trace: Trace,
  patches: Patch[],
  fn: typeof jsSplices,
  windows: number,
  size: number,
): Estimate {
  const segment = Math.floor(patches.length / windows);
  const starts = Array.from({ length: windows }, (_, w) => w * segment);
  // Text at each window start, from bare splices (cheap next to the OT runs).
  const texts: string[] = [];
  let text = trace.startContent;
  let at = 0;
  for (const start of starts) {
    for (; at < start; at++) {
      const [pos, del, ins] = patches[at];
      text = text.slice(0, pos) + ins + text.slice(pos + del);
    }
    texts.push(text);
  }
  let edits = 0;
  let ms = 0;
  let fullMs = 0;
  starts.forEach((start, w) => {
    const window = patches.slice(start, start + size);
    const r = fn({ ...trace, startContent: texts[w] }, window);
    edits += window.length;
    ms += r.ms;
    const represents = w === windows - 1 ? patches.length - start : segment;
    fullMs += (r.ms / window.length) * represents;
  });
  return { edits, ms, fullMs };
}

export async function run(options: BenchOptions): Promise<void> {
  const { trace, patches } = loadTrace();
  if (/[\uD800-\uDFFF]/.test(trace.endContent))
    throw new Error('trace has astral characters; the Yjs/splice baselines assume none');
  const fullCap = options.quick ? 20_000 : patches.length;
  const full = patches.slice(0, fullCap);
  const expected = fullCap === patches.length ? trace.endContent : null;
  // Plain-string OT: sampled windows keep the suite under ~20 s (the whole trace takes ~40 s each).
  const windows = options.quick ? 2 : 8;
  const windowSize = options.quick ? 1_000 : 4_000;

  const measure = (name: string, fn: typeof jsSplices, edits: Patch[]): Row => {
    fn(trace, edits.slice(0, Math.min(edits.length, 2_000))); // warm-up (JIT)
    const { ms, text } = fn(trace, edits);
    const ok =
      expected === null || edits.length < patches.length
        ? 'n/a (partial run)'
        : text === expected
          ? 'yes'
          : 'NO';
    if (ok === 'NO') throw new Error(`${name}: final text differs from the trace's endContent`);
    return {
      name,
      edits: edits.length,
      ms,
      fullMs: (ms * patches.length) / edits.length,
      extrapolated: edits.length < patches.length,
      ok,
    };
  };
  const estimate = (name: string, fn: typeof jsSplices): Row => {
    fn(trace, patches.slice(0, 2_000)); // warm-up (JIT)
    const e = sampled(trace, patches, fn, windows, windowSize);
    return { name, edits: e.edits, ms: e.ms, fullMs: e.fullMs, extrapolated: true, ok: 'n/a (sampled)' };
  };

  const rows = [
    measure('@tandem/ot ropeType (json1 ops via builder)', tandemRope, full),
    measure('bare JS string splices', jsSplices, full),
    measure('Yjs Y.Text', yjs, full),
    estimate('raw ot-text-unicode, plain string', textUnicodePlain),
    estimate('raw ot-json1, plain string', json1Plain),
  ];
  const base = rows[0].fullMs;
  printTable(
    [
      'system',
      'edits run',
      'time (ms)',
      'whole trace (ms)',
      'µs / edit (whole trace)',
      '× @tandem/ot',
      'final text = endContent',
    ],
    rows.map((r) => [
      r.name,
      r.edits.toLocaleString('en-US'),
      r.ms,
      `${formatNumber(r.fullMs)}${r.extrapolated ? ' (estimated)' : ''}`,
      (r.fullMs * 1000) / patches.length,
      `${formatNumber(r.fullMs / base)}×`,
      r.ok,
    ]),
  );
  console.log(
    `${patches.length.toLocaleString('en-US')} edits, final text ${trace.endContent.length.toLocaleString('en-US')} chars. Times are process CPU time.` +
      ` Plain-string rows ran ${windows} windows of ${windowSize.toLocaleString('en-US')} edits spread over the trace,` +
      ' each from the real text at its start; whole-trace time = Σ window µs/edit × edits it stands for.' +
      (options.quick ? ' Quick run: full-run rows cover the first 20,000 edits only (scaled).' : ''),
  );
}
