// A private redis-server for a test that stops and restarts Redis (the machine's shared one is never
// touched): bound to one address, on a port free there, without persistence, so a restart comes
// back empty as a crashed cache would.
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

export interface PrivateRedis {
  url: string;
  /** SIGKILL it (no goodbye to its clients), wait for the exit, start it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function launch(host: string, port: number, extra: readonly string[]): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      ...[
        '--bind',
        host,
        '--port',
        String(port),
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
      ],
      // It listens on the test's private network only; protected mode would refuse the other hosts.
      ...['--protected-mode', 'no'],
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  // With --loglevel warning it prints nothing once it listens: connect until it answers.
  return new Promise((resolve, reject) => {
    const started = Date.now();
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)));
    child.once('error', reject);
    const attempt = () => {
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(child);
      });
      socket.once('error', () => {
        if (Date.now() - started > 10_000) return reject(new Error('redis-server did not listen'));
        setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

/** `extra`: more redis-server arguments (e.g. `['--requirepass', secret]`). */
export async function privateRedis(host = '127.0.0.1', extra: readonly string[] = []): Promise<PrivateRedis> {
  const port = await freePort(host);
  let child = await launch(host, port, extra);
  // Never outlive the test process, even when it exits without its afterAll.
  const orphaned = () => child.kill('SIGKILL');
  process.once('exit', orphaned);
  const stop = async () => {
    process.off('exit', orphaned);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    url: `redis://${host}:${port}`,
    async restart() {
      await stop();
      child = await launch(host, port, extra);
    },
    stop,
  };
}
