import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionStatus, TandemClient } from '@tandem/client';
import { ErrorCode, type TandemError } from '@tandem/protocol';
import { type AttachedTandem, attach, createTokens, type TandemOptions, tokenAuth } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { client, countingSockets, until, upgrade, withToken } from './helpers';
import { REDIS_URL } from './redis-url';

const tokens = createTokens({ keys: [{ kid: 'k', secret: 'sessions-test-secret-0123456789abcdef' }] });
const auth = { hooks: { authenticate: tokenAuth(tokens) } } satisfies TandemOptions;

/** Everything a client reports, for assertions. */
function watch(c: TandemClient) {
  const statuses: ConnectionStatus[] = [];
  const errors: TandemError[] = [];
  c.on('status', (s) => statuses.push(s));
  c.on('error', (e) => errors.push(e));
  return { statuses, errors };
}

/** Until the wall clock has moved on, so a timestamp taken now differs from one taken before. */
async function clockTick(): Promise<void> {
  const before = Date.now();
  await until(() => Date.now() > before, 1_000, 'the clock to move');
}

let server: AttachedTandem;
beforeAll(async () => {
  server = await attach({ port: 0 }, { storage: 'memory:', ...auth });
});
afterAll(async () => {
  await server.close();
});

describe('sessions', () => {
  it('pending → active, listed by user and state; revoke(sessionId) ends the socket for good with a reason', async () => {
    const token = await tokens.issue({ sub: 'alice', sid: 's-alice-1' });
    const other = await tokens.issue({ sub: 'bob', sid: 's-bob-1' });
    const sockets = countingSockets();
    const a = client(server.url(), { token, WebSocket: sockets.WebSocket as never });
    const b = client(server.url(), { token: other });
    const seen = watch(a);
    try {
      await Promise.all([a.online(), b.online()]);
      const sessions = server.tandem.sessions;
      await expect.poll(() => sessions.get('s-alice-1').then((r) => r?.state)).toBe('active');
      expect(await sessions.list({ userId: 'alice' })).toMatchObject([{ id: 's-alice-1', userId: 'alice' }]);
      expect((await sessions.list({ state: 'active' })).map((r) => r.id).sort()).toEqual([
        's-alice-1',
        's-bob-1',
      ]);
      const before = server.tandem.metrics().connectionsTotal;

      // Fake timers from here: any reconnect the client scheduled would be one of them.
      const opened = sockets.opened;
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        const revoked = await sessions.revoke('s-alice-1', 'signed out elsewhere');
        expect(revoked).toMatchObject([
          { id: 's-alice-1', state: 'revoked', reason: 'signed out elsewhere' },
        ]);
        await vi.waitFor(() => expect(a.status).toBe('ended'), { timeout: 5_000 });
        expect(seen.errors.map((e) => [e.code, e.details?.reason])).toContainEqual([
          ErrorCode.SESSION_ENDED,
          'signed out elsewhere',
        ]);
        expect(a.endedBy?.code).toBe(ErrorCode.SESSION_ENDED);
        // No reconnect after a revocation: past the longest backoff (200 ms) many times over, no
        // socket was opened; the other user is untouched.
        await vi.advanceTimersByTimeAsync(10_000);
        expect(sockets.opened).toBe(opened);
      } finally {
        vi.useRealTimers();
      }
      expect(server.tandem.metrics().connectionsTotal).toBe(before);
      expect(a.status).toBe('ended');
      expect(b.status).toBe('online');
      await b.doc('notes', 'n1').create({ ok: true });
      expect(await sessions.list({ state: 'revoked' })).toMatchObject([{ id: 's-alice-1' }]);

      // The revoked session's token is refused at the upgrade.
      const again = await upgrade(withToken(server.url(), token));
      expect(again.status).toBe(401);
      expect(again.body).toMatchObject({
        code: ErrorCode.SESSION_ENDED,
        details: { reason: 'signed out elsewhere' },
      });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a session id cannot be taken over by another user', async () => {
    const mine = await tokens.issue({ sub: 'carol', sid: 's-carol' });
    const theirs = await tokens.issue({ sub: 'mallory', sid: 's-carol' });
    const c = client(server.url(), { token: mine });
    await c.online();
    const m = client(server.url(), { token: theirs });
    const seen = watch(m);
    try {
      await until(() => m.status === 'ended', 5_000, 'refused');
      expect(seen.errors[0]).toMatchObject({ code: ErrorCode.SESSION_ENDED });
      expect(c.status).toBe('online');
    } finally {
      await Promise.all([c.close(), m.close()]);
    }
  });

  it('expires after its TTL: the socket closes with SESSION_ENDED (expired); sliding extends on admission', async () => {
    const short = await attach(
      { port: 0 },
      { storage: 'memory:', ...auth, heartbeatMs: 50, sessions: { ttlMs: 300 } },
    );
    const sliding = await attach(
      { port: 0 },
      { storage: 'memory:', ...auth, sessions: { ttlMs: 60_000, sliding: true } },
    );
    const a = client(short.url(), { token: await tokens.issue({ sub: 'dave', sid: 's-dave' }) });
    const seen = watch(a);
    const s = client(sliding.url(), { token: await tokens.issue({ sub: 'erin', sid: 's-erin' }) });
    try {
      await until(() => a.status === 'ended', 5_000, 'expired');
      expect(seen.errors.at(-1)).toMatchObject({
        code: ErrorCode.SESSION_ENDED,
        details: { reason: 'expired' },
      });
      expect(await short.tandem.sessions.get('s-dave')).toMatchObject({
        state: 'expired',
        reason: 'expired',
      });

      await s.online();
      const first = (await sliding.tandem.sessions.get('s-erin'))?.expiresAt ?? 0;
      await clockTick();
      s.reconnect();
      await until(() => s.status !== 'online');
      await s.online();
      await expect
        .poll(async () => ((await sliding.tandem.sessions.get('s-erin'))?.expiresAt ?? 0) > first)
        .toBe(true);
    } finally {
      await Promise.all([a.close(), s.close()]);
      await Promise.all([short.close(), sliding.close()]);
    }
  });
});

describe('a revocation racing a connect', () => {
  it('a socket admitted before its session was revoked but served after is closed with SESSION_ENDED', async () => {
    // A host extension whose admit (after the sessions extension's) waits until we let it go.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let admitting!: () => void;
    const reached = new Promise<void>((resolve) => {
      admitting = resolve;
    });
    const racing = await attach(
      { port: 0 },
      {
        storage: 'memory:',
        ...auth,
        extensions: [
          {
            name: 'slow-admit',
            async admit() {
              admitting();
              await held;
            },
          },
        ],
      },
    );
    const c = client(racing.url(), { token: await tokens.issue({ sub: 'jon', sid: 's-jon' }) });
    const seen = watch(c);
    try {
      await reached;
      // The session is recorded (admitted), its socket not served yet: revoke it now.
      expect(await racing.tandem.sessions.revoke('s-jon', 'revoked mid-connect')).toMatchObject([
        { id: 's-jon', state: 'revoked' },
      ]);
      release();
      await until(() => c.status === 'ended', 5_000, 'ended');
      expect(c.endedBy).toMatchObject({
        code: ErrorCode.SESSION_ENDED,
        details: { reason: 'revoked mid-connect' },
      });
      expect(seen.statuses).not.toContain('online');
    } finally {
      await c.close();
      await racing.close();
    }
  });
});

describe('token lifetime on a live socket', () => {
  it('getToken is called before expiry and the socket stays; a fixed token is closed at expiry', async () => {
    const fast = await attach({ port: 0 }, { storage: 'memory:', ...auth, heartbeatMs: 100 });
    let calls = 0;
    /** When the first token expires (its `exp` is whole seconds). */
    let firstExpiry = Number.POSITIVE_INFINITY;
    const refreshing = client(fast.url(), {
      getToken: () => {
        calls++;
        if (calls === 1) firstExpiry = (Math.floor(Date.now() / 1000) + 2) * 1000;
        return tokens.issue({ sub: 'frank', sid: 's-frank', ttl: 2 });
      },
      refreshBeforeMs: 1_500,
    });
    const fixed = client(fast.url(), { token: await tokens.issue({ sub: 'gina', ttl: 2 }) });
    const seen = watch(fixed);
    const refreshed = watch(refreshing);
    try {
      await Promise.all([refreshing.online(), fixed.online()]);
      await until(
        () => seen.errors.some((e) => e.code === ErrorCode.UNAUTHORIZED && e.details?.reason === 'expired'),
        10_000,
        'the fixed token closed at expiry',
      );
      await until(() => seen.statuses.includes('offline'), 5_000, 'the fixed client went offline');
      // The first token expired a few heartbeats ago, yet the refreshed socket never dropped.
      await until(() => calls >= 2 && Date.now() > firstExpiry + 300, 10_000, 'refreshes');
      expect(refreshed.statuses).not.toContain('offline');
      expect(refreshed.errors).toEqual([]);
      expect(refreshing.status).toBe('online');
      await refreshing.doc('notes', 'fresh').create({ n: 1 });
    } finally {
      await Promise.all([refreshing.close(), fixed.close()]);
      await fast.close();
    }
  });
});

describe('revocation across processes (Redis)', () => {
  it("revoke({ userId }) on one process closes that user's sockets on both; others keep editing", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-sessions-'));
    const shared: TandemOptions = {
      storage: `sqlite:${join(dir, 'shared.db')}`,
      redis: { url: REDIS_URL, prefix: `tandem-sessions-${process.pid}-${Date.now()}` },
      ...auth,
    };
    const one = await attach({ port: 0 }, shared);
    const two = await attach({ port: 0 }, shared);
    const h1 = client(one.url(), { token: await tokens.issue({ sub: 'henry', sid: 's-henry-laptop' }) });
    const h2 = client(two.url(), { token: await tokens.issue({ sub: 'henry', sid: 's-henry-phone' }) });
    const ivy = client(two.url(), { token: await tokens.issue({ sub: 'ivy', sid: 's-ivy' }) });
    try {
      await Promise.all([h1.online(), h2.online(), ivy.online()]);
      await expect.poll(async () => (await two.tandem.sessions.list({ userId: 'henry' })).length).toBe(2);
      const revoked = await one.tandem.sessions.revoke({ userId: 'henry' }, 'account locked');
      expect(revoked.map((r) => r.id).sort()).toEqual(['s-henry-laptop', 's-henry-phone']);
      await until(() => h1.status === 'ended' && h2.status === 'ended', 5_000, 'both ended');
      expect(h2.endedBy).toMatchObject({
        code: ErrorCode.SESSION_ENDED,
        details: { reason: 'account locked' },
      });
      expect(ivy.status).toBe('online');
      await ivy.doc('notes', 'ivy').create({ still: 'editing' });
      expect((await two.tandem.sessions.list({ state: 'revoked' })).map((r) => r.id).sort()).toEqual([
        's-henry-laptop',
        's-henry-phone',
      ]);
    } finally {
      await Promise.all([h1.close(), h2.close(), ivy.close()]);
      await Promise.all([one.close(), two.close()]);
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    }
  });
});
