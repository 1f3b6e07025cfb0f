/**
 * The admin router (`@tandem/server/express`'s `adminHandler`): sessions, named versions, revert and
 * readiness for operators, each behind the `authorize` hook's `admin` action.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isReservedCollection } from '@tandem/conflicts';
import type { Actor, DocRef, History } from '@tandem/history';
import { ErrorCode, TandemError } from '@tandem/protocol';
import type { Principal } from '../hooks';
import { allowsAdmin } from '../security/access';
import { userInfo } from '../security/principal';
import type { SessionState } from '../security/sessions';
import type { Tandem } from '../tandem';
import { type Handler, json } from './handlers';

export interface AdminOptions {
  /** Who is calling (e.g. from your session cookie or a bearer token); throw or return undefined to refuse (401). */
  principalOf(request: IncomingMessage): Principal | undefined | Promise<Principal | undefined>;
}

/** Largest JSON body an admin route reads: its inputs are a label, a version and a message. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

/** HTTP status of a typed error; anything unexpected is a 500. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.INVALID_MESSAGE]: 400,
  [ErrorCode.INVALID_OP]: 400,
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.ALREADY_EXISTS]: 409,
  [ErrorCode.TOO_LARGE]: 413,
  [ErrorCode.STORAGE_UNAVAILABLE]: 503,
  [ErrorCode.SHUTTING_DOWN]: 503,
};

function badInput(reason: string, message: string): TandemError {
  return new TandemError(ErrorCode.INVALID_MESSAGE, `bad admin request: ${message}`, { reason });
}

/** The JSON object body: already parsed by `express.json()`, or read here (bounded). */
async function jsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  let body = (request as { body?: unknown }).body;
  if (body === undefined) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_ADMIN_BODY_BYTES)
        throw new TandemError(ErrorCode.TOO_LARGE, 'admin request body too large', {
          limit: MAX_ADMIN_BODY_BYTES,
          what: 'message',
        });
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      throw badInput('json', 'the body is not JSON');
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badInput('body', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badInput('url', 'the path is not valid percent-encoding');
  }
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value !== undefined && typeof value !== 'string') throw badInput(key, `${key} must be a string`);
  return value;
}

function optionalVersion(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0))
    throw badInput(key, `${key} must be a non-negative integer`);
  return value;
}

/**
 * Named versions and revert for one document, as `actor`: thin over @tandem/history, so the
 * results (and the `version.created` webhook) are the same as a client's history calls.
 */
async function documentRoute(
  history: History,
  ref: DocRef,
  actor: Actor,
  method: string | undefined,
  action: string,
  request: IncomingMessage,
): Promise<[number, unknown] | undefined> {
  if (action === 'versions' && method === 'GET') return [200, await history.listVersions(ref)];
  if (action === 'versions' && method === 'POST') {
    const body = await jsonBody(request);
    const label = body.label;
    if (typeof label !== 'string') throw badInput('label', 'label must be a string');
    const input = {
      label,
      description: optionalString(body, 'description'),
      version: optionalVersion(body, 'version'),
    };
    return [201, await history.createVersion(ref, actor, input)];
  }
  if (action === 'revert' && method === 'POST') {
    const body = await jsonBody(request);
    const version = optionalVersion(body, 'version');
    const label = optionalString(body, 'label');
    const message = optionalString(body, 'message');
    if ((version === undefined) === (label === undefined))
      throw badInput('target', 'give exactly one of version or label');
    const to = version ?? (await history.getVersion(ref, label as string)).version;
    const submitted = await history.revert(ref, actor, to, message === undefined ? {} : { message });
    // `submitted.version` is the version the revert op was applied at; the document is one past it.
    const now = submitted === null ? (await history.current(ref)).v : submitted.version + 1;
    return [200, { revertedTo: to, changed: submitted !== null, version: now }];
  }
  return undefined;
}

/**
 * `app.use('/tandem/admin', adminHandler(tandem, { principalOf }))`: sessions, named versions,
 * revert and readiness, for operators. Every route asks the `authorize` hook for `action: 'admin'`
 * (collection `sessions` or `server`, or the document's own); without an `authorize` hook every
 * admin call is refused. Errors are `{ code, message, details? }` with a fitting HTTP status.
 *
 * - `GET /sessions?userId=&state=` → session records
 * - `POST /sessions/:id/revoke` and `POST /users/:id/revoke` → the revoked records
 * - `GET /documents/:collection/:id/versions` → named versions, oldest first
 * - `POST /documents/:collection/:id/versions` `{ label, description?, version? }` → 201, the version
 * - `POST /documents/:collection/:id/revert` `{ version } | { label }`, `message?` → `{ revertedTo,
 *   changed, version }` (one new op by the caller; history is never rewritten)
 * - `GET /health` → readiness
 */
export function adminHandler(tandem: Tandem, options: AdminOptions): Handler {
  const allowed = (principal: Principal, collection: string, id: string) =>
    allowsAdmin(tandem.options.hooks, principal, collection, id);

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const principal = await Promise.resolve()
      .then(() => options.principalOf(request))
      .catch(() => undefined);
    if (principal === undefined)
      return json(response, 401, { code: ErrorCode.UNAUTHORIZED, message: 'sign in' });
    const parts = url.pathname.split('/').filter(Boolean).map(decodeSegment);
    const refuse = () => json(response, 403, { code: ErrorCode.FORBIDDEN, message: 'not an administrator' });
    if (request.method === 'GET' && parts.length === 1 && parts[0] === 'sessions') {
      if (!(await allowed(principal, 'sessions', '*'))) return refuse();
      const state = url.searchParams.get('state') ?? undefined;
      return json(
        response,
        200,
        await tandem.sessions.list({
          userId: url.searchParams.get('userId') ?? undefined,
          state: state as SessionState | undefined,
        }),
      );
    }
    if (
      request.method === 'POST' &&
      parts.length === 3 &&
      parts[2] === 'revoke' &&
      (parts[0] === 'sessions' || parts[0] === 'users')
    ) {
      if (!(await allowed(principal, 'sessions', parts[1]))) return refuse();
      const target = parts[0] === 'sessions' ? parts[1] : { userId: parts[1] };
      return json(response, 200, await tandem.sessions.revoke(target, `revoked by ${principal.id}`));
    }
    if (parts.length === 4 && parts[0] === 'documents') {
      const ref = { collection: parts[1], id: parts[2] };
      // Tandem's own records (sessions, versions, locks) are not documents to version or revert.
      if (isReservedCollection(ref.collection))
        throw new TandemError(ErrorCode.NOT_FOUND, `no collection ${ref.collection}`, ref);
      if (!(await allowed(principal, ref.collection, ref.id))) return refuse();
      const history = await tandem.history();
      if (history === undefined)
        throw new TandemError(ErrorCode.NOT_FOUND, 'history is disabled on this server');
      if ((await history.current(ref)).type === null)
        throw new TandemError(ErrorCode.NOT_FOUND, `${ref.collection}/${ref.id} does not exist`, ref);
      // The whole principal: the revert is authorized (and its locks checked) exactly as this user's op.
      const actor = { id: principal.id, name: userInfo(principal).name, principal };
      const answer = await documentRoute(history, ref, actor, request.method, parts[3], request);
      if (answer !== undefined) return json(response, answer[0], answer[1]);
    }
    if (request.method === 'GET' && parts.length === 1 && parts[0] === 'health') {
      if (!(await allowed(principal, 'server', 'health'))) return refuse();
      return json(response, 200, await tandem.readiness());
    }
    json(response, 404, { code: ErrorCode.NOT_FOUND, message: 'no such admin route' });
  };

  return (request, response) => {
    route(request, response).catch((error: unknown) => {
      const wire = TandemError.from(error);
      if (wire.code === ErrorCode.INTERNAL) {
        // The cause stays in the log; the caller sees only the code.
        tandem.options.logger.error('admin route failed', { url: request.url, error: String(error) });
        return json(response, 500, { code: ErrorCode.INTERNAL, message: 'internal error' });
      }
      json(response, STATUS[wire.code] ?? 500, wire.toJSON());
    });
  };
}
