// Revocation and per-user rate limits proven across two real server processes sharing one SQLite
// file and Redis (issue #7, "Proof").
import type { TandemClient } from '@tandem/client';
import { ErrorCode, type TandemError } from '@tandem/protocol';
import { createTokens } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, countingSockets, until, upgrade, withToken } from './helpers';
import { type ServerProcess, serverProcesses } from './server-processes';

const servers = serverProcesses('secure');
// The fixture's key (it cannot be imported: importing the fixture would start a server).
const tokens = createTokens({ keys: [{ kid: 'k', secret: 'secure-process-secret-0123456789abcdef' }] });
/** The shared per-user limit, ops per second over both processes. */
const USER_RATE = 40;

let one: ServerProcess;
let two: ServerProcess;
const clients: TandemClient[] = [];
function connectAs(url: string, token: string): TandemClient {
  const c = client(url, { token });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  const args = [servers.storage(), servers.prefix, String(USER_RATE)];
  [one, two] = await Promise.all([
    servers.start('secure-process.ts', args),
    servers.start('secure-process.ts', args),
  ]);
}, 30_000);

afterAll(() => Promise.all(clients.map((c) => c.close())));

describe('two server processes + Redis', () => {
  it('revoke(userId) on process 1 closes the user’s sockets on process 2 within a second, for good', async () => {
    const token = await tokens.issue({ sub: 'rita', sid: 's-rita-two' });
    const elsewhere = await tokens.issue({ sub: 'rita', sid: 's-rita-one' });
    const bystanderToken = await tokens.issue({ sub: 'bob', sid: 's-bob' });
    const onTwo = connectAs(two.url, token);
    const onOne = connectAs(one.url, elsewhere);
    const bystander = connectAs(two.url, bystanderToken);
    const errors: TandemError[] = [];
    onTwo.on('error', (e) => errors.push(e));
    await Promise.all([onTwo.online(), onOne.online(), bystander.online()]);
    const doc = onTwo.doc<{ n: number }>('revoke', 'd');
    await doc.create({ n: 0 });

    const started = Date.now();
    const reply = await one.ask({ revoke: 'rita' });
    await until(() => onTwo.status === 'ended' && onOne.status === 'ended', 5_000, 'both sockets ended');
    const elapsed = Date.now() - started;
    // Both sessions, each stored by the process its socket is on, were revoked by process 1.
    expect((reply.revoked as string[]).sort()).toEqual(['s-rita-one', 's-rita-two']);
    console.log(`revoke on process 1 → sockets ended on both processes in ${elapsed} ms`);
    expect(elapsed).toBeLessThan(1_000);
    expect(onTwo.endedBy).toMatchObject({ code: ErrorCode.SESSION_ENDED, details: { reason: 'revoked' } });
    expect(errors.map((e) => e.code)).toContain(ErrorCode.SESSION_ENDED);

    // The revoked session cannot come back, on either process; another user is untouched.
    for (const url of [two.url, one.url]) {
      const again = await upgrade(withToken(url, token));
      expect(again.status).toBe(401);
      expect(again.body).toMatchObject({ code: ErrorCode.SESSION_ENDED, details: { reason: 'revoked' } });
    }
    // A client retrying with that token never gets in (each attempt is refused at the upgrade).
    const sockets = countingSockets();
    const retry = client(two.url, { token, WebSocket: sockets.WebSocket as never });
    clients.push(retry);
    const statuses: string[] = [];
    retry.on('status', (status) => statuses.push(status));
    await until(() => sockets.opened >= 3, 5_000, 'three attempts');
    expect(statuses).not.toContain('online');
    expect(retry.status).not.toBe('online');
    expect(bystander.status).toBe('online');
    await bystander.doc('revoke', 'other').create({ ok: true });
  });

  it('one user’s sockets on both processes share one rate: ops are delayed, never dropped', async () => {
    const PER_SOCKET = 60;
    const token = await tokens.issue({ sub: 'uma' });
    const a = connectAs(one.url, token);
    const b = connectAs(two.url, await tokens.issue({ sub: 'uma' }));
    await Promise.all([a.online(), b.online()]);
    const before = await Promise.all([one.ask({ commits: true }), two.ask({ commits: true })]);
    const skip = before.map((r) => (r.commits as number[]).length);

    // Every create is its own op message (one per document), sent at once from both sockets.
    const creates = [a, b].flatMap((c, s) =>
      Array.from({ length: PER_SOCKET }, (_, i) => c.doc('limited', `s${s}-${i}`).create({ i })),
    );
    await Promise.all(creates);

    const after = await Promise.all([one.ask({ commits: true }), two.ask({ commits: true })]);
    const mine = after.map((r, i) => (r.commits as number[]).slice(skip[i]));
    // Each socket's ops were committed by its own process.
    expect(mine.map((m) => m.length)).toEqual([PER_SOCKET, PER_SOCKET]);
    const times = mine.flat().sort((x, y) => x - y);
    // Nothing was dropped: every op was committed exactly once.
    expect(times).toHaveLength(2 * PER_SOCKET);
    // At most the rate per one-second window in total (with slack for commits landing just after
    // their window); each process alone would have allowed the rate again.
    const perWindow = new Map<number, number>();
    for (const t of times)
      perWindow.set(Math.floor(t / 1000), (perWindow.get(Math.floor(t / 1000)) ?? 0) + 1);
    const busiest = Math.max(...perWindow.values());
    console.log(`per-user limit ${USER_RATE}/s over 2 processes: commits per second window`, [
      ...perWindow.values(),
    ]);
    expect(busiest).toBeLessThanOrEqual(USER_RATE * 1.5);
    // 120 ops at 40 per window take at least three windows.
    expect(perWindow.size).toBeGreaterThanOrEqual(3);
    expect(times[times.length - 1] - times[0]).toBeGreaterThan(1_000);
  });

  it('a role removed and refreshAccess called on process 1 cuts the user’s subscription on process 2', async () => {
    const owner = connectAs(one.url, await tokens.issue({ sub: 'olga' }));
    const rex = connectAs(two.url, await tokens.issue({ sub: 'rex' }));
    const errors: TandemError[] = [];
    rex.on('error', (e) => errors.push(e));
    const od = owner.doc<{ n: number }>('roles', 'live');
    const other = owner.doc<{ n: number }>('roles', 'other');
    await Promise.all([od.create({ n: 0 }), other.create({ n: 0 })]);
    const rd = rex.doc<{ n: number }>('roles', 'live');
    const ro = rex.doc<{ n: number }>('roles', 'other');
    await Promise.all([rd.subscribe(), ro.subscribe()]);
    await od.submit(['n', { r: true, i: 1 }]);
    await until(() => rd.data?.n === 1, 5_000, 'op across processes before');

    // The host's role table is shared (here: told to both processes); the refresh is sent once.
    await Promise.all([one.ask({ deny: 'rex:roles/live' }), two.ask({ deny: 'rex:roles/live' })]);
    const started = Date.now();
    await one.ask({ refresh: { userId: 'rex' } });
    await until(() => errors.some((e) => e.code === ErrorCode.FORBIDDEN), 5_000, 'FORBIDDEN on process 2');
    const elapsed = Date.now() - started;
    console.log(`refreshAccess on process 1 → subscription cut on process 2 in ${elapsed} ms`);
    expect(elapsed).toBeLessThan(1_000);
    expect(errors.find((e) => e.code === ErrorCode.FORBIDDEN)?.details).toMatchObject({
      collection: 'roles',
      id: 'live',
      reason: 'access-changed',
    });

    await od.submit(['n', { r: true, i: 2 }]);
    await other.submit(['n', { r: true, i: 2 }]);
    // A barrier: od's op went through Redis before other's was submitted, and Redis keeps one
    // connection's messages in order.
    await until(() => ro.data?.n === 2, 5_000, 'the readable document still streams');
    expect(rd.data?.n).toBe(1);
    expect(rex.status).toBe('online');
  });
});
