import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A temp directory removed after the file's tests; `file()` names a fresh database in it. */
export function tempFiles(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), `tandem-${prefix}-`));
  // A SQLite file's checkpoint worker may still be closing when the last test ends: retry on ENOTEMPTY.
  afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));
  let n = 0;
  return { dir, file: (name = 'db') => join(dir, `${name}-${n++}.sqlite`) };
}

export const MONGO_URL = process.env.MONGO_URL;
export const MONGO_SKIP_REASON =
  'MongoDB tests skipped: MONGO_URL is not set (MongoDB cannot run on this host).';

/** Close an adapter and wait until its connection (and checkpoint worker) is really gone. */
export function closed(db: { close(callback?: (error?: Error) => void): void }): Promise<void> {
  return new Promise((resolve, reject) => db.close((error) => (error ? reject(error) : resolve())));
}
