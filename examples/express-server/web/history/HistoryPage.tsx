/**
 * Part 3, history: who changed what and when, a time-travel slider, named versions with checksum
 * verification, the diff between two versions, blame by author, revert to a version and undo of one
 * past change. Every call goes to the server's @tandem/history; reverts and undos are new ops.
 */
import type { BlameResult, DocHistory, NamedVersion, VerifyReport, VersionDiff } from '@tandem/client';
import { sliceCodePoints } from '@tandem/ot';
import { useDoc, useHistory } from '@tandem/react';
import { useEffect, useState } from 'react';
import { type Collection, canEdit, type DemoUser } from '../../shared/model';
import { authorColour, time } from '../authors';
import { asText, TextDiff } from './TextDiff';

interface Props {
  collection: Collection;
  id: string;
  user: DemoUser;
}

export function HistoryPage({ collection, id, user }: Props) {
  const { doc } = useDoc(collection, id);
  const { history, page, error, refresh } = useHistory(collection, id, { limit: 200 });
  const [versions, setVersions] = useState<NamedVersion[]>([]);
  const [failure, setFailure] = useState<string>();
  const mayWrite = canEdit(user.role);
  const latest = page?.entries[0]?.version ?? 0;

  // Follow the document live: a new page shortly after each change (not one call per keystroke).
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = doc.on('change', () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    });
    return () => {
      stop();
      clearTimeout(timer);
    };
  }, [doc, refresh]);
  useEffect(() => {
    history.listVersions().then(setVersions, () => {});
  }, [history, page]);

  const act = (run: () => Promise<unknown>) =>
    run().then(
      () => {
        setFailure(undefined);
        refresh();
      },
      (e: unknown) => setFailure((e as Error).message),
    );

  if (error !== undefined) return <p className="error">Cannot read the history: {error.message}</p>;
  if (page === undefined) return <p>Loading…</p>;
  return (
    <div className="history">
      {failure !== undefined && (
        <p className="error" role="alert">
          {failure}
        </p>
      )}
      <TimeTravel history={history} latest={latest} versions={versions} />
      <section className="timeline" aria-label="Timeline">
        <h3>Timeline</h3>
        <ol>
          {page.entries.map((entry) => (
            <li
              key={entry.version}
              data-testid="entry"
              style={{ borderColor: authorColour(entry.author?.id) }}
            >
              <span className="version">v{entry.version}</span>{' '}
              <strong>{entry.author?.name ?? 'server'}</strong> <span className="when">{time(entry.ts)}</span>{' '}
              {entry.intent !== null && <span className="badge">{entry.intent}</span>}{' '}
              <span className="summary">
                {entry.summary.kind === 'create'
                  ? 'created'
                  : `${entry.summary.paths.map((p) => p.join('/')).join(', ')} +${entry.summary.textInserted} −${entry.summary.textRemoved}`}
                {entry.summary.insertedSample !== '' && <q>{entry.summary.insertedSample}</q>}
              </span>
              {mayWrite && (
                <span className="actions">
                  {entry.version > 1 && (
                    <button
                      type="button"
                      className="link"
                      onClick={() => act(() => history.undoOp(entry.version))}
                    >
                      Undo this change
                    </button>
                  )}
                  <button
                    type="button"
                    className="link"
                    onClick={() => act(() => history.revert(entry.version))}
                  >
                    Revert to v{entry.version}
                  </button>
                </span>
              )}
            </li>
          ))}
        </ol>
      </section>
      <Versions versions={versions} mayWrite={mayWrite} act={act} history={history} />
      <Blame history={history} collection={collection} latest={latest} />
    </div>
  );
}

/** The slider: the document as it was at any version, and what changed from there to now. */
function TimeTravel({
  history,
  latest,
  versions,
}: {
  history: DocHistory;
  latest: number;
  versions: NamedVersion[];
}) {
  const [at, setAt] = useState<number>();
  const [to, setTo] = useState<number>();
  const from = at ?? latest;
  const target = to ?? latest;
  const [view, setView] = useState<{ before: string; after: string; diff: VersionDiff }>();
  useEffect(() => {
    if (latest === 0) return;
    const abort = new AbortController();
    Promise.all([
      history.snapshotAt(from, abort.signal),
      history.snapshotAt(target, abort.signal),
      history.diff(from, target, abort.signal),
    ]).then(
      ([a, b, diff]) => setView({ before: asText(a.data), after: asText(b.data), diff }),
      () => {},
    );
    return () => abort.abort();
  }, [history, from, target, latest]);
  // Every version, newest first, named ones with their labels.
  const choices = Array.from({ length: latest }, (_, i) => latest - i);
  const labelOf = (v: number) => versions.find((n) => n.version === v)?.label;
  return (
    <section className="travel" aria-label="Time travel">
      <h3>Time travel</h3>
      <label>
        Version <output data-testid="at">{from}</output> of {latest}
        <input
          type="range"
          min={1}
          max={Math.max(latest, 1)}
          value={from}
          onChange={(e) => setAt(e.currentTarget.valueAsNumber)}
        />
      </label>
      <label>
        compared with{' '}
        <select value={target} onChange={(e) => setTo(Number(e.currentTarget.value))}>
          {choices.map((v) => (
            <option key={v} value={v}>
              v{v}
              {labelOf(v) === undefined ? '' : ` (${labelOf(v)})`}
            </option>
          ))}
        </select>
      </label>
      {view !== undefined && (
        <>
          <p className="summary">
            v{view.diff.from} → v{view.diff.to}: +{view.diff.summary.textInserted} −
            {view.diff.summary.textRemoved} by {view.diff.authors.map((a) => a.name).join(', ') || 'nobody'}
          </p>
          <TextDiff before={view.before} after={view.after} />
        </>
      )}
    </section>
  );
}

function Versions({
  versions,
  mayWrite,
  act,
  history,
}: {
  versions: NamedVersion[];
  mayWrite: boolean;
  act: (run: () => Promise<unknown>) => void;
  history: DocHistory;
}) {
  const [label, setLabel] = useState('');
  const [report, setReport] = useState<VerifyReport>();
  return (
    <section className="versions" aria-label="Named versions">
      <h3>Named versions</h3>
      {mayWrite && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            act(() => history.createVersion({ label }).then(() => setLabel('')));
          }}
        >
          <input
            value={label}
            onChange={(e) => setLabel(e.currentTarget.value)}
            placeholder="Label, e.g. v1.0"
            required
          />
          <button type="submit">Save version</button>
        </form>
      )}
      <ul>
        {versions.map((v) => {
          const check = report?.versions.find((c) => c.label === v.label);
          return (
            <li key={v.label} data-testid="named-version">
              <strong>{v.label}</strong> v{v.version} by {v.author?.name ?? 'server'} ·{' '}
              <code title={v.checksum}>{v.checksum.slice(0, 12)}…</code>{' '}
              {check !== undefined && (
                <span className={check.ok ? 'ok' : 'error'}>
                  {check.ok ? '✓ checksum verified' : '✗ checksum mismatch'}
                </span>
              )}
            </li>
          );
        })}
      </ul>
      <button
        type="button"
        onClick={() => history.verify().then(setReport, () => {})}
        disabled={versions.length === 0}
      >
        Verify checksums
      </button>
      {report !== undefined && (
        <p data-testid="verify" className={report.ok ? 'ok' : 'error'}>
          {report.ok
            ? 'Replaying every op gives every named version and the current document.'
            : 'History does not replay.'}
        </p>
      )}
    </section>
  );
}

/** Each character coloured by who wrote it. */
function Blame({
  history,
  collection,
  latest,
}: {
  history: DocHistory;
  collection: Collection;
  latest: number;
}) {
  const [blame, setBlame] = useState<BlameResult>();
  const path = collection === 'notes' ? ['text'] : ['notes'];
  useEffect(() => {
    if (latest > 0) history.blame(path).then(setBlame, () => {});
  }, [history, latest, collection]);
  if (blame === undefined) return null;
  const authors = [...new Map(blame.ranges.map((r) => [r.author?.id, r.author?.name ?? 'server'])).entries()];
  return (
    <section className="blame" aria-label="Blame">
      <h3>Blame ({path.join('/')})</h3>
      <p className="legend">
        {authors.map(([authorId, name]) => (
          <span key={authorId ?? ''} style={{ background: `${authorColour(authorId)}33` }}>
            {name}
          </span>
        ))}
      </p>
      <pre data-testid="blame">
        {blame.ranges.map((r) => (
          <span
            key={r.start}
            style={{ background: `${authorColour(r.author?.id)}33` }}
            title={`${r.author?.name ?? 'server'}, v${r.version}`}
          >
            {sliceCodePoints(blame.text, r.start, r.end)}
          </span>
        ))}
      </pre>
    </section>
  );
}
