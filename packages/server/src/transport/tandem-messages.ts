/** Answers Tandem's own client messages (the `a: 'tandem'` namespace), which ShareDB never sees. */
import { ErrorCode, TANDEM_ACTION, TandemError, type TandemMessage } from '@tandem/protocol';
import { recheckAgent } from '../extensions/live-access';
import type { PluginCalls } from '../extensions/plugin-calls';
import type { Extensions } from '../extensions/registry';
import type { HookRunner } from '../run-hook';
import { userInfo } from '../security/principal';
import { CloseCode, type Connection } from './connection';

/** A refreshed principal is admitted by the extensions (`admit`: sessions) before it replaces the old one. */
export function createTandemMessageHandler(hooks: HookRunner, calls: PluginCalls, extensions: Extensions) {
  const answer = (connection: Connection, rid: number, result: Promise<unknown>) => {
    result.then(
      (value) => connection.sendTandem({ a: TANDEM_ACTION, t: 'result', rid, value }),
      (error: unknown) => connection.callFailed(rid, TandemError.from(error)),
    );
  };

  return (connection: Connection, message: TandemMessage): void => {
    switch (message.t) {
      case 'ping':
        connection.sendTandem({ a: TANDEM_ACTION, t: 'pong', ts: message.ts });
        return;
      case 'auth': {
        if (typeof message.token !== 'string' || typeof message.rid !== 'number') break;
        const refresh = hooks
          .call(
            'authenticate',
            {
              request: connection.request ?? { headers: {}, url: undefined, remoteAddress: undefined },
              token: message.token,
              refresh: true,
            },
            ErrorCode.UNAUTHORIZED,
          )
          .then(async (principal) => {
            if (principal === undefined) return userInfo(connection.principal ?? { id: 'anonymous' });
            // A refresh may renew credentials, never switch identity mid-connection.
            if (connection.principal !== undefined && principal.id !== connection.principal.id) {
              throw new TandemError(ErrorCode.UNAUTHORIZED, 'token belongs to another user');
            }
            await extensions.admit(connection, principal);
            connection.setPrincipal(principal);
            // Grants may have shrunk: subscriptions already open are asked again.
            if (connection.agent !== undefined) await recheckAgent(connection.agent as never);
            // The client schedules its next refresh from the new expiry.
            return typeof principal.expiresAt === 'number'
              ? { ...userInfo(principal), expiresAt: principal.expiresAt }
              : userInfo(principal);
          });
        answer(connection, message.rid, refresh);
        refresh.catch((error: unknown) =>
          connection.close(CloseCode.policy, TandemError.from(error, ErrorCode.UNAUTHORIZED).code),
        );
        return;
      }
      case 'history':
        if (typeof message.rid !== 'number') break;
        answer(connection, message.rid, calls.history(connection, message));
        return;
      case 'lock':
        if (typeof message.rid !== 'number') break;
        answer(connection, message.rid, calls.lock(connection, message));
        return;
      case 'call':
        if (typeof message.rid !== 'number') break;
        answer(connection, message.rid, extensions.call(connection, message));
        return;
      default:
        break;
    }
    connection.reportError(
      new TandemError(ErrorCode.INVALID_MESSAGE, `unexpected Tandem message '${String(message.t)}'`, {
        reason: 'type',
      }),
    );
  };
}
