/**
 * ShareDB messages, rebuilt field by field from what ShareDB's Agent reads for each action
 * (sharedb 5.2 `Agent._handleMessage`, `createClientOp`, `getQueryOptions`, `_createPresence`), with
 * each field's type checked. Only the rebuilt message goes on: ShareDB never sees a field it would
 * store, publish or echo back without our knowing, and a malformed request is answered here with
 * INVALID_MESSAGE rather than deep inside the engine. The field lists are what the stock ShareDB
 * client sends (sharedb/lib/client); anything else a client adds is dropped.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import { isResumableClientId } from '../security/client-ids';

type Message = Record<string, unknown>;

/** Caps on what one message may name (the limiter charges by the same count, see `costOf`). */
export interface ShapeLimits {
  /** Documents one bulk fetch/subscribe/unsubscribe or query resubscribe may name. */
  maxBulkIds: number;
}

/** Longest collection, document id, presence channel or client id accepted. */
const MAX_NAME = 1024;

class Malformed extends Error {
  constructor(
    readonly field: string,
    readonly why: string,
  ) {
    super(why);
  }
}

function fail(field: string, why: string): never {
  throw new Malformed(field, why);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names ShareDB itself refuses (`util.isDangerousProperty`): they would reach plain-object maps. */
const RESERVED_NAMES = new Set(['__proto__', ...Object.getOwnPropertyNames(Object.prototype)]);

function name(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAME)
    fail(field, `must be a non-empty string of at most ${MAX_NAME} characters`);
  if (RESERVED_NAMES.has(value)) fail(field, 'is a reserved name');
  return value;
}

function collection(value: unknown): string {
  return name(value, 'c');
}

/**
 * A document's presence channel is `collection.id`: with a dot in the collection two documents
 * would share one (`a.b` + `c` and `a` + `b.c`), so documents of such collections have no presence.
 */
function presenceCollection(value: unknown): string {
  const c = name(value, 'c');
  if (c.includes('.')) fail('c', 'must not contain a dot for presence');
  return c;
}

function count(value: unknown, field: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    fail(field, `must be an integer >= ${min}`);
  return value;
}

function version(value: unknown, field = 'v'): number | null {
  return value === undefined || value === null ? null : count(value, field);
}

function ids(value: unknown, field: string, limits: ShapeLimits): string[] {
  if (!Array.isArray(value)) fail(field, 'must be an array of document ids');
  if (value.length > limits.maxBulkIds) throw tooMany(field, value.length, limits);
  return value.map((id) => name(id, field));
}

function tooMany(field: string, actual: number, limits: ShapeLimits): TandemError {
  return new TandemError(ErrorCode.TOO_LARGE, `too many documents in one message (${field})`, {
    what: 'documents',
    limit: limits.maxBulkIds,
    actual,
  });
}

/** `b` of a bulk fetch/subscribe: ids (snapshots wanted) or `{ id: version }` (ops since). */
function bulk(value: unknown, limits: ShapeLimits): string[] | Record<string, number> {
  if (Array.isArray(value)) return ids(value, 'b', limits);
  if (!isObject(value)) fail('b', 'must be ids or { id: version }');
  const keys = Object.keys(value);
  if (keys.length > limits.maxBulkIds) throw tooMany('b', keys.length, limits);
  const versions: Record<string, number> = Object.create(null);
  for (const id of keys) versions[name(id, 'b')] = count(value[id], 'b');
  return versions;
}

/** A query resubscribe's known results `[[id, version | null], …]`: what ShareDB fetches. */
function results(value: unknown, limits: ShapeLimits): [string, number | null][] {
  if (!Array.isArray(value)) fail('r', 'must be an array of [id, version]');
  if (value.length > limits.maxBulkIds) throw tooMany('r', value.length, limits);
  return value.map((entry) => {
    if (!Array.isArray(entry)) fail('r', 'must be an array of [id, version]');
    return [name(entry[0], 'r'), version(entry[1], 'r')];
  });
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return name(value, field);
}

const builders: Record<string, (m: Message, limits: ShapeLimits) => Message> = {
  hs: (m) => {
    const out: Message = { a: 'hs' };
    // Resuming an earlier id; one this server could not have handed out is dropped (the client
    // then gets a new one), see security/client-ids.ts.
    const id = optionalString(m.id, 'id');
    if (id !== undefined && isResumableClientId(id)) out.id = id;
    if (m.protocol !== undefined) out.protocol = count(m.protocol, 'protocol');
    if (m.protocolMinor !== undefined) out.protocolMinor = count(m.protocolMinor, 'protocolMinor');
    return out;
  },
  qf: (m, limits) => query('qf', m, limits),
  qs: (m, limits) => query('qs', m, limits),
  qu: (m) => ({ a: 'qu', id: count(m.id, 'id') }),
  bf: (m, limits) => ({ a: 'bf', c: collection(m.c), b: bulk(m.b, limits) }),
  bs: (m, limits) => ({ a: 'bs', c: collection(m.c), b: bulk(m.b, limits) }),
  bu: (m, limits) => ({ a: 'bu', c: collection(m.c), b: ids(m.b, 'b', limits) }),
  f: (m) => ({ a: 'f', c: collection(m.c), d: name(m.d, 'd'), v: version(m.v) }),
  s: (m) => ({ a: 's', c: collection(m.c), d: name(m.d, 'd'), v: version(m.v) }),
  u: (m) => ({ a: 'u', c: collection(m.c), d: name(m.d, 'd') }),
  op: (m) => {
    const out: Message = {
      a: 'op',
      c: collection(m.c),
      d: name(m.d, 'd'),
      v: version(m.v),
      seq: count(m.seq, 'seq', 1),
    };
    const src = optionalString(m.src, 'src');
    if (src !== undefined && !isResumableClientId(src))
      fail('src', 'is not a client id this server handed out');
    if (src !== undefined) out.src = src;
    // `x.source` is the submitter's own note (history keeps its message and intent).
    if (isObject(m.x) && m.x.source !== undefined) out.x = { source: m.x.source };
    const kinds = Number('op' in m) + Number(m.create !== undefined) + Number(m.del !== undefined);
    if (kinds !== 1) fail('op', 'needs exactly one of op, create or del');
    if ('op' in m) out.op = m.op;
    else if (m.create !== undefined) {
      if (!isObject(m.create)) fail('create', 'must be { type, data }');
      out.create = { type: name(m.create.type, 'create.type'), data: m.create.data };
    } else {
      if (m.del !== true) fail('del', 'must be true');
      out.del = true;
    }
    return out;
  },
  nf: (m) => ({ a: 'nf', id: count(m.id, 'id'), c: collection(m.c), d: name(m.d, 'd'), v: version(m.v) }),
  nt: (m) => {
    const ts = m.ts === undefined || m.ts === null ? null : count(m.ts, 'ts');
    return { a: 'nt', id: count(m.id, 'id'), c: collection(m.c), d: name(m.d, 'd'), ts };
  },
  pp: () => ({ a: 'pp' }),
  p: (m) => {
    // Tandem's presence is document presence: ShareDB publishes on `ch` and transforms with `c`/`d`,
    // so the two must name the same document.
    const c = presenceCollection(m.c);
    const d = name(m.d, 'd');
    const ch = name(m.ch, 'ch');
    if (ch !== `${c}.${d}`) fail('ch', 'must be the channel of the document named by c and d');
    return {
      a: 'p',
      ch,
      id: name(m.id, 'id'),
      p: m.p === undefined ? null : m.p,
      pv: count(m.pv, 'pv'),
      c,
      d,
      v: version(m.v),
      t: optionalString(m.t, 't') ?? null,
    };
  },
  ps: (m) => ({ a: 'ps', ch: name(m.ch, 'ch'), seq: count(m.seq, 'seq') }),
  pu: (m) => ({ a: 'pu', ch: name(m.ch, 'ch'), seq: count(m.seq, 'seq') }),
  pr: (m) => ({ a: 'pr', ch: name(m.ch, 'ch') }),
};

/**
 * A query. Its options `o` never come from the client: ShareDB reads the database to use
 * (`o.db`, a key into a plain object) and the poll interval from them, and rebuilds `ids`, `fetch`
 * and `fetchOps` from `r` anyway. The stock client sends options only when its caller passes some.
 */
function query(a: 'qf' | 'qs', m: Message, limits: ShapeLimits): Message {
  if (!isObject(m.q)) fail('q', 'must be an object');
  const out: Message = { a, id: count(m.id, 'id'), c: collection(m.c), q: m.q };
  if (m.r !== undefined && m.r !== null) out.r = results(m.r, limits);
  return out;
}

/** The ShareDB actions a client may send. */
export const SHAREDB_ACTIONS: ReadonlySet<string> = new Set(Object.keys(builders));

/**
 * The message ShareDB will be given for `message` (whose `a` is one of SHAREDB_ACTIONS), or the
 * error its sender gets.
 */
export function shapeMessage(message: Message, limits: ShapeLimits): Message | TandemError {
  const action = message.a as string;
  try {
    return builders[action](message, limits);
  } catch (error) {
    if (error instanceof TandemError) return error;
    if (error instanceof Malformed)
      return new TandemError(
        ErrorCode.INVALID_MESSAGE,
        `malformed '${action}' message: ${error.field} ${error.why}`,
        {
          reason: 'shape',
          action,
          field: error.field,
        },
      );
    throw error;
  }
}

/**
 * What a message costs the limiter, in messages' worth: one, or one per document it names (a bulk
 * subscribe of 1,000 documents is 1,000 subscribes' work for the server).
 */
export function costOf(message: Message): number {
  const named = message.a === 'qf' || message.a === 'qs' ? message.r : message.b;
  if (Array.isArray(named)) return Math.max(1, named.length);
  if (isObject(named)) return Math.max(1, Object.keys(named).length);
  return 1;
}

/** A document presence channel split into its collection and id (collections hold no dot). */
export function channelDoc(channel: string): { collection: string; id: string } | undefined {
  const dot = channel.indexOf('.');
  return dot <= 0 || dot === channel.length - 1
    ? undefined
    : { collection: channel.slice(0, dot), id: channel.slice(dot + 1) };
}
