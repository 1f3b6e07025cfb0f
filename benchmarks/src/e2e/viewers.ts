/**
 * The room shape's viewers: sockets that join the room over each system's raw protocol and then
 * only count what arrives — frames, bytes, and ops found by a byte search (JSON `"a":"op"`, its
 * msgpack encoding, a Yjs sync-update header) — without decoding a single op. A viewer costs the
 * clients process a few microseconds per frame, so hundreds of them leave that process room to
 * measure the server.
 *
 * Counting is not trusting: after the drain each viewer proves it received every op of the room
 * against the server's own state (ShareDB: a fetch's version − the subscribed version; Yjs: the
 * text a fresh sync step returns − the text at joining, one character per keystroke; bare ws, which
 * has no state: every keystroke the typists sent).
 */
import { decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import {
  HP_AUTH,
  HP_SYNC,
  HP_SYNC_REPLY,
  Reader,
  SYNC_STEP1,
  SYNC_STEP2,
  SYNC_UPDATE,
  Writer,
} from './hocuspocus-wire';
import type { LoadStats } from './stats';
import type { LoadConfig, SystemName } from './types';

export interface Viewer {
  /** Ops (ShareDB), updates (Yjs) or relayed keystrokes (bare ws) received since joining. */
  readonly received: number;
  /**
   * Resolve once the viewer has received every op of the room (undefined), or with why not when
   * `deadline` (performance.now()) passes. `typed`: keystrokes sent by all typists (for bare ws).
   */
  verify(typed: number, deadline: number): Promise<string | undefined>;
  close(): void;
}

export type OpenViewer = (index: number) => Promise<Viewer>;

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Occurrences of `marker` in `frame` (a native byte search; no decoding). */
export function occurrences(frame: Buffer, marker: Buffer): number {
  let n = 0;
  for (let i = frame.indexOf(marker); i !== -1; i = frame.indexOf(marker, i + marker.length)) n++;
  return n;
}

type Frame = Buffer | ArrayBuffer | Buffer[];
const asBuffer = (data: Frame): Buffer =>
  Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);

function openSocket(url: string, protocols: string[]): Promise<WebSocket> {
  // A viewer trusts the server's UTF-8: validating it would be the clients process's cost, not the server's.
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false, skipUTF8Validation: true });
  ws.binaryType = 'nodebuffer';
  ws.on('error', () => {});
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Poll until `done()` or the deadline; the answer says which. */
async function until(done: () => boolean, deadline: number): Promise<boolean> {
  while (!done() && now() < deadline) await sleep(10);
  return done();
}

// ---------------------------------------------------------------- ShareDB protocol (ShareDB, Tandem)

interface ShareDbWire {
  protocols: string[];
  encode(message: unknown): string | Uint8Array;
  /** One message, or a batch (array) of them. */
  decode(frame: Buffer): unknown;
  /** The bytes of `a: 'op'` and `a: 'f'` as the server encodes them (one op message each). */
  op: Buffer;
  fetch: Buffer;
}

const plainJson: ShareDbWire = {
  protocols: [],
  encode: (message) => JSON.stringify(message),
  decode: (frame) => JSON.parse(frame.toString('utf8')),
  op: Buffer.from('"a":"op"'),
  fetch: Buffer.from('"a":"f"'),
};
const tandemJson: ShareDbWire = { ...plainJson, protocols: ['tandem.json.v1'] };
// fixstr "a" then fixstr "op" / "f": typed text is ASCII, so these bytes occur nowhere else.
const tandemMsgpack: ShareDbWire = {
  protocols: ['tandem.msgpack.v1'],
  encode: (message) => msgpackEncode(message, { ignoreUndefined: true }),
  decode: (frame) => msgpackDecode(frame),
  op: Buffer.from([0xa1, 0x61, 0xa2, 0x6f, 0x70]),
  fetch: Buffer.from([0xa1, 0x61, 0xa1, 0x66]),
};

interface ShareDbReply {
  a?: string;
  c?: string;
  d?: string;
  data?: { v?: number };
  error?: { message?: string };
}

const messagesOf = (decoded: unknown): ShareDbReply[] =>
  (Array.isArray(decoded) ? decoded : [decoded]) as ShareDbReply[];

function shareDbViewer(config: LoadConfig, stats: LoadStats, wire: ShareDbWire): OpenViewer {
  const { collection: c, docId: d } = config;
  /** The reply to action `a` for the room, if this frame carries one. */
  const replyIn = (frame: Buffer, a: string): ShareDbReply | undefined =>
    messagesOf(wire.decode(frame)).find((m) => m?.a === a && m.c === c && m.d === d);
  return async () => {
    const ws = await openSocket(config.url, wire.protocols);
    let base: number | undefined;
    let latest: number | undefined;
    let fetching = false;
    let received = 0;
    let failure: string | undefined;
    const joined = new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Frame) => {
        const frame = asBuffer(data);
        if (base === undefined) {
          // Joining: the room is quiet, so these few frames are decoded whole.
          const reply = replyIn(frame, 's');
          if (reply?.error !== undefined) reject(new Error(`subscribe: ${reply.error.message}`));
          else if (reply !== undefined) {
            base = reply.data?.v ?? 0;
            resolve();
          }
          return;
        }
        const ops = occurrences(frame, wire.op);
        received += ops;
        stats.view(frame.length, ops, now());
        if (fetching && frame.includes(wire.fetch)) {
          const reply = replyIn(frame, 'f');
          if (reply?.error !== undefined) failure = `fetch: ${reply.error.message}`;
          else if (reply !== undefined) latest = reply.data?.v;
        }
      });
      ws.once('close', () => reject(new Error('closed while joining')));
    });
    ws.send(wire.encode({ a: 'hs', id: null, protocol: 1, protocolMinor: 1 }));
    ws.send(wire.encode({ a: 's', c, d }));
    await joined;
    return {
      get received() {
        return received;
      },
      async verify(_typed, deadline) {
        fetching = true;
        ws.send(wire.encode({ a: 'f', c, d }));
        // Ops still on their way may arrive after the fetch reply: wait for the count to catch up.
        const done = () =>
          failure !== undefined || (latest !== undefined && (base ?? 0) + received >= latest);
        await until(done, deadline);
        if (failure !== undefined) return failure;
        if (latest === undefined) return 'no fetch reply';
        const have = (base ?? 0) + received;
        return have === latest ? undefined : `counted ops up to v${have}, server at v${latest}`;
      },
      close: () => ws.terminate(),
    };
  };
}

// ---------------------------------------------------------------- Hocuspocus / Yjs

/** Length of the text in a sync step 2 (a whole-document update), applied to a fresh Y.Doc. */
function textLength(update: Uint8Array): number {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return doc.getText('text').length;
}

function yjsViewer(config: LoadConfig, stats: LoadStats): OpenViewer {
  const frame = (type: number) => new Writer().string(config.docId).uint(type);
  const step1 = () => frame(HP_SYNC).uint(SYNC_STEP1).array(Y.encodeStateVector(new Y.Doc())).done();
  // What a viewer, which never applies anything, answers the server's sync step 1 with.
  const emptyStep2 = frame(HP_SYNC).uint(SYNC_STEP2).array(Y.encodeStateAsUpdate(new Y.Doc())).done();
  return async () => {
    const ws = await openSocket(config.url, []);
    let base: number | undefined;
    let latest: number | undefined;
    let received = 0;
    const joined = new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Frame) => {
        const bytes = asBuffer(data);
        const reader = new Reader(bytes);
        const type = reader.skipString().uint();
        const step = type === HP_SYNC || type === HP_SYNC_REPLY ? reader.uint() : undefined;
        const update = step === SYNC_UPDATE ? 1 : 0;
        if (base !== undefined) {
          received += update;
          stats.view(bytes.length, update, now());
        }
        if (step === SYNC_STEP1) ws.send(emptyStep2);
        else if (step === SYNC_STEP2) {
          // The whole document: once when joining, once more when verifying.
          const length = textLength(reader.array());
          if (base === undefined) {
            base = length;
            resolve();
          } else latest = length;
        }
      });
      ws.once('close', () => reject(new Error('closed while joining')));
    });
    ws.send(frame(HP_AUTH).uint(0).string('token').done());
    ws.send(step1());
    await joined;
    return {
      get received() {
        return received;
      },
      async verify(_typed, deadline) {
        latest = undefined;
        ws.send(step1());
        // One character per keystroke, and one update per keystroke.
        const done = () => latest !== undefined && (base ?? 0) + received >= latest;
        await until(done, deadline);
        if (latest === undefined) return 'no sync step 2';
        const have = (base ?? 0) + received;
        return have === latest
          ? undefined
          : `counted ${have - (base ?? 0)} updates, server text grew ${latest - (base ?? 0)}`;
      },
      close: () => ws.terminate(),
    };
  };
}

// ---------------------------------------------------------------- bare ws

function bareWsViewer(config: LoadConfig, stats: LoadStats): OpenViewer {
  return async () => {
    const ws = await openSocket(config.url, []);
    let received = 0;
    ws.on('message', (data: Frame) => {
      received++;
      stats.view(asBuffer(data).length, 1, now());
    });
    return {
      get received() {
        return received;
      },
      async verify(typed, deadline) {
        await until(() => received >= typed, deadline);
        return received === typed ? undefined : `received ${received} of ${typed} keystrokes`;
      },
      close: () => ws.terminate(),
    };
  };
}

export function viewerOpener(system: SystemName, config: LoadConfig, stats: LoadStats): OpenViewer {
  switch (system) {
    case 'ws':
      return bareWsViewer(config, stats);
    case 'sharedb':
    case 'tandem-stock':
      return shareDbViewer(config, stats, plainJson);
    case 'tandem-json':
      return shareDbViewer(config, stats, tandemJson);
    case 'tandem-msgpack':
      return shareDbViewer(config, stats, tandemMsgpack);
    case 'hocuspocus':
      return yjsViewer(config, stats);
  }
}
