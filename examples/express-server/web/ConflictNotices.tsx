/**
 * Conflict reports the server sent this user ("Bob's change to Priority replaced yours"): every
 * concurrent edit that collided, whatever its policy did about it.
 */
import type { TandemDoc } from '@tandem/client';
import type { ConflictReport } from '@tandem/protocol';
import { useEffect, useState } from 'react';
import { DEMO_USERS } from '../shared/model';

const nameOf = (id: string | undefined) => DEMO_USERS.find((u) => u.id === id)?.name ?? id ?? 'someone';

export function conflictMessage(report: ConflictReport, me: string, field: string): string {
  const [incoming, other] = report.authors;
  const whose = (id: string | undefined) => (id === me ? 'your' : `${nameOf(id)}'s`);
  const Whose = (id: string | undefined) => (id === me ? 'Your' : `${nameOf(id)}'s`);
  if (report.kind === 'locked-path')
    return `${Whose(incoming)} change to ${field} was refused: it was locked`;
  if (report.resolution === 'rejected')
    return `${Whose(incoming)} change to ${field} was refused: ${whose(other)} came first`;
  const winner = ['op-wins', 'last-writer-wins'].includes(report.resolution)
    ? incoming
    : ['other-wins', 'kept-committed'].includes(report.resolution)
      ? other
      : undefined;
  if (report.kind === 'same-field-write' && winner !== undefined) {
    const loser = winner === incoming ? other : incoming;
    return `${Whose(winner)} change to ${field} replaced ${loser === me ? 'yours' : `${nameOf(loser)}'s`}`;
  }
  return `${Whose(incoming)} and ${whose(other)} edits of ${field} met (${report.kind}, ${report.resolution})`;
}

export function ConflictNotices({
  doc,
  me,
  labelOf,
}: {
  doc: TandemDoc<any>;
  me: string;
  labelOf: (path: (string | number)[]) => string;
}) {
  const [reports, setReports] = useState<ConflictReport[]>([]);
  useEffect(() => doc.on('conflict', (report) => setReports((all) => [...all.slice(-4), report])), [doc]);
  if (reports.length === 0) return null;
  return (
    <section className="conflicts" aria-label="Conflicts">
      {reports.map((report) => (
        <p key={report.id} className={`conflict ${report.severity}`} role="status" data-testid="conflict">
          {conflictMessage(report, me, labelOf(report.field ?? report.path))}
          <button
            type="button"
            className="link"
            aria-label="Dismiss"
            onClick={() => setReports((all) => all.filter((r) => r !== report))}
          >
            ×
          </button>
        </p>
      ))}
    </section>
  );
}
