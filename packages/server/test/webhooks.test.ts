// Signed webhooks against real local HTTP receivers: signatures verified the way a receiver would,
// retries with the same event id, filters per endpoint, a bounded queue, and a dead receiver that
// neither holds up commits nor close().
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type as tandemType } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import {
  attach,
  type CommitEventData,
  createTandem,
  type Tandem,
  tryVerifyWebhook,
  verifyWebhook,
  type WebhookEvent,
} from '@tandem/server';
import { describe, expect, it } from 'vitest';
import { prometheusRegistry } from '../src/http/prometheus';
import { client, until } from './helpers';

const SECRET = 'whsec-test-0123456789abcdef';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

type Answer = number | { status: number; headers: Record<string, string> } | undefined;

/** An HTTP receiver on 127.0.0.1; `answer` picks the status of each request (or undefined: never answer). */
async function receiver(answer: (received: Received, index: number) => Answer = () => 200) {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(entry);
      const answered = answer(entry, received.length - 1);
      if (typeof answered === 'number') response.writeHead(answered).end();
      else if (answered !== undefined) response.writeHead(answered.status, answered.headers).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    /** Bodies verified as a receiver would; throws on a bad signature. */
    events: () => received.map((r) => verifyWebhook(SECRET, r.headers as never, r.body)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A document edited by a trusted server-side agent acting as `principal`. */
async function serverDoc(tandem: Tandem, id: string, principal = { id: 'ana', name: 'Ana' }) {
  const connection = (await tandem.backend()).connect() as any;
  connection.agent.custom.principal = principal;
  const doc = connection.get('notes', id);
  const run = (f: (cb: (e?: unknown) => void) => void) =>
    new Promise<void>((resolve, reject) => f((e) => (e ? reject(e) : resolve())));
  return {
    doc,
    create: (data: unknown) => run((cb) => doc.create(data, tandemType.uri, cb)),
    submit: (op: unknown) => run((cb) => doc.submitOp(op, cb)),
    close: () => connection.close(),
  };
}

describe('webhooks', () => {
  it('signs commits (doc, version, author, op), named versions and revocations; endpoints filter by type', async () => {
    const all = await receiver();
    const versionsOnly = await receiver();
    const attached = await attach(
      { port: 0 },
      {
        storage: 'memory:',
        hooks: {
          authenticate: ({ token }) => ({ id: String(token), name: 'Nina', sessionId: `s-${token}` }),
        },
        webhooks: {
          endpoints: [
            { url: all.url, secret: SECRET },
            { url: versionsOnly.url, secret: SECRET, events: ['version.created'] },
          ],
        },
      },
    );
    const c = client(attached.url(), { token: 'nina' });
    try {
      const doc = c.doc<{ title: string }>('notes', 'w1');
      await doc.create({ title: 'a' });
      await doc.submit(['title', { es: [1, 'b'] }]);
      const history = await attached.tandem.history();
      await history?.createVersion({ collection: 'notes', id: 'w1' }, { id: 'nina' }, { label: 'v1' });
      await attached.tandem.sessions.revoke('s-nina', 'test over');

      await until(() => all.received.length === 4 && versionsOnly.received.length === 1, 5_000, 'deliveries');
      const events = all.events();
      const byType = (type: string) => events.filter((e) => e.type === type);
      const commits = byType('document.committed') as WebhookEvent<CommitEventData>[];
      expect(commits.map((e) => e.data).sort((a, b) => a.version - b.version)).toEqual([
        { collection: 'notes', id: 'w1', version: 1, kind: 'create', author: { id: 'nina', name: 'Nina' } },
        {
          collection: 'notes',
          id: 'w1',
          version: 2,
          kind: 'op',
          author: { id: 'nina', name: 'Nina' },
          op: ['title', { es: [1, 'b'] }],
        },
      ]);
      expect(byType('version.created')[0].data).toMatchObject({
        collection: 'notes',
        id: 'w1',
        label: 'v1',
        version: 2,
        checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(byType('session.revoked')[0].data).toMatchObject({
        sessionId: 's-nina',
        userId: 'nina',
        reason: 'test over',
      });
      for (const event of events) {
        expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(typeof event.createdAt).toBe('number');
      }
      const first = all.received[0].headers;
      expect(first['content-type']).toBe('application/json');
      expect(first['tandem-delivery-attempt']).toBe('1');
      expect(versionsOnly.events().map((e) => e.type)).toEqual(['version.created']);
      // Commits to Tandem's own records (sessions, versions) are not sent.
      expect(
        events.every((e) => e.type !== 'document.committed' || (e.data as any).collection === 'notes'),
      ).toBe(true);
      // The receiver saw all five; the sender counts each once the answer is back.
      await until(() => attached.tandem.metrics().webhooks?.delivered === 5, 5_000, 'answers');
      expect(attached.tandem.metrics().webhooks).toMatchObject({ failed: 0, dropped: 0, queued: 0 });
    } finally {
      await c.close();
      await attached.close();
      await all.close();
      await versionsOnly.close();
    }
  });

  it('a conflict between two concurrent edits is sent as conflict.detected', async () => {
    const hook = await receiver();
    const tandem = createTandem({
      storage: 'memory:',
      webhooks: { endpoints: [{ url: hook.url, secret: SECRET, events: ['conflict.detected'] }] },
    });
    try {
      const a = await serverDoc(tandem, 'c1', { id: 'ana', name: 'Ana' });
      await a.create({ title: 'x' });
      const b = await serverDoc(tandem, 'c1', { id: 'bo', name: 'Bo' });
      await new Promise<void>((resolve, reject) => b.doc.fetch((e: unknown) => (e ? reject(e) : resolve())));
      // Both replace the same field from version 1: the second is transformed over the first.
      await Promise.all([
        a.submit(['title', { r: true, i: 'from ana' }]),
        b.submit(['title', { r: true, i: 'from bo' }]),
      ]);
      await until(() => hook.received.length >= 1, 5_000, 'conflict delivery');
      const [event] = hook.events();
      expect(event.type).toBe('conflict.detected');
      expect(event.data).toMatchObject({ collection: 'notes', docId: 'c1', path: ['title'] });
      a.close();
      b.close();
    } finally {
      await tandem.close();
      await hook.close();
    }
  });

  it('retries a receiver that fails twice, then delivers once with the same id', async () => {
    const hook = await receiver((_received, index) => (index < 2 ? 503 : 200));
    const tandem = createTandem({
      storage: 'memory:',
      webhooks: { endpoints: [{ url: hook.url, secret: SECRET }], backoffMs: 10, maxBackoffMs: 50 },
    });
    try {
      const a = await serverDoc(tandem, 'r1');
      await a.create({ n: 1 });
      await until(() => tandem.metrics().webhooks?.delivered === 1, 5_000, 'delivery after retries');
      expect(hook.received.map((r) => r.headers['tandem-delivery-attempt'])).toEqual(['1', '2', '3']);
      const ids = hook.received.map((r) => r.headers['tandem-event-id']);
      expect(new Set(ids).size).toBe(1);
      // Each attempt is signed on its own and verifies; all carry the same event.
      expect(new Set(hook.events().map((e) => e.id))).toEqual(new Set(ids));
      expect(tandem.metrics().webhooks).toMatchObject({ delivered: 1, retried: 2, failed: 0, queued: 0 });
      const scraped = await prometheusRegistry(tandem, { defaultMetrics: false }).metrics();
      expect(scraped).toContain('tandem_webhook_deliveries_total{outcome="delivered"} 1');
      expect(scraped).toContain('tandem_webhook_deliveries_total{outcome="retried"} 2');
      expect(scraped).toContain('tandem_webhook_queued 0');
      a.close();
    } finally {
      await tandem.close();
      await hook.close();
    }
  });

  it("honours a 429's Retry-After over a shorter backoff", async () => {
    const at: number[] = [];
    // The receiver asks for 1 s; the configured backoff alone would retry after a few ms.
    const hook = await receiver((_received, index) => {
      at.push(Date.now());
      return index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : 200;
    });
    const tandem = createTandem({
      storage: 'memory:',
      webhooks: { endpoints: [{ url: hook.url, secret: SECRET }], backoffMs: 5 },
    });
    try {
      const a = await serverDoc(tandem, 'ra');
      await a.create({ n: 1 });
      await until(() => tandem.metrics().webhooks?.delivered === 1, 5_000, 'delivery after Retry-After');
      expect(at).toHaveLength(2);
      expect(at[1] - at[0]).toBeGreaterThanOrEqual(900);
      a.close();
    } finally {
      await tandem.close();
      await hook.close();
    }
  });

  it('close() flushes: a delivery waiting out a long backoff is sent at once and delivered', async () => {
    const hook = await receiver((_received, index) => (index === 0 ? 503 : 200));
    const tandem = createTandem({
      storage: 'memory:',
      webhooks: { endpoints: [{ url: hook.url, secret: SECRET }], backoffMs: 600_000, maxBackoffMs: 600_000 },
    });
    try {
      const a = await serverDoc(tandem, 'flush');
      await a.create({ n: 1 });
      await until(() => tandem.metrics().webhooks?.retried === 1, 5_000, 'first attempt failed');
      a.close();
    } finally {
      await tandem.close();
      await hook.close();
    }
    expect(tandem.metrics().webhooks).toMatchObject({ delivered: 1, dropped: 0, failed: 0, queued: 0 });
    expect(hook.events().map((e) => e.type)).toEqual(['document.committed', 'document.committed']);
  });

  it('gives up after maxAttempts on 5xx, and at once on a 4xx other than 408/429', async () => {
    const down = await receiver(() => 500);
    const refusing = await receiver(() => 400);
    const tandem = createTandem({
      storage: 'memory:',
      webhooks: {
        endpoints: [
          { url: down.url, secret: SECRET },
          { url: refusing.url, secret: SECRET },
        ],
        maxAttempts: 3,
        backoffMs: 5,
      },
    });
    try {
      const a = await serverDoc(tandem, 'f1');
      await a.create({ n: 1 });
      await until(() => tandem.metrics().webhooks?.failed === 2, 5_000, 'both given up');
      expect(down.received).toHaveLength(3);
      expect(refusing.received).toHaveLength(1);
      expect(tandem.metrics().webhooks).toMatchObject({ delivered: 0, retried: 2, queued: 0 });
      a.close();
    } finally {
      await tandem.close();
      await down.close();
      await refusing.close();
    }
  });

  it('verifyWebhook refuses a wrong secret, a tampered body, a stale or missing signature', async () => {
    const body = JSON.stringify({ id: 'e1', type: 'document.committed', createdAt: 1, data: {} });
    const now = Math.floor(Date.now() / 1000);
    const signed = (t: number, secret = SECRET) => ({
      'Tandem-Signature': `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`,
    });
    const reason = (result: ReturnType<typeof tryVerifyWebhook>) =>
      result.ok ? 'ok' : (result.error.details?.reason as string);

    expect(verifyWebhook(SECRET, signed(now), body)).toMatchObject({ id: 'e1' });
    // Fetch's Headers work as well as Node's header objects; bytes as well as strings.
    expect(verifyWebhook(SECRET, new Headers(signed(now)), Buffer.from(body))).toMatchObject({ id: 'e1' });
    // A rotated secret: the receiver accepts either while both are live.
    expect(reason(tryVerifyWebhook(['old-secret-0123456789', SECRET], signed(now), body))).toBe('ok');

    expect(reason(tryVerifyWebhook('another-secret-0123456789', signed(now), body))).toBe('signature');
    expect(reason(tryVerifyWebhook(SECRET, signed(now, 'another-secret-0123456789'), body))).toBe(
      'signature',
    );
    expect(reason(tryVerifyWebhook(SECRET, signed(now), body.replace('e1', 'e2')))).toBe('signature');
    expect(reason(tryVerifyWebhook(SECRET, signed(now - 301), body))).toBe('timestamp');
    expect(reason(tryVerifyWebhook(SECRET, signed(now + 301), body))).toBe('timestamp');
    expect(reason(tryVerifyWebhook(SECRET, signed(now - 100), body, 60))).toBe('timestamp');
    expect(reason(tryVerifyWebhook(SECRET, {}, body))).toBe('missing');
    expect(reason(tryVerifyWebhook(SECRET, { 'tandem-signature': 'v1=zz' }, body))).toBe('malformed');

    let thrown: unknown;
    try {
      verifyWebhook('another-secret-0123456789', signed(now), body);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TandemError);
    expect(thrown).toMatchObject({ code: ErrorCode.UNAUTHORIZED, details: { reason: 'signature' } });
  });

  it('a dead receiver neither holds up commits nor close(); the queue stays bounded and drops are counted', async () => {
    // Accepts the request and never answers: the worst receiver (a refused port fails fast).
    const hung = await receiver(() => undefined);
    const tandem = createTandem({
      storage: 'memory:',
      webhooks: {
        endpoints: [{ url: hung.url, secret: SECRET }],
        timeoutMs: 60_000,
        maxQueued: 5,
        concurrency: 2,
        closeTimeoutMs: 200,
      },
    });
    let closed = false;
    try {
      const a = await serverDoc(tandem, 'd1');
      await a.create({ n: 0 });
      for (let i = 1; i <= 30; i++) await a.submit(['n', { r: true, i }]);
      expect(a.doc.version).toBe(31);
      expect(a.doc.data).toEqual({ n: 30 });
      await until(() => hung.received.length === 2, 5_000, 'two requests in flight');
      const counts = tandem.metrics().webhooks;
      expect(counts).toMatchObject({ queued: 5, dropped: 26, delivered: 0 });
      a.close();
    } finally {
      // close() aborts the hung requests after closeTimeoutMs instead of waiting out their 60 s timeout.
      const timer = new Promise((resolve) => setTimeout(resolve, 10_000, 'timed out'));
      const result = await Promise.race([tandem.close().then(() => 'closed'), timer]);
      closed = result === 'closed';
      await hung.close();
    }
    expect(closed).toBe(true);
    expect(tandem.metrics().webhooks).toMatchObject({ queued: 0, dropped: 31, delivered: 0 });
  });

  it('refuses bad webhook options at creation with INVALID_CONFIG', () => {
    const bad = [
      { endpoints: [{ url: 'ftp://x', secret: SECRET }] },
      { endpoints: [{ url: 'not a url', secret: SECRET }] },
      { endpoints: [{ url: 'http://127.0.0.1/', secret: 'short' }] },
      { endpoints: [{ url: 'http://127.0.0.1/', secret: SECRET, events: ['document.deleted'] }] },
      { endpoints: [{ url: 'http://127.0.0.1/', secret: SECRET, colour: 'red' }] },
      { endpoints: [], maxAttempts: 0 },
      { endpoints: 'http://127.0.0.1/' },
      { endpoints: [], retries: 3 },
    ];
    for (const webhooks of bad) {
      expect(
        () => createTandem({ storage: 'memory:', webhooks: webhooks as never }),
        JSON.stringify(webhooks),
      ).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_CONFIG }));
    }
  });
});
