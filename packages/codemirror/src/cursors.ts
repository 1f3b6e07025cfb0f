/**
 * Peers' carets and selections in the editor, from the document's presence: a coloured caret
 * with the peer's name and a tinted selection. Names are rendered as text and colours are checked
 * before they reach a style, so whatever a peer's principal carries stays inert. Presence offsets
 * are code points in the document's string; ShareDB moves them through every op, so they are
 * always relative to the text the editor holds.
 */
import { type Extension, type Range, StateEffect } from '@codemirror/state';
import {
  Decoration,
  type DecorationSet,
  EditorView,
  ViewPlugin,
  type ViewUpdate,
  WidgetType,
} from '@codemirror/view';
import type { PeerPresence } from '@tandem/client';
import { type Path, toUtf16Index } from '@tandem/ot';
import { stringAt } from './changes';
import { type Binding, binding } from './config';

/** Peers send their own selections: bound what one of them can make us draw. */
const MAX_SELECTIONS = 64;
const MAX_NAME = 64;
const FALLBACK_COLOUR = '#888888';

/**
 * Hex, a colour keyword, or a colour function without nesting, quotes, `;` or `:` (so nothing can
 * leave the style value), then the browser's own parser when there is one.
 */
const COLOUR = /^(#[0-9a-f]{3,8}|[a-z]{3,30}|(rgba?|hsla?|hwb|lab|lch|oklab|oklch)\([\w\s.,%/+-]{1,64}\))$/i;

export function safeColour(value: unknown): string {
  if (typeof value !== 'string' || !COLOUR.test(value)) return FALLBACK_COLOUR;
  const css = (globalThis as { CSS?: { supports?(property: string, value: string): boolean } }).CSS;
  if (css?.supports !== undefined && !css.supports('color', value)) return FALLBACK_COLOUR;
  return value;
}

class CaretWidget extends WidgetType {
  constructor(
    readonly name: string,
    readonly colour: string,
  ) {
    super();
  }

  override eq(other: CaretWidget): boolean {
    return other.name === this.name && other.colour === this.colour;
  }

  toDOM(): HTMLElement {
    const caret = document.createElement('span');
    caret.className = 'cm-tandem-caret';
    caret.style.borderLeftColor = this.colour;
    const label = document.createElement('span');
    label.className = 'cm-tandem-caret-label';
    label.style.backgroundColor = this.colour;
    label.textContent = this.name;
    caret.append('\u2060', label); // a word joiner keeps the caret's line box without adding width
    return caret;
  }

  override ignoreEvent(): boolean {
    return true;
  }
}

const samePath = (a: unknown, b: Path): boolean =>
  Array.isArray(a) && a.length === b.length && a.every((key, i) => key === b[i]);

function decorate(peers: readonly PeerPresence[], text: string, path: Path): DecorationSet {
  const ranges: Range<Decoration>[] = [];
  const at = (offset: unknown): number | undefined =>
    typeof offset === 'number' && Number.isInteger(offset) && offset >= 0
      ? toUtf16Index(text, offset)
      : undefined;
  for (const peer of peers) {
    if (!samePath(peer.path, path)) continue;
    const colour = safeColour(peer.user?.colour);
    const name = typeof peer.user?.name === 'string' ? [...peer.user.name].slice(0, MAX_NAME).join('') : '';
    const selections = Array.isArray(peer.selections) ? peer.selections.slice(0, MAX_SELECTIONS) : [];
    const tint = Decoration.mark({
      class: 'cm-tandem-selection',
      attributes: { style: `background-color: color-mix(in srgb, ${colour} 25%, transparent)` },
    });
    for (const s of selections) {
      const anchor = at(s?.anchor);
      const head = at(s?.head);
      if (anchor === undefined || head === undefined || anchor === head) continue;
      ranges.push(tint.range(Math.min(anchor, head), Math.max(anchor, head)));
    }
    const caret = at(peer.offset) ?? at(selections[0]?.head);
    if (caret !== undefined)
      ranges.push(Decoration.widget({ widget: new CaretWidget(name, colour), side: 1 }).range(caret));
  }
  return Decoration.set(ranges, true);
}

/** Presence changed: rebuild (a microtask later, once per burst: every peer's move is an event). */
const refresh = StateEffect.define<null>();

class Cursors {
  decorations: DecorationSet;
  private scheduled = false;
  private destroyed = false;
  private readonly stop: () => void;

  constructor(
    private readonly view: EditorView,
    private readonly config: Binding,
  ) {
    this.decorations = this.build();
    this.stop = config.doc.presence.on('change', () => this.schedule());
  }

  update(update: ViewUpdate): void {
    if (update.transactions.some((tr) => tr.effects.some((e) => e.is(refresh))))
      this.decorations = this.build();
    else if (update.docChanged) this.decorations = this.decorations.map(update.changes);
  }

  private build(): DecorationSet {
    const { doc, path } = this.config;
    const text = stringAt(doc.data, path);
    // Out of step with the editor only until the sync's pending resync: draw nothing meanwhile.
    if (text === undefined || text.length !== this.view.state.doc.length) return Decoration.none;
    return decorate(doc.presence.peers(), text, path);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (!this.destroyed) this.view.dispatch({ effects: refresh.of(null) });
    });
  }

  destroy(): void {
    this.destroyed = true;
    this.stop();
  }
}

const cursorsPlugin = ViewPlugin.define((view) => new Cursors(view, view.state.facet(binding) as Binding), {
  decorations: (cursors) => cursors.decorations,
});

/**
 * The name shows for a few seconds when a caret appears or moves (a new widget), then on hover, so
 * it does not hide the text above for long.
 */
const theme = EditorView.baseTheme({
  '.cm-tandem-caret': {
    position: 'relative',
    borderLeft: '2px solid',
    marginLeft: '-1px',
    marginRight: '-1px',
  },
  '.cm-tandem-caret-label': {
    position: 'absolute',
    bottom: '100%',
    left: '-2px',
    padding: '0 3px',
    borderRadius: '3px 3px 3px 0',
    color: 'white',
    fontSize: '0.75em',
    lineHeight: '1.4',
    whiteSpace: 'nowrap',
    userSelect: 'none',
    pointerEvents: 'none',
    opacity: '0',
    animation: 'cm-tandem-label 3s',
  },
  '.cm-tandem-caret:hover .cm-tandem-caret-label': { opacity: '1', animation: 'none' },
  '@keyframes cm-tandem-label': { '0%, 80%': { opacity: '1' }, '100%': { opacity: '0' } },
});

/** Peers' carets and selections (part of tandemCollab). */
export const remoteCursors: Extension = [cursorsPlugin, theme];
