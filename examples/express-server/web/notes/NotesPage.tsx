/** Part 1, the document: a shared title and text, who is here, undo/redo, comments on the text. */
import { useDoc, useUndo } from '@tandem/react';
import { useMemo, useState } from 'react';
import { canEdit, type DemoUser, type Note } from '../../shared/model';
import { ConflictNotices } from '../ConflictNotices';
import { CommentsPanel, useThreads } from '../comments/CommentsPanel';
import { PresenceList } from '../PresenceList';
import { SharedText } from '../SharedText';
import { Editor } from './Editor';

export function NotesPage({ id, user }: { id: string; user: DemoUser }) {
  const { doc, status, error } = useDoc<Note>('notes', id);
  const { canUndo, canRedo, undo, redo } = useUndo(doc);
  const [refusal, setRefusal] = useState<string>();
  const [selection, setSelection] = useState({ start: 0, end: 0 });
  const threads = useThreads(doc);
  const marks = useMemo(
    () =>
      threads.flatMap((t) =>
        t.resolved || t.anchor.start === undefined || t.anchor.end === undefined
          ? []
          : [{ id: t.id, start: t.anchor.start, end: t.anchor.end }],
      ),
    [threads],
  );
  const editable = canEdit(user.role);
  if (status === 'error') return <p className="error">Cannot open this note: {error?.message}</p>;
  if (status === 'loading') return <p>Loading…</p>;
  if (doc.data === undefined) return <p>This note does not exist.</p>;
  const fail = (e: unknown) => setRefusal((e as Error).message);
  return (
    <div className="doc-page">
      <div className="doc-main">
        <div className="toolbar">
          <SharedText
            doc={doc}
            path={['title']}
            className="title"
            aria-label="Title"
            readOnly={!editable}
            onFailure={fail}
          />
          <button
            type="button"
            onClick={() => undo()}
            disabled={!canUndo}
            title="Undo your last edit (Ctrl+Z)"
          >
            Undo
          </button>
          <button type="button" onClick={() => redo()} disabled={!canRedo} title="Redo (Ctrl+Y)">
            Redo
          </button>
        </div>
        {!editable && <p className="notice">You are a {user.role} here: you can read, not edit.</p>}
        <ConflictNotices
          doc={doc}
          me={user.id}
          labelOf={(path) => (path[0] === 'title' ? 'the title' : 'the text')}
        />
        {refusal !== undefined && (
          <p className="error" role="alert">
            Refused by the server: {refusal}
          </p>
        )}
        <Editor
          doc={doc}
          path={['text']}
          readOnly={!editable}
          onError={(e) => fail(e)}
          marks={marks}
          onSelection={setSelection}
        />
      </div>
      <aside className="side">
        <PresenceList doc={doc} me={user} />
        <CommentsPanel doc={doc} user={user} selection={selection} />
      </aside>
    </div>
  );
}
