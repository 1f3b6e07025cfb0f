/**
 * The comments suite's server, in its own process so its CPU time is its own:
 * `comments-server.ts <sqlite file> <rebaseEvery>`. Reports `{ type: 'ready', url }` over IPC and
 * answers `{ type: 'cpu' }` (its CPU time, µs), `{ type: 'ops', id }` (a document's op log) and
 * `{ type: 'close' }`.
 */
import { comments } from '@tandem/comments';
import { attach } from '@tandem/server';

const [file, rebaseEvery] = process.argv.slice(2);
const server = await attach(
  { port: 0 },
  {
    storage: `sqlite:${file}`,
    rateLimits: false,
    hooks: { authenticate: ({ token }) => ({ id: String(token) }) },
    extensions: [comments({ rebaseEvery: Number(rebaseEvery), maxThreadsPerDocument: 100_000 })],
  },
);
process.send?.({ type: 'ready', url: server.url() });
process.on('message', async (message: { type: string; id?: string }) => {
  if (message.type === 'cpu') {
    const cpu = process.cpuUsage();
    process.send?.({ type: 'cpu', micros: cpu.user + cpu.system });
  } else if (message.type === 'ops') {
    const backend = await server.tandem.backend();
    (backend.db as never as { getOps(...args: unknown[]): void }).getOps(
      'bench',
      message.id,
      0,
      null,
      {},
      (_error: unknown, ops: unknown[]) => process.send?.({ type: 'ops', ops }),
    );
  } else if (message.type === 'close') {
    await server.close();
    process.exit(0);
  }
});
