/**
 * Injected into every page of the keystroke suite: when each benchmark character was typed here
 * (its `beforeinput`), when it appeared in this page's editor DOM (a MutationObserver), and when
 * the frame that shows it began (the next requestAnimationFrame). Times are epoch milliseconds
 * with sub-millisecond precision (timeOrigin + now), comparable between pages of one machine.
 * Benchmark characters are CJK ideographs, each typed once, so a character names its keystroke.
 */
const FIRST = 0x4e00;
const LAST = 0x9fff;
const isBench = (ch: string): boolean => {
  const c = ch.codePointAt(0) ?? 0;
  return c >= FIRST && c <= LAST;
};
const now = (): number => performance.timeOrigin + performance.now();

const typed = new Map<string, number>();
const seen = new Map<string, number>();
const painted = new Map<string, number>();

document.addEventListener(
  'beforeinput',
  (event) => {
    const at = performance.timeOrigin + event.timeStamp;
    for (const ch of event.data ?? '') if (isBench(ch) && !typed.has(ch)) typed.set(ch, at);
  },
  true,
);

function scan(root: Element): void {
  const at = now();
  const fresh: string[] = [];
  for (const ch of root.textContent ?? '')
    if (isBench(ch) && !seen.has(ch)) {
      seen.set(ch, at);
      fresh.push(ch);
    }
  if (fresh.length === 0) return;
  requestAnimationFrame(() => {
    const frame = now();
    for (const ch of fresh) painted.set(ch, frame);
  });
}

const selector = (globalThis as { keystrokeSelector?: string }).keystrokeSelector ?? '.cm-content';
const watch = setInterval(() => {
  const root = document.querySelector(selector);
  if (root === null) return;
  clearInterval(watch);
  new MutationObserver(() => scan(root)).observe(root, {
    childList: true,
    subtree: true,
    characterData: true,
  });
  scan(root);
}, 10);

(globalThis as { keystroke?: unknown }).keystroke = {
  results: () => ({ typed: [...typed], seen: [...seen], painted: [...painted] }),
};
