import { type AttachedTandem, attach } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client } from './helpers';

let server: AttachedTandem;
beforeAll(async () => {
  // `never` is a call the server never answers.
  server = await attach(
    { port: 0 },
    { storage: 'memory:', extensions: [{ name: 'slow', calls: { never: () => new Promise(() => {}) } }] },
  );
});
afterAll(async () => {
  await server.close();
});

describe('errors ShareDB’s client raises locally', () => {
  it('keep their code (mapped as the server maps it) and message: create() on an existing doc', async () => {
    const c = client(server.url());
    try {
      const doc = c.doc('notes', 'twice');
      await doc.create({ text: 'a' });
      const error = await doc.create({ text: 'b' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        name: 'TandemError',
        code: 'ALREADY_EXISTS',
        message: 'Document already exists',
        details: { sharedbCode: 'ERR_DOC_ALREADY_CREATED' },
      });
    } finally {
      await c.close();
    }
  });

  it('submit to a doc that was never created: NOT_FOUND with ShareDB’s code in details', async () => {
    const c = client(server.url());
    try {
      const doc = c.doc('notes', 'never');
      await doc.fetch();
      const error = await doc.submit(['text', { i: 'x' }]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        name: 'TandemError',
        code: 'NOT_FOUND',
        details: { sharedbCode: 'ERR_DOC_DOES_NOT_EXIST' },
      });
    } finally {
      await c.close();
    }
  });
});

describe('calls when the socket goes', () => {
  it('a call in flight when the socket closes rejects OFFLINE (reason closed); one made on a closing socket is not sent', async () => {
    const c = client(server.url());
    try {
      await c.online();
      const inFlight = c.call({ t: 'call', ext: 'slow', method: 'never', args: [] });
      c.reconnect();
      // The socket is closing: nothing is written to it, the call says so at once.
      await expect(c.call({ t: 'call', ext: 'slow', method: 'never', args: [] })).rejects.toMatchObject({
        code: 'OFFLINE',
      });
      await expect(inFlight).rejects.toMatchObject({ code: 'OFFLINE', details: { reason: 'closed' } });
    } finally {
      await c.close();
    }
  });
});
