/**
 * Signed identity tokens: HS256 JWTs through `jose` (no hand-rolled crypto), with key ids so keys
 * can rotate. The first key signs; every listed key verifies — rotate by putting the new key first
 * and dropping the old one once the longest token lifetime has passed.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { AuthenticatePayload, Principal } from '../hooks';

export interface TokenKey {
  /** Key id, written in the token header so verification picks the right key. */
  kid: string;
  /** HMAC secret; at least 32 bytes (HS256 is only as strong as its key). */
  secret: string | Uint8Array;
}

export interface TokensOptions {
  /** Signing and verification keys; the first one signs. */
  keys: readonly TokenKey[];
  /** `iss` claim written and required. @default none */
  issuer?: string;
  /** `aud` claim written and required. @default none */
  audience?: string;
  /** Lifetime of an issued token when `issue` gets no `ttl`, in seconds. One hour keeps a stolen token short-lived. @default 3600 */
  defaultTtlSeconds?: number;
  /** Accepted clock skew between the issuer and this server, in seconds. @default 5 */
  clockToleranceSeconds?: number;
}

/** Per-document roles, least to most powerful. */
export type DocumentRole = 'viewer' | 'commenter' | 'editor' | 'owner';

export interface IssueParams {
  /** The user id (`sub`). */
  sub: string;
  /** Display name. */
  name?: string;
  /** Global roles (e.g. `admin`). */
  roles?: readonly string[];
  /** Document grants: `collection/id` (or `collection/*`) → role. */
  grants?: Readonly<Record<string, DocumentRole>>;
  /** Lifetime in seconds. @default options.defaultTtlSeconds */
  ttl?: number;
  /** Session id (`sid`) the token belongs to. @default a fresh random id */
  sid?: string;
}

export interface VerifiedToken {
  sub: string;
  name: string | undefined;
  roles: string[];
  grants: Record<string, DocumentRole>;
  sid: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  iat: number | undefined;
  kid: string;
}

/** Why a token was refused: `details.reason` of the UNAUTHORIZED error. */
export type TokenRefusal = 'missing' | 'malformed' | 'expired' | 'forged' | 'unknown-key' | 'claims';

export interface Tokens {
  issue(params: IssueParams): Promise<string>;
  /** Resolves with the claims; rejects with UNAUTHORIZED and `details.reason` (a TokenRefusal). */
  verify(token: string): Promise<VerifiedToken>;
}

const MIN_SECRET_BYTES = 32;
const ROLES = new Set<DocumentRole>(['viewer', 'commenter', 'editor', 'owner']);

function config(reason: string): TandemError {
  return new TandemError(ErrorCode.INVALID_CONFIG, `invalid tokens option: ${reason}`, {
    option: 'keys',
    reason,
  });
}

export function refused(reason: TokenRefusal, message: string): TandemError {
  return new TandemError(ErrorCode.UNAUTHORIZED, message, { reason });
}

/** jose's error classes to our reasons; anything unrecognised is a malformed token. */
function refusalOf(error: unknown): TandemError {
  if (error instanceof TandemError) return error;
  if (error instanceof errors.JWTExpired) return refused('expired', 'token expired');
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return refused('forged', 'token signature invalid');
  if (error instanceof errors.JWTClaimValidationFailed)
    return refused('claims', `token claim '${error.claim}' invalid`);
  if (error instanceof errors.JOSEAlgNotAllowed) return refused('forged', 'token algorithm not allowed');
  return refused('malformed', 'token malformed');
}

function isGrants(value: unknown): value is Record<string, DocumentRole> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((role) => ROLES.has(role as DocumentRole))
  );
}

export function createTokens(options: TokensOptions): Tokens {
  if (!Array.isArray(options?.keys) || options.keys.length === 0)
    throw config('at least one key is required');
  const keys = new Map<string, Uint8Array>();
  for (const { kid, secret } of options.keys) {
    if (typeof kid !== 'string' || kid === '') throw config('every key needs a kid');
    if (keys.has(kid)) throw config(`duplicate kid '${kid}'`);
    const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
    if (!(bytes instanceof Uint8Array) || bytes.byteLength < MIN_SECRET_BYTES)
      throw config(`key '${kid}' must be at least ${MIN_SECRET_BYTES} bytes`);
    keys.set(kid, bytes);
  }
  const [signing] = options.keys;
  const defaultTtl = options.defaultTtlSeconds ?? 3600;
  const tolerance = options.clockToleranceSeconds ?? 5;

  return {
    async issue(params) {
      if (typeof params.sub !== 'string' || params.sub === '')
        throw new TandemError(ErrorCode.INVALID_CONFIG, 'a token needs a sub');
      const ttl = params.ttl ?? defaultTtl;
      const claims: JWTPayload = {
        roles: [...(params.roles ?? [])],
        grants: { ...(params.grants ?? {}) },
        sid: params.sid ?? randomUUID(),
      };
      if (params.name !== undefined) claims.name = params.name;
      let jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: signing.kid })
        .setSubject(params.sub)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + ttl);
      if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
      if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
      return jwt.sign(keys.get(signing.kid) as Uint8Array);
    },

    async verify(token) {
      if (typeof token !== 'string' || token === '') throw refused('missing', 'no token');
      let kid = '';
      try {
        const { payload } = await jwtVerify(
          token,
          (header) => {
            const key = header.kid === undefined ? undefined : keys.get(header.kid);
            if (key === undefined) throw refused('unknown-key', 'token signed with an unknown key');
            kid = header.kid as string;
            return key;
          },
          {
            algorithms: ['HS256'],
            issuer: options.issuer,
            audience: options.audience,
            clockTolerance: tolerance,
            requiredClaims: ['sub', 'exp'],
          },
        );
        const grants = payload.grants ?? {};
        if (!isGrants(grants)) throw refused('claims', "token claim 'grants' invalid");
        const roles = payload.roles ?? [];
        if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string'))
          throw refused('claims', "token claim 'roles' invalid");
        return {
          sub: payload.sub as string,
          name: typeof payload.name === 'string' ? payload.name : undefined,
          roles: roles as string[],
          grants,
          sid: typeof payload.sid === 'string' ? payload.sid : `${payload.sub}:${payload.iat ?? 0}`,
          exp: payload.exp as number,
          iat: payload.iat,
          kid,
        };
      } catch (error) {
        throw refusalOf(error);
      }
    },
  };
}

/** Where Tandem keeps what it read from a verified token on the principal. */
export interface TokenPrincipal extends Principal {
  roles: string[];
  grants: Record<string, DocumentRole>;
  /** The session the token belongs to (see security/sessions/). */
  sessionId: string;
  /** Token expiry in ms since the epoch: the client refreshes before it. */
  expiresAt: number;
}

/** A ready `authenticate` hook: the principal from a verified token, or UNAUTHORIZED with its reason. */
export function tokenAuth(tokens: Tokens): (payload: AuthenticatePayload) => Promise<TokenPrincipal> {
  return async ({ token }) => {
    if (token === undefined) throw refused('missing', 'no token');
    const verified = await tokens.verify(token);
    return {
      id: verified.sub,
      name: verified.name ?? verified.sub,
      roles: verified.roles,
      grants: verified.grants,
      sessionId: verified.sid,
      expiresAt: verified.exp * 1000,
    };
  };
}
