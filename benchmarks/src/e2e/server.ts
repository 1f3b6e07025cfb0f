/**
 * The server under test, run as its own child process (pinned to one core by the orchestrator):
 * `node --expose-gc --conditions=source --import tsx src/e2e/server.ts <ws|sharedb|hocuspocus|tandem>`.
 * Listens on 127.0.0.1 at an ephemeral port, reports `{type:'ready', url}` over IPC, and answers
 * snapshot requests (RSS, heap, CPU time, Tandem metrics) — after a full GC when asked and exposed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { ServerMessage, ServerRequest } from './types';

type Snapshotter = () => Record<string, unknown> | undefined;

function send(message: ServerMessage): void {
  process.send?.(message);
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`ws://127.0.0.1:${port}`);
    });
  });
}

function toBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
}

/** The ceiling: every received frame goes, as received, to every other socket; the sender gets a 1-byte ack. */
async function bareWs(): Promise<string> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  const ack = Buffer.from('k');
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      for (const other of wss.clients) {
        if (other !== ws && other.readyState === 1) other.send(data, { binary: isBinary });
      }
      ws.send(ack, { binary: false });
    });
  });
  return listen(http);
}

/** ShareDB's documented transport: a ws socket wrapped as an object-mode Duplex, JSON per frame. */
class WsJsonStream extends Duplex {
  constructor(private readonly ws: WebSocket) {
    super({ objectMode: true });
    ws.on('message', (data: RawData) => {
      let message: unknown;
      try {
        message = JSON.parse(toBuffer(data).toString('utf8'));
      } catch {
        this.destroy(new Error('bad JSON'));
        return;
      }
      this.push(message);
    });
    ws.on('close', () => {
      this.push(null);
      this.end();
      this.emit('close');
      this.emit('end');
    });
    ws.on('error', () => {});
    this.on('error', () => ws.close());
    this.on('end', () => ws.close());
  }
  override _read(): void {}
  override _write(message: unknown, _encoding: string, callback: (error?: Error | null) => void): void {
    if (this.ws.readyState === 1) this.ws.send(JSON.stringify(message));
    callback();
  }
}

async function rawShareDb(): Promise<string> {
  const ShareDB = (await import('sharedb')).default;
  const json1 = (await import('ot-json1')) as { type?: unknown; default?: { type: unknown } };
  ShareDB.types.register((json1.type ?? json1.default?.type) as never);
  const backend = new ShareDB();
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws, request) => backend.listen(new WsJsonStream(ws) as never, request));
  return listen(http);
}

async function hocuspocus(): Promise<string> {
  const { Server } = await import('@hocuspocus/server');
  const server = new Server({ port: 0, address: '127.0.0.1', quiet: true });
  await server.listen();
  const { port } = server.httpServer.address() as AddressInfo;
  return `ws://127.0.0.1:${port}`;
}

let tandemMetrics: Snapshotter = () => undefined;
let anonymous = 0;

/**
 * Optional third argument (JSON): `rateLimits` to turn limits on (the flood suite), with an
 * `authenticate` hook that makes `?token=` the user id (no token: a fresh anonymous user).
 */
interface TandemServerConfig {
  rateLimits?: import('@tandem/server').RateLimitOptions;
}

async function tandem(): Promise<string> {
  const { attach } = await import('@tandem/server');
  const config = JSON.parse(process.argv[3] ?? '{}') as TandemServerConfig;
  // Every other default stays on (conflicts, history stamping, validation); rate limits are off
  // because a full-speed load test is, by design, over any per-socket limit.
  const limited = config.rateLimits !== undefined;
  const attached = await attach(
    { port: 0, host: '127.0.0.1' },
    {
      storage: process.env.E2E_TANDEM_STORAGE ?? 'memory:',
      rateLimits: config.rateLimits ?? false,
      hooks: limited ? { authenticate: ({ token }) => ({ id: token ?? `anon-${++anonymous}` }) } : {},
    },
  );
  await attached.tandem.ready;
  tandemMetrics = () => attached.tandem.metrics() as unknown as Record<string, unknown>;
  return attached.url();
}

const starters = { ws: bareWs, sharedb: rawShareDb, hocuspocus, tandem } as const;

async function main(): Promise<void> {
  const name = process.argv[2] as keyof typeof starters;
  const start = starters[name];
  if (start === undefined) throw new Error(`unknown server ${name}`);
  if (process.env.E2E_WRITE_TRACE !== undefined)
    (await import('./write-trace')).traceWrites(name, Number(process.env.ROOMS_TYPISTS ?? 10));
  const url = await start();
  process.on('message', async (request: ServerRequest) => {
    if (request.type !== 'snapshot') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (request.gc && gc !== undefined) {
      // Twice with a pause between: closed sockets and finalizers release memory in steps.
      gc();
      await new Promise((resolve) => setTimeout(resolve, 200));
      gc();
    }
    const memory = process.memoryUsage();
    if (request.gc && process.env.E2E_HEAPSNAP !== undefined) {
      const { writeHeapSnapshot } = await import('node:v8');
      writeHeapSnapshot(`${process.env.E2E_HEAPSNAP}/${name}-${request.id}.heapsnapshot`);
    }
    const cpu = process.cpuUsage();
    send({
      type: 'snapshot',
      id: request.id,
      rss: memory.rss,
      heapUsed: memory.heapUsed + memory.external,
      cpuMicros: cpu.user + cpu.system,
      metrics: tandemMetrics(),
    });
  });
  // The orchestrator going away (even killed) closes the IPC channel: never outlive it.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: String((error as Error)?.stack ?? error) });
  process.exit(1);
});
