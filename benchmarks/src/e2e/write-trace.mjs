/**
 * Diagnostic preload for the server under test (`E2E_WRITE_TRACE=1`; the harness adds it with
 * `--import` and lets the server exit cleanly): where an op's time goes inside the server, seen from
 * its sockets. Every read from a client socket and every write to one is stamped (net.Socket, so it
 * sees every system alike, whatever WebSocket library it uses; `ws` makes two socket writes per
 * frame, header and payload, which it corks into one syscall). An op is a read from one of the
 * room's typists (the ROOMS_TYPISTS sockets that sent most), and its fan-out is the writes until the
 * next such read: meant for open-loop cells, where ops rarely overlap. At exit it prints, over the
 * middle 60 % of what was stamped (the first 1.5 M reads and writes): read → first write, read →
 * write to each other typist, read → last write, and where the typists' writes fall in the fan-out
 * (their median position, 0 = first, 1 = last).
 */
import net from 'node:net';

const INDEX = Symbol('joinIndex');
const LIMIT = 3_000_000;
const TYPISTS = Number(process.env.ROOMS_TYPISTS ?? 10);
let joined = 0;
/** [time, socket index] per write; [time, socket index] per read. */
const writes = [];
const reads = [];

const emit = net.Server.prototype.emit;
net.Server.prototype.emit = function (event, socket, ...rest) {
  if (event === 'connection' && socket !== undefined && socket[INDEX] === undefined) socket[INDEX] = joined++;
  return emit.call(this, event, socket, ...rest);
};
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function (...args) {
  if (this[INDEX] !== undefined && writes.length < LIMIT) writes.push(performance.now(), this[INDEX]);
  return write.apply(this, args);
};
const push = net.Socket.prototype.push;
net.Socket.prototype.push = function (chunk, ...rest) {
  if (chunk !== null && this[INDEX] !== undefined && reads.length < LIMIT)
    reads.push(performance.now(), this[INDEX]);
  return push.call(this, chunk, ...rest);
};

const percentile = (values, p) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};

function summary() {
  const sent = new Map();
  for (let i = 1; i < reads.length; i += 2) sent.set(reads[i], (sent.get(reads[i]) ?? 0) + 1);
  const typists = new Set(
    [...sent]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TYPISTS)
      .map(([index]) => index),
  );
  const events = [];
  for (let i = 0; i < reads.length; i += 2)
    if (typists.has(reads[i + 1])) events.push([reads[i], -1 - reads[i + 1]]);
  for (let i = 0; i < writes.length; i += 2) events.push([writes[i], writes[i + 1]]);
  if (events.length === 0) return 'no traffic';
  events.sort((a, b) => a[0] - b[0]);
  const first = events[0][0];
  const span = events[events.length - 1][0] - first;
  const from = first + span * 0.2;
  const to = first + span * 0.8;
  const ops = [];
  let op;
  for (const [t, who] of events) {
    if (t < from || t > to) continue;
    if (who < 0) {
      op = { at: t, from: -1 - who, writes: [] };
      ops.push(op);
    } else if (op !== undefined) op.writes.push([t - op.at, who]);
  }
  // A fan-out writes to most of the room; shorter runs of writes are replies (acks, presence).
  const widest = ops.reduce((n, o) => Math.max(n, o.writes.length), 0);
  const fanouts = ops.filter((o) => o.writes.length >= widest / 2);
  const firstWrite = fanouts.map((o) => o.writes[0][0]);
  const lastWrite = fanouts.map((o) => o.writes[o.writes.length - 1][0]);
  const toTypists = [];
  const positions = [];
  for (const o of fanouts)
    o.writes.forEach(([dt, who], i) => {
      if (!typists.has(who) || who === o.from) return;
      toTypists.push(dt);
      positions.push(i / (o.writes.length - 1));
    });
  const ms = (v) => `${v.toFixed(2)} ms`;
  const both = (values) => `p50 ${ms(percentile(values, 50))} p99 ${ms(percentile(values, 99))}`;
  return [
    `${fanouts.length} fan-outs of ~${percentile(
      fanouts.map((o) => o.writes.length),
      50,
    )} socket writes`,
    `read → first write ${both(firstWrite)}`,
    `→ other typists ${both(toTypists)}`,
    `→ last write ${both(lastWrite)}`,
    `typists' position in the fan-out ${percentile(positions, 50)?.toFixed(2)}`,
  ].join(' | ');
}

process.on('exit', () => {
  process.stderr.write(`[write-trace ${process.argv[2] ?? ''}] ${summary()}\n`);
});
