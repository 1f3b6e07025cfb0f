/**
 * The server's view of a ShareDB agent's `custom` (the shape is defined once, in @tandem/conflicts'
 * `AgentCustom`): here the principal is the host's `Principal` and the connection is the socket's.
 */
import type { AgentCustom } from '@tandem/conflicts';
import type { Principal } from '../hooks';
import type { Connection } from '../transport/connection';

export interface ServerAgent {
  clientId?: string;
  custom: AgentCustom & { principal?: Principal; connection?: Connection };
}

export function principalOf(agent: unknown): Principal | undefined {
  return (agent as ServerAgent | undefined | null)?.custom?.principal;
}

export function connectionOf(agent: unknown): Connection | undefined {
  return (agent as ServerAgent | undefined | null)?.custom?.connection;
}
