/**
 * What Tandem keeps on a ShareDB agent's `custom`: the one definition every Tandem package and the
 * server read and write. The host's own middleware sees `principal` there too.
 */
export interface AgentCustom {
  /** The authenticated principal (socket agents) or the actor a server-side write acts for. */
  principal?: { id: string; name?: string; [extra: string]: unknown };
  /** The socket's session (its connection id): locks and authorship are scoped to it. */
  sessionId?: string;
  /** Set by Tandem's own record writers (history, conflicts): trusted past the reserved-collection guard. */
  tandemInternal?: boolean;
  /** The server's connection behind a socket agent (opaque outside the server). */
  connection?: unknown;
}

/** A ShareDB agent as Tandem packages see it. */
export interface TandemAgent {
  clientId?: string;
  custom: AgentCustom;
}
