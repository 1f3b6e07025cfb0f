/**
 * The one access check: may this principal read or write this document? Used by the ShareDB
 * middleware and by the Tandem calls that name documents (history, locks), so the `authorize` hook
 * decides everywhere the same way.
 */
import { isReservedCollection } from '@tandem/conflicts';
import { ErrorCode, TandemError } from '@tandem/protocol';
import type { AccessAction, Principal, TandemHooks } from '../hooks';
import type { HookRunner } from '../run-hook';

export type AccessCheck = (
  principal: Principal,
  action: AccessAction,
  collection: string,
  id: string,
  op?: unknown,
) => Promise<void>;

function forbidden(action: AccessAction, collection: string, id: string): TandemError {
  return new TandemError(ErrorCode.FORBIDDEN, `not allowed to ${action} ${collection}/${id}`, {
    action,
    collection,
    id,
  });
}

/** Resolves when allowed; rejects with FORBIDDEN (or what the hook threw) otherwise. */
export function createAccessCheck(hooks: HookRunner): AccessCheck {
  return async (principal, action, collection, id, op) => {
    // Tandem's own records are read and written through the server only, whatever the host allows.
    if (isReservedCollection(collection)) throw forbidden(action, collection, id);
    if (!hooks.has('authorize')) return;
    const allowed = await hooks.call(
      'authorize',
      { principal, action, collection, id, op },
      ErrorCode.FORBIDDEN,
    );
    if (allowed !== true) throw forbidden(action, collection, id);
  };
}

/**
 * Whether the `authorize` hook allows `admin` on a document (or `sessions`/`server`): the admin
 * routes and a document's owners for locks. Unlike the access check, no hook means nobody.
 */
export async function allowsAdmin(
  hooks: TandemHooks,
  principal: Principal,
  collection: string,
  id: string,
): Promise<boolean> {
  const authorize = hooks.authorize;
  return (
    authorize !== undefined && (await authorize({ principal, action: 'admin', collection, id })) === true
  );
}
