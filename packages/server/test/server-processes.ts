// Real server OS processes for scale-out tests: each runs a fixture under tsx, prints its ws:// URL
// when listening, and answers one-line JSON commands on stdin ({ id, … } → { id, … }).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

export interface ServerProcess {
  process: ChildProcess;
  url: string;
  /** Send a command; resolves with the child's reply. */
  ask(command: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/**
 * A temp directory for the processes' shared SQLite file, a unique Redis prefix, and `start()`;
 * after the file's tests every child is killed (and awaited) and the directory removed.
 */
export function serverProcesses(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `tandem-${name}-`));
  const children: ChildProcess[] = [];
  afterAll(async () => {
    const alive = children.filter((child) => child.exitCode === null && child.signalCode === null);
    const exits = alive.map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of alive) child.kill('SIGKILL');
    await Promise.all(exits);
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  });

  /** `fixture`: a file in ./fixtures, or the URL of another package's fixture. */
  function start(fixture: string | URL, args: string[]): Promise<ServerProcess> {
    // `source` resolves workspace packages to src/, as vitest's aliases do.
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        fileURLToPath(
          typeof fixture === 'string' ? new URL(`./fixtures/${fixture}`, import.meta.url) : fixture,
        ),
        ...args,
      ],
      { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(child);
    const waiting = new Map<number, (reply: Record<string, unknown>) => void>();
    let next = 0;
    const ask = (command: Record<string, unknown>) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const id = ++next;
        waiting.set(id, resolve);
        child.stdin?.write(`${JSON.stringify({ ...command, id })}\n`);
      });
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (line.startsWith('ws://')) return resolve({ process: child, url: line.trim(), ask });
        if (!line.startsWith('{')) return;
        const reply = JSON.parse(line) as { id: number };
        waiting.get(reply.id)?.(reply);
        waiting.delete(reply.id);
      });
      child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
      // Generous: on a shared machine under load a start has taken over 20 s.
      setTimeout(() => reject(new Error('server did not start')), 60_000).unref();
    });
  }

  return {
    start,
    /** The `sqlite:` URL of one file in the directory, shared by the processes given it. */
    storage: (file = 'shared.db') => `sqlite:${join(dir, file)}`,
    prefix: `tandem-${name}-${process.pid}-${Date.now()}`,
  };
}
