import type { TandemClient } from '@tandem/client';
import { ErrorCode } from '@tandem/protocol';
import { type AttachedTandem, attach } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';

let server: AttachedTandem;
let c: TandemClient;

beforeAll(async () => {
  server = await attach(
    { port: 0 },
    {
      storage: 'memory:',
      validation: {
        maxOpBytes: 2_000,
        maxDocumentBytes: 5_000,
        maxDepth: 4,
        maxStringLength: 500,
        collections: ['notes', 'forms'],
        schemas: {
          forms: {
            type: 'object',
            required: ['title', 'fields'],
            properties: {
              title: { type: 'string', maxLength: 40 },
              fields: { type: 'array', items: { type: 'object', required: ['name'] } },
            },
          },
        },
      },
    },
  );
  c = client(server.url());
  await c.online();
});
afterAll(async () => {
  await c.close();
  await server.close();
});

describe('validation', () => {
  it('refuses ops over size, string, depth limits and lone surrogates; the document is unchanged', async () => {
    const doc = c.doc<Record<string, unknown>>('notes', 'v1');
    await doc.create({ text: 'ok', nested: { a: {} } });
    const refusals: [unknown, string, object][] = [
      [['big', { i: 'x'.repeat(2_500) }], ErrorCode.TOO_LARGE, { what: 'op' }],
      [['long', { i: 'y'.repeat(600) }], ErrorCode.TOO_LARGE, { what: 'string' }],
      [['nested', 'a', 'b', { i: { c: { d: 1 } } }], ErrorCode.TOO_LARGE, { what: 'depth' }],
      [['deep', { i: { a: { b: { c: { d: 1 } } } } }], ErrorCode.TOO_LARGE, { what: 'depth' }],
      [['bad', { i: 'lone \ud800 surrogate' }], ErrorCode.INVALID_OP, { reason: 'surrogate' }],
      [['bad', { i: { '\udc00key': 1 } }], ErrorCode.INVALID_OP, { reason: 'surrogate' }],
    ];
    for (const [op, code, details] of refusals) {
      await expect(doc.submit(op as never), JSON.stringify(op).slice(0, 60)).rejects.toMatchObject({
        code,
        details,
      });
    }
    await until(() => doc.pendingCount === 0);
    await doc.fetch();
    expect(doc.data).toEqual({ text: 'ok', nested: { a: {} } });
    // A valid pair is fine.
    await doc.submit(['emoji', { i: '😀' }]);
    expect(doc.data?.emoji).toBe('😀');
  });

  it('refuses a document growing past its size limit, with many small ops', async () => {
    const doc = c.doc<{ items: string[] }>('notes', 'grow');
    await doc.create({ items: [] });
    let refused: unknown;
    for (let i = 0; i < 40 && refused === undefined; i++) {
      await doc.submit(['items', i, { i: 'z'.repeat(400) }]).catch((error: unknown) => {
        refused = error;
      });
    }
    expect(refused).toMatchObject({ code: ErrorCode.TOO_LARGE, details: { what: 'document', limit: 5_000 } });
    await doc.fetch();
    expect(JSON.stringify(doc.data).length).toBeLessThanOrEqual(5_000);
  });

  it('unknown collections are NOT_FOUND for reads and writes', async () => {
    await expect(c.doc('secrets', 'x').create({ a: 1 })).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(c.doc('secrets', 'x').fetch()).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
  });

  it('checks the JSON Schema on the resulting document and names the failing path', async () => {
    await expect(c.doc('forms', 'bad').create({ title: 'no fields' })).rejects.toMatchObject({
      code: ErrorCode.SCHEMA_VIOLATION,
      details: { path: '/', keyword: 'required' },
    });
    const form = c.doc<{ title: string; fields: { name: string }[] }>('forms', 'f1');
    await form.create({ title: 'Signup', fields: [{ name: 'email' }] });
    await expect(form.submit(['fields', 1, { i: { label: 'no name' } }])).rejects.toMatchObject({
      code: ErrorCode.SCHEMA_VIOLATION,
      details: { path: '/fields/1', keyword: 'required' },
    });
    await expect(form.submit(['title', { r: true, i: 't'.repeat(41) }])).rejects.toMatchObject({
      code: ErrorCode.SCHEMA_VIOLATION,
      details: { path: '/title' },
    });
    await until(() => form.pendingCount === 0);
    await form.submit(['fields', 1, { i: { name: 'age' } }]);
    expect(form.data).toEqual({ title: 'Signup', fields: [{ name: 'email' }, { name: 'age' }] });
  });

  it('invalid limits and schemas are refused at creation', async () => {
    await expect(attach({ port: 0 }, { validation: { maxDepth: 0 } })).rejects.toMatchObject({
      code: ErrorCode.INVALID_CONFIG,
    });
    await expect(
      attach({ port: 0 }, { validation: { schemas: { x: { type: 'not-a-type' } } } }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_CONFIG, details: { option: 'validation.schemas' } });
  });
});
