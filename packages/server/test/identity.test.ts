import { ErrorCode } from '@tandem/protocol';
import { type AttachedTandem, attach, createTokens, tokenAuth } from '@tandem/server';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, upgrade, withToken } from './helpers';

const OLD = { kid: 'k1', secret: 'old-secret-old-secret-old-secret-0' };
const NEW = { kid: 'k2', secret: 'new-secret-new-secret-new-secret-0' };
const tokens = createTokens({ keys: [NEW, OLD], issuer: 'tandem-test' });

let server: AttachedTandem;
beforeAll(async () => {
  server = await attach({ port: 0 }, { storage: 'memory:', hooks: { authenticate: tokenAuth(tokens) } });
});
afterAll(async () => {
  await server.close();
});

describe('tokens', () => {
  it('issue and verify round-trip the claims', async () => {
    const token = await tokens.issue({
      sub: 'alice',
      name: 'Alice',
      roles: ['admin'],
      grants: { 'docs/a': 'owner' },
      ttl: 60,
    });
    const verified = await tokens.verify(token);
    expect(verified).toMatchObject({
      sub: 'alice',
      name: 'Alice',
      roles: ['admin'],
      grants: { 'docs/a': 'owner' },
      kid: 'k2',
    });
    expect(verified.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(60);
    expect(typeof verified.sid).toBe('string');
  });

  it('verifies tokens signed with an older key still listed (rotation), refuses a dropped key', async () => {
    const before = createTokens({ keys: [OLD], issuer: 'tandem-test' });
    const oldToken = await before.issue({ sub: 'bob' });
    await expect(tokens.verify(oldToken)).resolves.toMatchObject({ sub: 'bob', kid: 'k1' });
    const after = createTokens({ keys: [NEW], issuer: 'tandem-test' });
    await expect(after.verify(oldToken)).rejects.toMatchObject({
      code: ErrorCode.UNAUTHORIZED,
      details: { reason: 'unknown-key' },
    });
  });

  it('refuses weak or duplicate keys at creation', () => {
    expect(() => createTokens({ keys: [{ kid: 'a', secret: 'short' }] })).toThrow(/at least 32 bytes/);
    expect(() => createTokens({ keys: [OLD, OLD] })).toThrow(/duplicate kid/);
    expect(() => createTokens({ keys: [] })).toThrow(/at least one key/);
  });

  it('refuses forged, expired, wrong-key, wrong-issuer, unsigned and malformed tokens with a reason', async () => {
    const good = await tokens.issue({ sub: 'alice' });
    const [header, payload] = good.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'mallory' }),
    ).toString('base64url');
    const attacker = createTokens({ keys: [{ kid: 'k2', secret: 'attacker-attacker-attacker-attack' }] });
    const expired = await tokens.issue({ sub: 'alice', ttl: -60 });
    const otherIssuer = await createTokens({ keys: [NEW], issuer: 'someone-else' }).issue({ sub: 'alice' });
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'k2' })).toString('base64url')}.${payload}.`;
    const hs512 = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS512', kid: 'k2' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(NEW.secret));
    const cases: [string, string][] = [
      [`${header}.${forgedPayload}.${good.split('.')[2]}`, 'forged'],
      [await attacker.issue({ sub: 'alice' }), 'forged'],
      [expired, 'expired'],
      [otherIssuer, 'claims'],
      [none, 'forged'],
      [hs512, 'forged'],
      ['not-a-token', 'malformed'],
      ['a.b.c', 'malformed'],
      ['', 'missing'],
    ];
    for (const [token, reason] of cases) {
      await expect(tokens.verify(token), reason).rejects.toMatchObject({
        code: ErrorCode.UNAUTHORIZED,
        details: { reason },
      });
    }
  });
});

describe('tokenAuth at the upgrade', () => {
  it('a valid token opens the socket; the principal carries name, roles and grants', async () => {
    const token = await tokens.issue({ sub: 'carol', name: 'Carol', grants: { 'docs/x': 'editor' } });
    const c = client(server.url(), { token });
    try {
      await c.online();
      await c.doc('docs', 'x').create({ a: 1 });
      expect(c.user).toMatchObject({ id: 'carol', name: 'Carol' });
    } finally {
      await c.close();
    }
  });

  it('refuses bad tokens with HTTP 401 and the typed reason before a socket opens', async () => {
    const url = server.url();
    const expired = await tokens.issue({ sub: 'alice', ttl: -60 });
    const foreign = await createTokens({ keys: [{ kid: 'zz', secret: 'z'.repeat(40) }] }).issue({ sub: 'a' });
    const cases: [string, string][] = [
      [url, 'missing'],
      [withToken(url, expired), 'expired'],
      [withToken(url, foreign), 'unknown-key'],
      [withToken(url, 'garbage'), 'malformed'],
    ];
    for (const [target, reason] of cases) {
      const { status, body } = await upgrade(target);
      expect(status, reason).toBe(401);
      expect(body, reason).toMatchObject({ code: ErrorCode.UNAUTHORIZED, details: { reason } });
    }
  });
});

describe('origin allowlist', () => {
  it('default: same origin as the Host header only; no Origin (non-browser) passes', async () => {
    const token = await tokens.issue({ sub: 'alice' });
    const url = withToken(server.url(), token);
    const host = new URL(server.url()).host;
    expect((await upgrade(url, { Origin: `http://${host}` })).status).toBe(101);
    expect((await upgrade(url)).status).toBe(101);
    const refused = await upgrade(url, { Origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: ErrorCode.FORBIDDEN, details: { reason: 'origin' } });
  });

  it('a configured list (or function) replaces the default', async () => {
    const listed = await attach({ port: 0 }, { storage: 'memory:', allowedOrigins: ['https://app.example'] });
    const byFunction = await attach(
      { port: 0 },
      { storage: 'memory:', allowedOrigins: (origin) => origin.endsWith('.trusted.example') },
    );
    try {
      const host = new URL(listed.url()).host;
      expect((await upgrade(listed.url(), { Origin: 'https://app.example' })).status).toBe(101);
      expect((await upgrade(listed.url(), { Origin: `http://${host}` })).status).toBe(403);
      expect((await upgrade(byFunction.url(), { Origin: 'https://a.trusted.example' })).status).toBe(101);
      expect((await upgrade(byFunction.url(), { Origin: 'https://trusted.example.evil' })).status).toBe(403);
      await expect(attach({ port: 0 }, { allowedOrigins: 'nope' as never })).rejects.toMatchObject({
        code: ErrorCode.INVALID_CONFIG,
      });
    } finally {
      await listed.close();
      await byFunction.close();
    }
  });
});
