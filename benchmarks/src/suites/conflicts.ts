/**
 * @tandem/conflicts: what classification costs per committed op on a hot document.
 *
 * Four writers (in-process ShareDB connections, all subscribed) edit one document at once: typing
 * into a shared text at random places and replacing small fields, each writer keeping one op in
 * flight, so most ops reach the server behind ops they had not seen and are transformed (and
 * classified) over them. The same run (same seed) with no middleware is the baseline. Variants
 * alternate within each round and each round yields one ratio per variant; the table shows the
 * median ratio, so a load spike on a shared machine skews one round, not the result. Both wall
 * time and process CPU time are measured; CPU time is what the middleware itself adds.
 * Ratio = with @tandem/conflicts ÷ without (target ≤ 1.15×).
 */
import { type ConflictRecord, installConflicts } from '@tandem/conflicts';
import { type Doc, type JSONOp, replace, spliceTextAtCodePoint, type } from '@tandem/ot';
import ShareDB from 'sharedb';
import type { Doc as ShareDoc } from 'sharedb/lib/client';
import { type BenchOptions, formatNumber, printTable, seededRandom } from '../report';

const WRITERS = 4;
const FIELDS = 10;

interface Variant {
  name: string;
  install?: (backend: ShareDB, records: ConflictRecord[]) => { close(): Promise<void> };
}

interface RunResult {
  ms: number;
  cpuMs: number;
  ops: number;
  transformedOver: number;
  records: number;
  retries: number;
}

function nextOp(data: Record<string, Doc>, rng: () => number, tag: string): JSONOp {
  if (rng() < 0.7) {
    const body = data.body as string;
    const at = Math.floor(rng() * (body.length + 1));
    return rng() < 0.2 && at < body.length
      ? spliceTextAtCodePoint(['body'], at, 1, tag)
      : spliceTextAtCodePoint(['body'], at, 0, tag);
  }
  const key = `f${Math.floor(rng() * FIELDS)}`;
  return replace([key], tag, data[key]);
}

const call = (fn: (cb: (err?: unknown) => void) => void) =>
  new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

async function runOnce(variant: Variant, opsPerWriter: number, seed: number): Promise<RunResult> {
  const backend = new ShareDB({ db: new ShareDB.MemoryDB() });
  const records: ConflictRecord[] = [];
  const installed = variant.install?.(backend, records);
  let transformedOver = 0;
  let retries = 0;
  backend.on('timing', (kind: string, _ms: number, request: { collection: string }) => {
    if (kind === 'submit.retry' && request.collection === 'bench') retries++;
  });
  backend.use('commit', (request: { ops: unknown[]; collection: string }, next: () => void) => {
    if (request.collection === 'bench') transformedOver += request.ops.length;
    next();
  });
  const initial: Record<string, Doc> = { body: 'the quick brown fox jumps over the lazy dog. '.repeat(20) };
  for (let i = 0; i < FIELDS; i++) initial[`f${i}`] = `v${i}`;
  const docs: ShareDoc[] = [];
  for (let w = 0; w < WRITERS; w++) docs.push(backend.connect().get('bench', 'hot'));
  await call((cb) => docs[0].create(initial, type.uri, cb));
  await Promise.all(docs.map((d) => call((cb) => d.subscribe(cb))));

  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(
    docs.map(async (doc, w) => {
      const rng = seededRandom(seed * 31 + w);
      for (let i = 0; i < opsPerWriter; i++) {
        await call((cb) => doc.submitOp(nextOp(doc.data, rng, `${w}`) as never, {}, cb));
      }
    }),
  );
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  await installed?.close();
  return { ms, cpuMs, ops: WRITERS * opsPerWriter, transformedOver, records: records.length, retries };
}

export async function run(options: BenchOptions): Promise<void> {
  // ShareDB's own logger would print nothing here, but keep it quiet regardless.
  (ShareDB as unknown as { logger: { setMethods(m: object): void } }).logger.setMethods({
    info() {},
    warn() {},
  });
  ShareDB.types.register(type as never);
  const opsPerWriter = options.quick ? 100 : 500;
  const rounds = options.quick ? 3 : 9;
  const variants: Variant[] = [
    { name: 'no middleware (baseline)' },
    {
      name: '@tandem/conflicts, default policies (merge)',
      install: (backend, records) => installConflicts(backend, { onConflict: (r) => void records.push(r) }),
    },
    {
      name: '@tandem/conflicts, last-writer-wins /f* + manual /body',
      install: (backend, records) =>
        installConflicts(backend, {
          policies: { bench: { '/body': 'manual', '/*': 'last-writer-wins' } },
          onConflict: (r) => void records.push(r),
        }),
    },
  ];
  const results = new Map<string, RunResult[]>(variants.map((v) => [v.name, []]));
  await runOnce(variants[0], 100, 0); // warm-up
  await runOnce(variants[1], 100, 0);
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) results.get(v.name)?.push(await runOnce(v, opsPerWriter, round + 1));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = results.get(variants[0].name) as RunResult[];
  printTable(
    [
      'variant',
      'committed ops',
      'wall µs / op',
      'wall ratio',
      'CPU µs / op',
      'CPU ratio',
      'transformed over (avg ops)',
      'retries / op',
      'records / run',
    ],
    variants.map((v) => {
      const rs = results.get(v.name) as RunResult[];
      const ops = rs[0].ops;
      return [
        v.name,
        ops,
        (median(rs.map((r) => r.ms)) * 1000) / ops,
        `${formatNumber(median(rs.map((r, i) => r.ms / base[i].ms)))}×`,
        (median(rs.map((r) => r.cpuMs)) * 1000) / ops,
        `${formatNumber(median(rs.map((r, i) => r.cpuMs / base[i].cpuMs)))}×`,
        formatNumber(median(rs.map((r) => r.transformedOver / r.ops))),
        formatNumber(median(rs.map((r) => r.retries / r.ops))),
        median(rs.map((r) => r.records)),
      ];
    }),
  );
  console.log(
    `${WRITERS} writers on one document, one op in flight each, ${opsPerWriter} ops per writer; medians of ${rounds} rounds (variants alternate within a round, same seed).`,
  );
}
