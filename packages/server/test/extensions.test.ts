/**
 * The extension interface over real sockets: install order, client calls with typed errors,
 * connection callbacks, pushes to a user's sockets, events between two processes' instances over
 * Redis, metrics, close order, and hooks composed from the host's list and the extensions'. Then
 * the connection hooks (upgrade check, admission, message gates, heartbeat): a host extension uses
 * them as the built-in sessions and rate limits do, and one that throws costs only its socket.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type AttachedTandem, attach, type Extension, type ExtensionContext } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, rawSocket, until, upgrade, withToken } from './helpers';
import { REDIS_URL } from './redis-url';

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
    // Built-in features are extensions too: their names are taken.
    for (const name of ['access', 'sessions', 'rate-limits'])
      await expect(attach({ port: 0 }, { extensions: [{ name }] })).rejects.toMatchObject({
        code: ErrorCode.INVALID_CONFIG,
        message: expect.stringContaining('conflicts-history, sessions, rate-limits'),
      });
  });
});

/** Records what the connection hooks saw, per user; each user id picks a behaviour. */
const hooked: string[] = [];

/** A gate that passes everything on and records it (`label:user:t`), stopped when the socket closes. */
function recorder(label: string): Extension {
  return {
    name: `recorder-${label}`,
    gate(connection, next) {
      const user = connection.principal.id;
      if (user === 'ungated') return undefined;
      return {
        push(message) {
          if (message.t === 'call') hooked.push(`${label}:${user}:${String(message.method)}`);
          next(message);
        },
        stop: () => void hooked.push(`${label}:${user}:stop`),
      };
    },
  };
}

const guard: Extension = {
  name: 'guard',
  calls: { echo: (args) => args[0] },
  authenticated(principal) {
    if (principal.id === 'refused') throw new TandemError(ErrorCode.UNAUTHORIZED, 'refused at the upgrade');
  },
  async admit(connection, principal) {
    hooked.push(`admit:${principal.id}:${connection.connectionId === '' ? 'no id' : 'id'}`);
    if (principal.id === 'not-admitted') throw new TandemError(ErrorCode.UNAUTHORIZED, 'not admitted');
    if (principal.id === 'admit-throws') throw new Error('a bug in admit');
  },
  gate(connection, next) {
    const user = connection.principal.id;
    if (user === 'gate-throws') throw new Error('a bug making a gate');
    return {
      push(message) {
        if (message.t === 'call' && message.method === 'boom') throw new Error('a bug in a gate');
        if (message.t === 'call' && message.method === 'held') {
          // Dropped, and the sender told why; the socket stays.
          connection.report(
            new TandemError(ErrorCode.RATE_LIMITED, 'held by the guard', { retryAfterMs: 10 }),
          );
          return;
        }
        if (message.t === 'call' && message.method === 'bye') {
          connection.fail(new TandemError(ErrorCode.FORBIDDEN, 'sent away by the guard'));
          return;
        }
        next(message);
      },
    };
  },
  connected: (connection) => void hooked.push(`connected:${connection.principal.id}`),
  disconnected: (connection) => void hooked.push(`disconnected:${connection.principal.id}`),
  heartbeat(connection) {
    if (connection.principal.id === 'short-lived')
      connection.fail(new TandemError(ErrorCode.SESSION_ENDED, 'ended by the heartbeat', { reason: 'test' }));
  },
};

/** A raw Tandem socket of `user`: its decoded messages, and its close code once closed. */
async function raw(url: string, user: string) {
  const socket = await rawSocket(withToken(url, user), 'tandem.json.v1');
  const closed = new Promise<number>((resolve) => socket.ws.once('close', (code) => resolve(code)));
  const call = (method: string, rid: number) =>
    socket.ws.send(JSON.stringify({ a: 'tandem', t: 'call', ext: 'guard', method, args: [method], rid }));
  return { ...socket, closed, call };
}

describe('connection hooks: authenticated, admit, gate, heartbeat', () => {
  let server: AttachedTandem;
  beforeAll(async () => {
    server = await attach(
      { port: 0 },
      {
        storage: 'memory:',
        heartbeatMs: 100,
        hooks: { authenticate: ({ token }) => ({ id: String(token) }) },
        extensions: [guard, recorder('one'), recorder('two')],
      },
    );
  });
  afterAll(async () => {
    await server.close();
  });

  it('a refusal at the upgrade is a 401 with its code', async () => {
    const refused = await upgrade(withToken(server.url(), 'refused'));
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: ErrorCode.UNAUTHORIZED, message: 'refused at the upgrade' });
  });

  it('admitted sockets are served; gates chain in install order and stop at close', async () => {
    const dana = client(server.url(), { token: 'dana' });
    await expect(dana.call({ t: 'call', ext: 'guard', method: 'echo', args: ['hi'] })).resolves.toBe('hi');
    expect(hooked).toContain('admit:dana:id');
    expect(hooked.filter((h) => h.startsWith('one:dana') || h.startsWith('two:dana'))).toEqual([
      'one:dana:echo',
      'two:dana:echo',
    ]);
    await dana.close();
    await until(() => hooked.includes('two:dana:stop') && hooked.includes('one:dana:stop'), 5_000, 'stopped');
    // A gate maker may give no gate: the other gates pass the socket's messages on.
    const ungated = client(server.url(), { token: 'ungated' });
    await expect(ungated.call({ t: 'call', ext: 'guard', method: 'echo', args: [1] })).resolves.toBe(1);
    expect(hooked.some((h) => /^(one|two):ungated:/.test(h))).toBe(false);
    await ungated.close();
  });

  it('a gate may drop a message (reported; the socket stays) or close its socket', async () => {
    const erin = await raw(server.url(), 'erin');
    erin.call('held', 1);
    erin.call('echo', 2);
    await until(() => erin.frames.some((f) => f.t === 'result' && f.rid === 2), 5_000, 'the echo');
    expect(erin.frames).toContainEqual(
      expect.objectContaining({
        t: 'error',
        error: expect.objectContaining({ code: ErrorCode.RATE_LIMITED }),
      }),
    );
    expect(erin.frames.some((f) => f.rid === 1)).toBe(false);
    erin.call('bye', 3);
    expect(await erin.closed).toBe(1008);
    expect(erin.frames).toContainEqual(
      expect.objectContaining({ t: 'error', error: expect.objectContaining({ code: ErrorCode.FORBIDDEN }) }),
    );
  });

  it('the heartbeat hook sees each served socket and may end it', async () => {
    const brief = await raw(server.url(), 'short-lived');
    const steady = await raw(server.url(), 'steady');
    expect(await brief.closed).toBe(1008);
    expect(brief.frames).toContainEqual(
      expect.objectContaining({
        t: 'error',
        error: expect.objectContaining({ code: ErrorCode.SESSION_ENDED }),
      }),
    );
    steady.call('echo', 1);
    await until(() => steady.frames.some((f) => f.t === 'result' && f.rid === 1), 5_000, 'steady answered');
    steady.ws.close();
  });

  it('a refusing or throwing admit, a throwing gate maker and a throwing gate cost only their socket', async () => {
    const refused = await raw(server.url(), 'not-admitted');
    expect(await refused.closed).toBe(1008);
    expect(refused.frames).toContainEqual(
      expect.objectContaining({
        t: 'error',
        error: expect.objectContaining({ code: ErrorCode.UNAUTHORIZED }),
      }),
    );
    for (const user of ['admit-throws', 'gate-throws']) {
      const broken = await raw(server.url(), user);
      expect(await broken.closed).toBe(1013);
      expect(broken.frames).toContainEqual(
        expect.objectContaining({ t: 'error', error: expect.objectContaining({ code: ErrorCode.INTERNAL }) }),
      );
    }
    const boom = await raw(server.url(), 'boom');
    boom.call('boom', 1);
    expect(await boom.closed).toBe(1011);
    // The gate maker that threw had the gates made before it stopped (none leak).
    expect(hooked).toContain('one:gate-throws:stop');
    // A socket that was never announced connected is not announced gone; a served one is.
    expect(hooked.filter((h) => h.endsWith(':gate-throws') && /^(dis)?connected/.test(h))).toEqual([]);
    await until(() => hooked.includes('disconnected:boom'), 5_000, 'boom announced gone');
    expect(hooked).toContain('connected:boom');
    // Everyone else is served as before.
    const frank = client(server.url(), { token: 'frank' });
    await expect(frank.call({ t: 'call', ext: 'guard', method: 'echo', args: ['ok'] })).resolves.toBe('ok');
    await frank.close();
  });

  it('a gate that throws on a message the rate limiter released later (from its timer) costs only its socket', async () => {
    // One call per 200 ms: the second call is held by the built-in throttle and passed on to the
    // host's gate from the throttle's drain timer, outside any socket handler.
    const limited = await attach(
      { port: 0 },
      {
        storage: 'memory:',
        hooks: { authenticate: ({ token }) => ({ id: String(token) }) },
        rateLimits: { calls: { rate: 5, burst: 1 } },
        extensions: [guard],
      },
    );
    try {
      const boom = await raw(limited.url(), 'held-boom');
      boom.call('echo', 1);
      boom.call('boom', 2);
      expect(await boom.closed).toBe(1011);
      expect(boom.frames).toContainEqual(expect.objectContaining({ t: 'result', rid: 1 }));
      const other = client(limited.url(), { token: 'other' });
      await expect(other.call({ t: 'call', ext: 'guard', method: 'echo', args: ['ok'] })).resolves.toBe('ok');
      await other.close();
    } finally {
      await limited.close();
    }
  });
});
