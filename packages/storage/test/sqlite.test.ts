import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isTandemError } from '@tandem/protocol';
import { SqliteDB, type StoredOp, type StoredSnapshot } from '@tandem/storage';
import { describe, expect, it } from 'vitest';
import { closed, tempFiles } from './helpers';

const files = tempFiles('sqlite');

const json0 = (id: string, v: number, data: unknown): StoredSnapshot => ({
  id,
  v,
  type: 'json0',
  data,
  m: null,
});

function commit(db: SqliteDB, id: string, op: StoredOp, snapshot: StoredSnapshot): Promise<boolean | Error> {
  return new Promise((resolve) =>
    db.commit('c', id, op, snapshot, null, (error, ok) => resolve(error ?? (ok as boolean))),
  );
}

describe('SQLite connection', () => {
  it('runs in WAL mode with synchronous NORMAL by default and FULL on request', async () => {
    const normal = new SqliteDB({ path: files.file() });
    expect(normal.connection.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(normal.connection.db.pragma('synchronous', { simple: true })).toBe(1);
    await closed(normal);
    const full = new SqliteDB({ path: files.file(), synchronous: 'full' });
    expect(full.connection.db.pragma('synchronous', { simple: true })).toBe(2);
    await closed(full);
  });

  it('checkpoints the WAL into the database file from a worker, off the commit path', async () => {
    const path = files.file();
    const db = new SqliteDB({ path });
    const data = { n: 0, pad: 'x'.repeat(500) };
    db.commitSync('c', 'd', { v: 0, create: { type: 'json0', data } }, json0('d', 1, data));
    const before = statSync(path).size;
    for (let v = 1; v <= 400; v++) {
      db.commitSync(
        'c',
        'd',
        { v, op: [{ p: ['n'], na: 1 }] },
        json0('d', v + 1, { ...data, pad: `${v}`.repeat(200) }),
      );
    }
    // The main connection's own threshold (20,000 pages) is far away: only the worker can have
    // moved these pages into the main file.
    const deadline = Date.now() + 5000;
    while (statSync(path).size <= before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(statSync(path).size).toBeGreaterThan(before);
    await new Promise<void>((resolve) => db.close(() => resolve()));
  });

  it('calls back from close even when nothing else keeps the process alive', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/close-and-exit.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', fixture, files.file()], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({ code, stdout, stderr: stderr.includes('Error') ? stderr : '' }).toEqual({
      code: 0,
      stdout: 'closed\n',
      stderr: '',
    });
  });

  it('groups commits of one tick in one transaction, each with its own verdict', async () => {
    const db = new SqliteDB({ path: files.file() });
    // One good create, one racing create of the same doc, one that cannot be stored, another good one.
    const results = await Promise.all([
      commit(db, 'a', { v: 0, create: { type: 'json0', data: {} } }, json0('a', 1, {})),
      commit(db, 'a', { v: 0, create: { type: 'json0', data: {} } }, json0('a', 1, {})),
      commit(db, 'bad', { v: 0, create: { type: 'json0', data: {} } }, json0('bad', 1, { n: 1n })),
      commit(db, 'b', { v: 0, create: { type: 'json0', data: {} } }, json0('b', 1, {})),
    ]);
    expect(results.slice(0, 2)).toEqual([true, false]);
    expect(isTandemError(results[2]) && results[2].code).toBe('STORAGE_UNAVAILABLE');
    expect(results[3]).toBe(true);
    // The failed commit was rolled back alone: no op row, no snapshot.
    expect(db.getOpsSync('c', 'bad', 0, null)).toEqual([]);
    expect(db.getSnapshotSync('c', 'bad').v).toBe(0);
    expect(db.getSnapshotSync('c', 'b').v).toBe(1);
    await closed(db);
  });
});
