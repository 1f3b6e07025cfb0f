/**
 * The extension interface over real sockets: install order, client calls with typed errors,
 * connection callbacks, pushes to a user's sockets, events between two processes' instances over
 * Redis, metrics, close order, and hooks composed from the host's list and the extensions'.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type AttachedTandem, attach, type Extension, type ExtensionContext } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const log: string[] = [];

/** A small chat: `say` is delivered to the named user's sockets on every process. */
function chat(processName: string): Extension {
  let context: ExtensionContext | undefined;
  let said = 0;
  return {
    name: 'chat',
    hooks: { onConnect: ({ principal }) => void log.push(`${processName}:hook:${principal.id}`) },
    install(ctx) {
      context = ctx;
      log.push(`${processName}:install:chat`);
    },
    calls: {
      async say(args, caller) {
        const [to, text] = args;
        if (typeof to !== 'string' || typeof text !== 'string' || text.length > 100)
          throw new TandemError(ErrorCode.INVALID_MESSAGE, 'say(to, text)', { reason: 'args' });
        said++;
        await context?.publish({ to, text, from: caller.principal.id });
        return { ok: true };
      },
      whoami: (_args, caller) => caller.principal.id,
    },
    event(data) {
      const { to, text, from } = data as { to: string; text: string; from: string };
      for (const connection of context?.connectionsOf(to) ?? []) connection.push({ text, from });
    },
    connected: (connection) => void log.push(`${processName}:connected:${connection.principal.id}`),
    disconnected: (connection) => void log.push(`${processName}:disconnected:${connection.principal.id}`),
    metrics: () => ({ said }),
    close: () => void log.push(`${processName}:close:chat`),
  };
}

const order = (processName: string): Extension => ({
  name: 'second',
  install: () => void log.push(`${processName}:install:second`),
  close: () => void log.push(`${processName}:close:second`),
  connected() {
    throw new Error('a failing extension callback stays in the log');
  },
});

const servers: AttachedTandem[] = [];
beforeAll(async () => {
  const prefix = `ext-${process.pid}-${Date.now()}`;
  for (const name of ['a', 'b']) {
    servers.push(
      await attach(
        { port: 0 },
        {
          storage: 'memory:',
          redis: { url: REDIS_URL, prefix },
          hooks: [
            { authenticate: ({ token }) => (token === 'first' ? { id: 'first-hook' } : undefined) as never },
            { authenticate: ({ token }) => ({ id: String(token) }) },
            { authorize: () => true },
            { authorize: ({ principal }) => principal.id !== 'mallory' },
          ],
          extensions: [chat(name), order(name)],
        },
      ),
    );
  }
});
afterAll(async () => {
  for (const server of servers) await server.close();
});

describe('extensions', () => {
  it('install in the listed order; calls answer; a push reaches the user on another process', async () => {
    expect(log.filter((l) => l.startsWith('a:install'))).toEqual(['a:install:chat', 'a:install:second']);
    const alice = client(servers[0].url(), { token: 'alice' });
    const bob = client(servers[1].url(), { token: 'bob' });
    const pushes: unknown[] = [];
    bob.on('push', (ext, data) => pushes.push({ ext, data }));
    await expect(alice.call({ t: 'call', ext: 'chat', method: 'whoami', args: [] })).resolves.toBe('alice');
    await until(() => log.includes('b:connected:bob'), 5_000, 'bob connected');
    await expect(
      alice.call({ t: 'call', ext: 'chat', method: 'say', args: ['bob', 'hello'] }),
    ).resolves.toEqual({ ok: true });
    await until(() => pushes.length === 1, 5_000, 'the push');
    expect(pushes).toEqual([{ ext: 'chat', data: { text: 'hello', from: 'alice' } }]);
    expect(servers[0].tandem.metrics().extensions).toEqual({ chat: { said: 1 } });
    expect(log).toContain('a:hook:alice');
    await alice.close();
    await until(() => log.includes('a:disconnected:alice'), 5_000, 'disconnected');
    await bob.close();
  });

  it('unknown calls, bad arguments and prototype names get typed errors; the socket stays', async () => {
    const carol = client(servers[0].url(), { token: 'carol' });
    const call = (ext: unknown, method: unknown, args: unknown) =>
      carol.call({ t: 'call', ext, method, args } as never);
    await expect(call('chat', 'nope', [])).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(call('nope', 'say', [])).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(call('chat', 'constructor', [])).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(call('chat', '__proto__', [])).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await expect(call('chat', 'say', 'x')).rejects.toMatchObject({ code: ErrorCode.INVALID_MESSAGE });
    await expect(call(1, 'say', [])).rejects.toMatchObject({ code: ErrorCode.INVALID_MESSAGE });
    await expect(call('chat', 'say', [1, 2])).rejects.toMatchObject({ code: ErrorCode.INVALID_MESSAGE });
    await expect(call('chat', 'whoami', [])).resolves.toBe('carol');
    await carol.close();
  });

  it('hooks compose: the first authenticate answer wins, every authorize must allow', async () => {
    const first = client(servers[0].url(), { token: 'first' });
    await expect(first.call({ t: 'call', ext: 'chat', method: 'whoami', args: [] })).resolves.toBe(
      'first-hook',
    );
    const doc = first.doc<{ n: number }>('notes', 'composed');
    await doc.create({ n: 1 });
    const mallory = client(servers[0].url(), { token: 'mallory' });
    await expect(mallory.doc('notes', 'composed').fetch()).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    await first.close();
    await mallory.close();
  });

  it('close runs in reverse install order', async () => {
    const extra = await attach({ port: 0 }, { storage: 'memory:', extensions: [chat('c'), order('c')] });
    await extra.close();
    expect(log.filter((l) => l.startsWith('c:close'))).toEqual(['c:close:second', 'c:close:chat']);
  });

  it('refuses bad extension lists at creation', async () => {
    await expect(attach({ port: 0 }, { extensions: [{ name: 'Bad Name' }] })).rejects.toMatchObject({
      code: ErrorCode.INVALID_CONFIG,
    });
    await expect(attach({ port: 0 }, { extensions: [chat('d'), chat('d')] })).rejects.toMatchObject({
      code: ErrorCode.INVALID_CONFIG,
    });
  });
});
