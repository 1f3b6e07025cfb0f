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
 */
import net from 'node:net';
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
  ].join(' | ');
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
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function (this: net.Socket & Indexed, ...args: unknown[]) {
    const index = this[INDEX];
    if (index !== undefined && writes.length < LIMIT) writes.push(performance.now(), index);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  };
  const push = net.Socket.prototype.push;
  net.Socket.prototype.push = function (this: net.Socket & Indexed, chunk: unknown, ...rest: unknown[]) {
    const index = this[INDEX];
    if (chunk !== null && index !== undefined && reads.length < LIMIT) reads.push(performance.now(), index);
    return (push as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  process.on('exit', () => {
    process.stderr.write(`[write-trace ${label}] ${summary(reads, writes, typists)}\n`);
  });
}
