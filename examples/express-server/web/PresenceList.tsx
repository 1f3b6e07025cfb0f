/** Who is in the document: name, status (online / editing / idle / away) and round-trip time. */
import type { PeerPresence, TandemDoc } from '@tandem/client';
import { shallowEqual, useOthers } from '@tandem/react';
import type { DemoUser } from '../shared/model';

const people = (peers: PeerPresence[]) =>
  peers.map((p) => ({
    id: p.presenceId,
    name: p.user.name,
    colour: p.user.colour,
    status: p.status,
    rtt: p.rtt === undefined ? undefined : Math.round(p.rtt),
  }));

// Compared field by field: a peer's caret moving does not re-render the list.
const samePeople = (a: ReturnType<typeof people>, b: ReturnType<typeof people>) =>
  a.length === b.length && a.every((p, i) => shallowEqual(p, b[i]));

export function PresenceList({ doc, me }: { doc: TandemDoc<any>; me: DemoUser }) {
  const peers = useOthers(doc, people, samePeople);
  return (
    <section className="presence" aria-label="People here">
      <h3>Here now</h3>
      <ul>
        <li style={{ borderColor: me.colour }}>{me.name} (you)</li>
        {peers.map((p) => (
          <li key={p.id} style={{ borderColor: p.colour }} data-testid="peer">
            <span className="name">{p.name}</span> <span className="status">{p.status}</span>
            {p.rtt !== undefined && <span className="rtt"> · {p.rtt} ms</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
