/**
 * Comments on a note (@tandem/comments through `comments(doc)` from `@tandem/client/comments`): threads anchored to a range of the
 * text that follow every edit, replies with @mentions, reactions, resolve/reopen, and who is
 * typing a comment (their presence is on the thread's reply box). Bodies are rendered as text.
 */
import type { PeerPresence, TandemDoc } from '@tandem/client';
import { type CommentInput, comments as commentsOf, type Thread } from '@tandem/client/comments';
import { REACTIONS } from '@tandem/protocol';
import { shallowEqual, useOthers } from '@tandem/react';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { DEMO_USERS, type DemoUser } from '../../shared/model';
import { time } from '../authors';
import { EMOJI } from './reactions';

/** The document's threads, loaded on mount and kept current (anchors move with every edit). */
export function useThreads(doc: TandemDoc<any>): readonly Thread[] {
  const comments = commentsOf(doc);
  useEffect(() => {
    comments.list().catch(() => {}); // refused for nobody who may read; retried on reconnect
  }, [comments]);
  return useSyncExternalStore(
    (onChange) => comments.on('change', onChange),
    () => comments.threads,
  );
}

/** `@Bob` in a comment mentions Bob (who gets a notification). */
function withMentions(text: string): CommentInput {
  const mentions = [...text.matchAll(/@(\w+)/g)].flatMap((match) => {
    const user = DEMO_USERS.find((u) => u.name.toLowerCase() === match[1].toLowerCase());
    return user === undefined
      ? []
      : [{ start: match.index, end: match.index + match[0].length, userId: user.id }];
  });
  return { text, mentions };
}

/** Who is writing in which box (`['comments', threadId | 'new']` presence). */
const writers = (peers: PeerPresence[]) =>
  peers
    .filter((p) => p.path[0] === 'comments')
    .map((p) => ({ id: p.presenceId, name: p.user.name, box: String(p.path[1]) }));
const sameWriters = (a: ReturnType<typeof writers>, b: ReturnType<typeof writers>) =>
  a.length === b.length && a.every((w, i) => shallowEqual(w, b[i]));

interface Props {
  doc: TandemDoc<any>;
  user: DemoUser;
  /** The editor's selection (JS string indexes), where a new thread would hang. */
  selection: { start: number; end: number };
}

export function CommentsPanel({ doc, user, selection }: Props) {
  const threads = useThreads(doc);
  const typing = useOthers(doc, writers, sameWriters);
  const [failure, setFailure] = useState<string>();
  const mayComment = user.role !== 'viewer';
  const comments = commentsOf(doc);
  const run = (action: () => Promise<unknown>) =>
    action().then(
      () => setFailure(undefined),
      (error: unknown) => setFailure((error as Error).message),
    );
  const typingIn = (box: string) => typing.filter((w) => w.box === box).map((w) => w.name);
  return (
    <section className="comments" aria-label="Comments">
      <h3>Comments</h3>
      {failure !== undefined && (
        <p className="error" role="alert">
          {failure}
        </p>
      )}
      {mayComment &&
        (selection.end > selection.start ? (
          <Composer
            doc={doc}
            box="new"
            label="Comment on the selection"
            onSend={(text) =>
              run(() => comments.add({ anchor: { path: ['text'], ...selection }, body: withMentions(text) }))
            }
          />
        ) : (
          <p className="hint">Select text in the editor to comment on it (@Name mentions someone).</p>
        ))}
      <Typing names={typingIn('new')} />
      {threads.map((thread) => (
        <article
          key={thread.id}
          className={`thread${thread.resolved ? ' resolved' : ''}`}
          data-testid="thread"
          data-thread={thread.id}
        >
          <blockquote>{thread.detached ? `${thread.quote} (text deleted)` : thread.quote}</blockquote>
          {thread.comments.map((comment) => (
            <div key={comment.id} className="comment" data-testid="comment">
              <p className="meta">
                <strong>{comment.author.name}</strong> <span className="when">{time(comment.createdAt)}</span>
              </p>
              <Body text={comment.body.text} mentions={comment.body.mentions} />
              <p className="reactions">
                {REACTIONS.map((reaction) => {
                  const who = comment.reactions[reaction] ?? [];
                  if (who.length === 0 && !mayComment) return null;
                  return (
                    <button
                      key={reaction}
                      type="button"
                      className={who.includes(user.id) ? 'reaction mine' : 'reaction'}
                      disabled={!mayComment}
                      aria-label={reaction}
                      onClick={() => run(() => comments.react(thread.id, comment.id, reaction))}
                    >
                      {EMOJI[reaction]}
                      {who.length > 0 && <span data-testid={`count-${reaction}`}> {who.length}</span>}
                    </button>
                  );
                })}
              </p>
            </div>
          ))}
          <Typing names={typingIn(thread.id)} />
          {thread.resolved ? (
            <p className="resolved-by">
              Resolved by {thread.resolved.by.name}
              {mayComment && (
                <button type="button" className="link" onClick={() => run(() => comments.reopen(thread.id))}>
                  Reopen
                </button>
              )}
            </p>
          ) : (
            mayComment && (
              <>
                <Composer
                  doc={doc}
                  box={thread.id}
                  label="Reply"
                  onSend={(text) => run(() => comments.reply(thread.id, withMentions(text)))}
                />
                <button type="button" className="link" onClick={() => run(() => comments.resolve(thread.id))}>
                  Resolve
                </button>
              </>
            )
          )}
        </article>
      ))}
    </section>
  );
}

function Typing({ names }: { names: string[] }) {
  if (names.length === 0) return null;
  return (
    <p className="typing" data-testid="typing">
      {names.join(', ')} {names.length === 1 ? 'is' : 'are'} typing…
    </p>
  );
}

/** Plain text with its mentions marked (by offsets: the text is never parsed as markup). */
function Body({ text, mentions }: { text: string; mentions: { start: number; end: number }[] }) {
  const parts: (string | { mention: string; at: number })[] = [];
  let at = 0;
  for (const m of mentions) {
    parts.push(text.slice(at, m.start), { mention: text.slice(m.start, m.end), at: m.start });
    at = m.end;
  }
  parts.push(text.slice(at));
  return (
    <p className="body">
      {parts.map((part) =>
        typeof part === 'string' ? (
          part
        ) : (
          <mark key={part.at} className="mention">
            {part.mention}
          </mark>
        ),
      )}
    </p>
  );
}

/** A comment box: writing in it is shown to others as "typing…" (presence on the box). */
function Composer({
  doc,
  box,
  label,
  onSend,
}: {
  doc: TandemDoc<any>;
  box: string;
  label: string;
  onSend: (text: string) => Promise<unknown>;
}) {
  const [text, setText] = useState('');
  const share = (path: (string | number)[]) => doc.presence.update({ path }).catch(() => {});
  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        onSend(text).then(() => setText(''));
        share([]);
      }}
    >
      <textarea
        aria-label={label}
        placeholder={label}
        value={text}
        onChange={(event) => {
          setText(event.currentTarget.value);
          share(event.currentTarget.value === '' ? [] : ['comments', box]);
        }}
        onBlur={() => share([])}
      />
      <button type="submit" disabled={text.trim() === ''}>
        {label === 'Reply' ? 'Reply' : 'Comment'}
      </button>
    </form>
  );
}
