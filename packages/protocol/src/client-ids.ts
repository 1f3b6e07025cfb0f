/**
 * ShareDB client ids (`src`) as Tandem's server hands them out: `<public>.<secret>`, where the
 * public part is derived from the secret (the server checks it), so nobody can build an id with
 * another client's public part. ShareDB treats an op whose `(src, seq)` it already committed as a
 * resend (acknowledged, not applied again), so an id must be its holder's secret: other clients
 * only ever see its alias, `~<public>`, in ops and presence. The holder recognises its own ops
 * under their alias, e.g. after a restart when its queue holds ops sent under an earlier id.
 */

/** The alias other clients see for `id`; undefined for an id not in Tandem's form. */
export function clientIdAlias(id: string): string | undefined {
  const dot = id.indexOf('.');
  return dot > 0 ? `~${id.slice(0, dot)}` : undefined;
}
