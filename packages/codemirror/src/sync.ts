/**
 * Text sync between an editor and the string at one path of a Tandem document. The editor holds
 * exactly the document's string: local transactions become one text op each (applied to the
 * document at once, so the two never differ between transactions), and every other change of the
 * string (peers' ops, undo/redo, rollbacks, a reload) becomes one transaction, annotated so it is
 * not sent back and not recorded by CodeMirror's history.
 */
import { Annotation, EditorSelection, EditorState, Transaction } from '@codemirror/state';
import { type EditorView, ViewPlugin, type ViewUpdate } from '@codemirror/view';
import type { DocChange } from '@tandem/client';
import {
  diffText,
  editText,
  type Presence,
  type TextOp,
  toCodePointIndex,
  transformPresence,
} from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type Change, lengthAfter, stringAt, textEditAt, toChanges, toTextOp } from './changes';
import { type Binding, binding } from './config';

/** Marks the transactions that carry the document's changes into the editor. */
export const fromTandem = Annotation.define<true>();

class Sync {
  /** The document's string as the editor holds it (equal to the editor's text once `synced`). */
  private text: string;
  private synced: boolean;
  private submitting = false;
  /** Set while this editor's undo/redo runs: its change moves the caret to where it happened. */
  private replaying = false;
  /**
   * What peers show for this user now: the last selection shared, moved through this user's own
   * edits since as every peer moves it (ShareDB transforms a peer's presence by their own ops).
   */
  private shared: Presence | null = null;
  private destroyed = false;
  private readonly stop: (() => void)[];

  constructor(
    private readonly view: EditorView,
    private readonly config: Binding,
  ) {
    const { doc, path } = config;
    this.text = stringAt(doc.data, path) ?? '';
    // An editor created with other text is replaced once, as soon as it may be dispatched to.
    this.synced = view.state.doc.length === this.text.length && view.state.doc.toString() === this.text;
    if (!this.synced) queueMicrotask(() => this.pull(undefined));
    this.stop = [
      doc.on('change', (change: DocChange) => {
        if (this.submitting) return;
        if (this.shared !== null) this.shared = transformPresence(this.shared, change.op, false);
        this.pull(textEditAt(change.op, path));
      }),
      doc.on('load', () => {
        this.shared = null;
        this.pull(undefined);
      }),
    ];
  }

  update(update: ViewUpdate): void {
    let local = false;
    for (const tr of update.transactions) {
      if (tr.annotation(fromTandem)) continue;
      local ||= tr.selection !== undefined || tr.docChanged;
      if (tr.docChanged) this.push(tr);
    }
    if (local || (update.focusChanged && update.view.hasFocus)) this.share(update.state);
  }

  /** Run this editor's undo or redo; its change lands with the caret at its end. */
  replay(run: () => Promise<boolean>): void {
    this.replaying = true;
    let done: Promise<boolean>;
    try {
      done = run();
    } finally {
      this.replaying = false;
    }
    done.catch((error: unknown) => this.report(error));
  }

  /** A local transaction: the same edit, as one op, in code points of the text it applied to. */
  private push(tr: Transaction): void {
    const { doc, path } = this.config;
    if (!this.synced) return; // overwritten by the pending resync
    if (stringAt(doc.data, path) !== this.text) {
      // The document changed without telling us (cannot happen through the client's events):
      // the edit cannot be placed, so the editor is resynchronised instead.
      this.resync();
      return;
    }
    let done: Promise<void>;
    this.submitting = true;
    try {
      const op = editText(path, toTextOp(this.text, tr.changes));
      done = doc.submit(op);
      if (this.shared !== null) this.shared = transformPresence(this.shared, op, true);
    } catch (error) {
      this.report(error);
      this.resync();
      return;
    } finally {
      this.submitting = false;
    }
    // Refused edits (a viewer, a lock, a reject policy) are rolled back by the client; the
    // rollback reaches the editor as a change like any other.
    done.catch((error: unknown) => this.report(error));
    this.text = stringAt(doc.data, path) ?? '';
  }

  /** Bring the editor to the document's string, by `edit` when it fits, else by a diff. */
  private pull(edit: TextOp | undefined): void {
    if (this.destroyed) return;
    const next = stringAt(this.config.doc.data, this.config.path) ?? '';
    let changes: Change[] | undefined;
    if (!this.synced) changes = [{ from: 0, to: this.view.state.doc.length, insert: next }];
    else if (next === this.text) return;
    else {
      if (edit !== undefined) changes = toChanges(this.text, edit);
      if (changes === undefined || lengthAfter(this.text, changes) !== next.length)
        changes = toChanges(this.text, diffText(this.text, next) ?? []);
    }
    this.text = next;
    this.synced = true;
    const mine = this.replaying;
    const last = changes?.at(-1);
    this.view.dispatch({
      changes,
      // Other extensions' filters must not alter what the document already holds.
      filter: false,
      annotations: [fromTandem.of(true), Transaction.addToHistory.of(false), Transaction.remote.of(!mine)],
      ...(mine && last !== undefined
        ? { selection: EditorSelection.cursor(endOf(last, changes as Change[])), scrollIntoView: true }
        : {}),
    });
  }

  private resync(): void {
    this.synced = false;
    queueMicrotask(() => this.pull(undefined));
  }

  /** This user's selection as presence, in code points of the document's string. */
  private share(state: EditorState): void {
    const { doc, path } = this.config;
    if (!this.synced || stringAt(doc.data, path) === undefined) return;
    const selections = state.selection.ranges.map((r) => ({
      anchor: toCodePointIndex(this.text, r.anchor),
      head: toCodePointIndex(this.text, r.head),
    }));
    const value = { path, offset: selections[state.selection.mainIndex].head, selections };
    // Typing moves the caret exactly as peers already move it: nothing to send.
    if (this.shared !== null && samePresence(this.shared, value)) return;
    this.shared = value;
    // Best effort: presence that cannot be sent now (offline) is resent by the client later.
    doc.presence.update(value).catch(() => {});
  }

  private report(error: unknown): void {
    this.config.onError(
      error instanceof TandemError
        ? error
        : new TandemError(ErrorCode.INTERNAL, String((error as Error)?.message)),
    );
  }

  destroy(): void {
    this.destroyed = true;
    for (const stop of this.stop) stop();
  }
}

function samePresence(a: Presence, b: Presence): boolean {
  const sa = a.selections ?? [];
  const sb = b.selections ?? [];
  return (
    a.offset === b.offset &&
    sa.length === sb.length &&
    sa.every((s, i) => s.anchor === sb[i].anchor && s.head === sb[i].head)
  );
}

/** Where the last change ends in the new text (changes are in old-text positions, in order). */
function endOf(last: Change, changes: readonly Change[]): number {
  let shift = 0;
  for (const c of changes) if (c !== last) shift += c.insert.length - (c.to - c.from);
  return last.from + shift + last.insert.length;
}

/** Installed by tandemCollab() with its binding, so the facet always has a value here. */
export const syncPlugin = ViewPlugin.define((view) => new Sync(view, view.state.facet(binding) as Binding));

/** Local edits need a string to edit: none while the path holds no string (not loaded, deleted). */
export const needsString = EditorState.changeFilter.of((tr) => {
  if (tr.annotation(fromTandem)) return true;
  const config = tr.startState.facet(binding);
  return config === null || stringAt(config.doc.data, config.path) !== undefined;
});
