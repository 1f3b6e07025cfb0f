import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Moves WAL checkpoints off the commit path. SQLite's automatic checkpoint runs inside whichever
 * commit crosses the threshold: that commit copies the WAL into the database and fsyncs both, on
 * the event loop. Here a worker thread with its own connection runs PASSIVE checkpoints on a timer
 * instead (PASSIVE never blocks writers), and the main connection's automatic checkpoint stays as a
 * backstop at a high threshold in case the worker falls behind.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
db.pragma('synchronous = ' + workerData.synchronous);
const checkpoint = () => { try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {} };
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/** How often the worker checkpoints. Short enough to keep the WAL small, long enough to batch pages. */
export const CHECKPOINT_INTERVAL_MS = 500;
/** The main connection's own checkpoint threshold (pages), only reached if the worker falls behind. */
export const BACKSTOP_CHECKPOINT_PAGES = 20_000;

export interface Checkpointer {
  /** Ask the worker for a last checkpoint and to close its connection; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Start a checkpointer for a WAL database file, or return undefined if workers are unavailable. */
export function startCheckpointer(options: {
  path: string;
  synchronous: string;
  busyTimeoutMs: number;
}): Checkpointer | undefined {
  let worker: Worker;
  try {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ...options, driver, intervalMs: CHECKPOINT_INTERVAL_MS },
    });
  } catch {
    return undefined;
  }
  // A checkpoint failure only means the backstop does the work; never crash the host for it.
  worker.on('error', () => undefined);
  worker.unref();
  // The worker holds its own connection to the file: until it exits it may still write the WAL or
  // -shm files, so whoever closes the store waits for it (a file removed after close stays removed).
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    stop: () => {
      // Referenced again while stopping: whoever awaits the exit must not see the loop drain first.
      worker.ref();
      worker.postMessage('stop');
      return exited;
    },
  };
}
