// The demo page, bundled with esbuild by src/app.ts and served as /app.js: a textarea bound to the
// string at ['text'] of one shared document, with the other windows' carets and names drawn on an
// overlay that mirrors the textarea's layout.
import { connect, indexedDbStore, shiftIndex } from '@tandem/client';

const params = new URLSearchParams(location.search);
// One identity per tab (sessionStorage survives a reload of this tab, not other tabs).
const tabId = sessionStorage.getItem('tandem-tab') ?? `u${Math.random().toString(36).slice(2, 8)}`;
sessionStorage.setItem('tandem-tab', tabId);
const name = params.get('name') ?? sessionStorage.getItem('tandem-name') ?? `Guest ${tabId.slice(1, 4)}`;
sessionStorage.setItem('tandem-name', name);
const docId = params.get('doc') ?? 'welcome';

const textarea = document.getElementById('text');
const overlay = document.getElementById('overlay');
const statusEl = document.getElementById('status');
const people = document.getElementById('people');

const client = connect(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/tandem`, {
  token: `${tabId}:${name}`,
  // Edits made offline survive a reload of this tab.
  offlineStore: indexedDbStore(`tandem-offline-${tabId}`),
});
window.tandemClient = client; // for the browser test and the curious

const showStatus = () => {
  const unsynced = client.unsyncedCount;
  statusEl.dataset.status = client.status;
  statusEl.textContent = `${client.status} as ${name}${unsynced ? ` · ${unsynced} unsynced` : ''}`;
};
client.on('status', showStatus);
client.on('unsynced', showStatus);

const doc = client.doc('pads', docId);
await doc.subscribe();
if (doc.data === undefined) {
  await doc
    .create({ text: 'Welcome to Tandem. Open this page in another window and type in both.\n' })
    .catch(() => {});
  await doc.subscribe();
}
const text = doc.text(['text']);
textarea.value = text.value;
textarea.disabled = false;
showStatus();

const shareCursor = () => {
  const start = textarea.selectionStart;
  const end = textarea.selectionEnd;
  doc.presence
    .update({
      path: ['text'],
      offset: text.toOffset(end),
      selections: [{ anchor: text.toOffset(start), head: text.toOffset(end) }],
    })
    .catch(() => {});
};

textarea.addEventListener('input', () => {
  text.set(textarea.value).catch(() => {});
  shareCursor();
});
for (const event of ['select', 'keyup', 'click', 'focus']) textarea.addEventListener(event, shareCursor);
textarea.addEventListener('scroll', () => {
  overlay.scrollTop = textarea.scrollTop;
});

// Remote edits: replace the value and keep our caret where it was, relative to the text.
text.on('change', ({ value, shift, local }) => {
  if (local) return;
  const start = shiftIndex(textarea.selectionStart, shift);
  const end = shiftIndex(textarea.selectionEnd, shift);
  textarea.value = value;
  textarea.setSelectionRange(start, end);
  render();
});

// Everything users control (text, names, ids, colours) goes in as text or a checked style value,
// never as markup: another window's content can never run here.
const safeColour = (c) => (typeof c === 'string' && CSS.supports('color', c) ? c : '#888');

function caret(peer) {
  const mark = document.createElement('span');
  mark.className = 'caret';
  mark.dataset.user = peer.user.id;
  mark.style.borderColor = safeColour(peer.user.colour);
  const label = document.createElement('span');
  label.className = 'label';
  label.style.background = safeColour(peer.user.colour);
  label.textContent = `${peer.user.name}${peer.rtt === undefined ? '' : ` · ${Math.round(peer.rtt)} ms`}`;
  mark.append(label);
  return mark;
}

function render() {
  const value = text.value;
  const peers = doc.presence.peers().filter((p) => p.offset !== undefined);
  const marks = peers
    .map((p) => ({ at: Math.min(text.toIndex(p.offset), value.length), peer: p }))
    .sort((a, b) => a.at - b.at);
  const parts = [];
  let last = 0;
  for (const { at, peer } of marks) {
    parts.push(value.slice(last, at), caret(peer));
    last = at;
  }
  parts.push(`${value.slice(last)}\n`);
  overlay.replaceChildren(...parts);
  overlay.scrollTop = textarea.scrollTop;
  people.replaceChildren(
    ...[{ user: { name: `${name} (you)`, colour: '#555' } }, ...doc.presence.peers()].map((p) => {
      const item = document.createElement('li');
      item.style.background = safeColour(p.user.colour);
      item.textContent = `${p.user.name}${p.status ? ` · ${p.status}` : ''}`;
      return item;
    }),
  );
}

doc.presence.on('change', render);
render();
shareCursor();
