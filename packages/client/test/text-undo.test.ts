import { diffShift, shiftIndex } from '@tandem/client';
import { type AttachedTandem, attach } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';

let server: AttachedTandem;
beforeAll(async () => {
  server = await attach({ port: 0 }, { storage: 'memory:' });
});
afterAll(async () => {
  await server.close();
});

describe('text binding', () => {
  it('reports the smallest shift, never splitting a surrogate pair', () => {
    expect(diffShift('hello', 'help me')).toEqual({ index: 3, deleted: 2, inserted: 4 });
    expect(diffShift('a😀b', 'a😁b')).toEqual({ index: 1, deleted: 2, inserted: 2 });
    expect(shiftIndex(10, { index: 2, deleted: 3, inserted: 1 })).toBe(8);
    expect(shiftIndex(1, { index: 2, deleted: 3, inserted: 1 })).toBe(1);
  });

  it('edits by UTF-16 index across emoji and reports remote edits as shifts with their author', async () => {
    const a = client(server.url(), { codec: 'json' });
    const b = client(server.url());
    const docA = a.doc<{ t: string }>('text', 'emoji');
    await docA.create({ t: '😀😀' });
    await docA.subscribe();
    const docB = b.doc<{ t: string }>('text', 'emoji');
    await docB.subscribe();
    const textA = docA.text(['t']);
    const textB = docB.text(['t']);
    const shifts: unknown[] = [];
    textB.on('change', (change) =>
      shifts.push({ ...change.shift, local: change.local, author: change.author?.id }),
    );
    await textA.insert(2, 'x'); // between the two emoji (UTF-16 index 2)
    await until(() => textB.value === '😀x😀', 5_000, 'remote insert');
    expect(shifts).toEqual([{ index: 2, deleted: 0, inserted: 1, local: false, author: a.user?.id }]);
    await textB.delete(0, 2);
    await until(() => textA.value === 'x😀', 5_000, 'remote delete');
    await textA.set('xy😀');
    await until(() => textB.value === 'xy😀', 5_000, 'set');
    await a.close();
    await b.close();
  });
});

describe('undo/redo', () => {
  it('undoes only my own edits, at their current position, after a remote edit', async () => {
    const a = client(server.url());
    const b = client(server.url());
    const docA = a.doc<{ t: string }>('undo', 'd');
    await docA.create({ t: 'hello' });
    await docA.subscribe();
    const docB = b.doc<{ t: string }>('undo', 'd');
    await docB.subscribe();
    await docA.text(['t']).insert(5, ' world');
    await docB.text(['t']).insert(0, '>> ');
    await until(() => docA.data?.t === '>> hello world', 5_000, 'remote edit arrives');
    expect(await docA.undo()).toBe(true);
    expect(docA.data?.t).toBe('>> hello');
    await until(() => docB.data?.t === '>> hello', 5_000, 'undo propagates');
    expect(await docA.redo()).toBe(true);
    expect(docA.data?.t).toBe('>> hello world');
    expect(await docA.undo()).toBe(true);
    expect(await docA.undo()).toBe(false); // the create is not an undoable edit
    await a.close();
    await b.close();
  });
});
