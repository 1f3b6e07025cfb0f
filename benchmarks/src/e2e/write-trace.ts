/**
 * Diagnostic for the server under test (`E2E_WRITE_TRACE=1`: server.ts installs it before it
 * listens, and the harness lets the server exit cleanly so that it can report): where an op's time
 * goes inside the server, seen from its sockets. Every read from a client socket and every write to
 * one is stamped (net.Socket, so it sees every system alike, whatever WebSocket library it uses;
 * `ws` makes two socket writes per frame, header and payload, which it corks into one syscall). An
 * op is a read from one of the room's typists (the ROOMS_TYPISTS sockets that sent most), and its
 * fan-out is the writes until the next such read: meant for open-loop cells, where ops rarely
 * overlap. At exit it prints, over the middle 60 % of what was stamped (the first 1.5 M reads and
 * writes): read → first write, read → write to each other typist, read → last write, and where the
 * typists' writes fall in the fan-out (their median position, 0 = first, 1 = last).
 *
 * Three more lines say why an op was slow. `stalls`: ops whose first write came over 1 ms after
 * the read, how many of them a reported GC pause overlapped, and how many had the process off its
 * core (wall time minus the process's CPU time over half the wall: another process ran; otherwise
 * this process's own threads did, main or V8's helpers). `threads`: CPU of the threads other than
 * main (V8's GC and compiler helpers share the server's one pinned core) as a share of main's, over
 * the middle half of the run. `stages`: median ms from the read to each ShareDB middleware action.
 */
import fs from 'node:fs';
import net from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { percentile } from '../report';

const INDEX = Symbol('joinIndex');
const LIMIT = 3_000_000;
type Indexed = { [INDEX]?: number };

interface Op {
  at: number;
  from: number;
  /** [ms after the read, socket index] */
  writes: [number, number][];
}

function summary(reads: readonly number[], writes: readonly number[], typistCount: number): string {
  const sent = new Map<number, number>();
  for (let i = 1; i < reads.length; i += 2) sent.set(reads[i], (sent.get(reads[i]) ?? 0) + 1);
  const typists = new Set(
    [...sent]
      .sort((a, b) => b[1] - a[1])
      .slice(0, typistCount)
      .map(([index]) => index),
  );
  // [time, socket index] for writes, [time, −1 − socket index] for typists' reads.
  const events: [number, number][] = [];
  for (let i = 0; i < reads.length; i += 2)
    if (typists.has(reads[i + 1])) events.push([reads[i], -1 - reads[i + 1]]);
  for (let i = 0; i < writes.length; i += 2) events.push([writes[i], writes[i + 1]]);
  if (events.length === 0) return 'no traffic';
  events.sort((a, b) => a[0] - b[0]);
  const first = events[0][0];
  const span = events[events.length - 1][0] - first;
  const from = first + span * 0.2;
  const to = first + span * 0.8;
  const ops: Op[] = [];
  let op: Op | undefined;
  for (const [t, who] of events) {
    if (t < from || t > to) continue;
    if (who < 0) {
      op = { at: t, from: -1 - who, writes: [] };
      ops.push(op);
    } else if (op !== undefined) op.writes.push([t - op.at, who]);
  }
  // A fan-out writes to most of the room; shorter runs of writes are replies (acks, presence).
  // Judged against the usual run, not the widest: two ops written in one flush make one run twice
  // as long, which would hide every single fan-out.
  const usual = percentile(
    ops.filter((o) => o.writes.length > 0).map((o) => o.writes.length),
    90,
  );
  const fanouts = ops.filter((o) => o.writes.length > 0 && o.writes.length >= usual / 2);
  const toTypists: number[] = [];
  const positions: number[] = [];
  for (const o of fanouts)
    o.writes.forEach(([dt, who], i) => {
      if (!typists.has(who) || who === o.from) return;
      toTypists.push(dt);
      positions.push(i / Math.max(1, o.writes.length - 1));
    });
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  const both = (values: number[]) => `p50 ${ms(percentile(values, 50))} p99 ${ms(percentile(values, 99))}`;
  return [
    `${fanouts.length} fan-outs of ~${percentile(
      fanouts.map((o) => o.writes.length),
      50,
    )} socket writes`,
    `read → first write ${both(fanouts.map((o) => o.writes[0][0]))}`,
    `→ other typists ${both(toTypists)}`,
    `→ last write ${both(fanouts.map((o) => o.writes[o.writes.length - 1][0]))}`,
    `typists' position in the fan-out ${percentile(positions, 50).toFixed(2)}`,
    `ops read before the last one was written ${ops.filter((o) => o.writes.length === 0).length} of ${ops.length}`,
  ].join(' | ');
}

/** Process CPU time (all threads), µs. */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** [read, its first write] in wall ms and process CPU µs. */
type Span = [wallRead: number, cpuRead: number, wallWrite: number, cpuWrite: number];

function stalls(spans: readonly Span[], gcs: readonly [number, number][]): string {
  const slow = spans.filter(([r, , w]) => w - r > 1);
  const gc = slow.filter(([r, , w]) => gcs.some(([start, length]) => start < w && start + length > r));
  const off = slow.filter(([r, cr, w, cw]) => (w - r) * 1_000 - (cw - cr) > ((w - r) * 1_000) / 2);
  return `read → first write over 1 ms: ${slow.length} of ${spans.length} reads; a GC pause inside ${gc.length}; off the core ${off.length}`;
}

/** utime + stime of each thread of this process, in clock ticks. */
function threadTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks.set(tid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

function helperShare(samples: readonly Map<string, number>[]): string {
  const [a, b] = [samples[Math.floor(samples.length / 4)], samples[Math.floor((samples.length * 3) / 4)]];
  if (a === undefined || b === undefined || a === b) return 'too short';
  const main = String(process.pid);
  let mainTicks = 0;
  let helpers = 0;
  for (const [tid, t] of b) {
    const used = t - (a.get(tid) ?? 0);
    if (tid === main) mainTicks = used;
    else helpers += used;
  }
  return `other threads used ${helpers} ticks against main's ${mainTicks} (${((100 * helpers) / Math.max(1, mainTicks)).toFixed(0)} %)`;
}

/** Stamp every socket read and write from now on; print the summary when the process exits. */
export function traceWrites(label: string, typists: number): void {
  let joined = 0;
  const writes: number[] = [];
  const reads: number[] = [];
  const emit = net.Server.prototype.emit;
  net.Server.prototype.emit = function (this: net.Server, event: string | symbol, ...args: unknown[]) {
    const socket = args[0] as Indexed | undefined;
    if (event === 'connection' && socket !== undefined && socket[INDEX] === undefined)
      socket[INDEX] = joined++;
    return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
  };
  // The read that came last, until its first write: [wall ms, process CPU µs].
  let lastRead: [number, number] | undefined;
  const spans: Span[] = [];
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function (this: net.Socket & Indexed, ...args: unknown[]) {
    const index = this[INDEX];
    if (index !== undefined && writes.length < LIMIT) {
      const now = performance.now();
      writes.push(now, index);
      if (lastRead !== undefined) {
        spans.push([lastRead[0], lastRead[1], now, cpuMicros()]);
        lastRead = undefined;
      }
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  };
  const push = net.Socket.prototype.push;
  net.Socket.prototype.push = function (this: net.Socket & Indexed, chunk: unknown, ...rest: unknown[]) {
    const index = this[INDEX];
    if (chunk !== null && index !== undefined && reads.length < LIMIT) {
      const now = performance.now();
      reads.push(now, index);
      lastRead = [now, cpuMicros()];
    }
    return (push as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  const gcs: [number, number][] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcs.push([entry.startTime, entry.duration]);
  }).observe({ entryTypes: ['gc'] });
  const threads: Map<string, number>[] = [];
  setInterval(() => threads.push(threadTicks()), 1_000).unref();
  // Every ShareDB server here (raw, Tandem's) runs its middleware through Backend#trigger.
  const stages = new Map<string, number[]>();
  void import('sharedb').then(({ default: Backend }) => {
    const proto = (Backend as unknown as { prototype: { trigger: (...a: unknown[]) => unknown } }).prototype;
    const trigger = proto.trigger;
    proto.trigger = function (this: unknown, action: unknown, ...rest: unknown[]) {
      if (lastRead !== undefined) {
        const list = stages.get(String(action)) ?? [];
        stages.set(String(action), list);
        if (list.length < LIMIT) list.push(performance.now() - lastRead[0]);
      }
      return trigger.call(this, action, ...rest);
    };
  });
  process.on('exit', () => {
    const stageLine = [...stages]
      .map(([action, t]) => `${action} ${percentile(t, 50).toFixed(3)}`)
      .join(', ');
    const lines = [
      summary(reads, writes, typists),
      `stalls: ${stalls(spans, gcs)}`,
      `threads: ${helperShare(threads)}`,
      `stages (ms from the read, p50): ${stageLine || 'none (not a ShareDB server)'}`,
    ];
    for (const line of lines) process.stderr.write(`[write-trace ${label}] ${line}\n`);
  });
}
