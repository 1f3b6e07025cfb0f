/**
 * The binding in real Chromium: EditorViews bound through their own @tandem/client connections to
 * a real in-process Tandem server. Random concurrent edits converge to the server's snapshot;
 * carets, selections and ranges land on the right characters with emoji and astral text; undo
 * and redo touch only the local user's edits; hostile names and colours stay inert.
 */
import fc from 'fast-check';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { caller, haveChromium, type PageServer, pageServer, serverSnapshot } from './browser';
import type { Command, Harness, OpenOptions } from './fixtures/editors';

const browsers = haveChromium('the CodeMirror binding tests');
const RUNS = Number(process.env.TANDEM_PROPERTY_RUNS ?? 12);

let server: PageServer;
let page: Page;

beforeAll(async () => {
  if (!browsers) return;
  server = await pageServer(new URL('./fixtures/editors.ts', import.meta.url).pathname, {
    hooks: {
      authenticate: ({ token }) => (token === undefined ? { id: 'guest' } : JSON.parse(token)),
      // Viewers read; they cannot write (their edits are refused and rolled back).
      authorize: ({ principal, action }) => !(principal.role === 'viewer' && action === 'write'),
    },
  });
  page = await server.open();
});

afterEach(async () => {
  if (browsers) await call('closeAll');
});

afterAll(async () => {
  await server?.close();
});

const call = caller<Harness>(() => page);

let docs = 0;
const user = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({ id, name: id, ...extra });

/** Another editor on the body of document `id`. */
const join = (id: string, extra: Partial<OpenOptions>) =>
  call('open', { url: server.wsUrl, collection: 'notes', id, path: ['body'], ...extra });

/** A new document holding `text`, and `count` editors on it, each its own user (u0, u1, …). */
async function openEditors(count: number, text: string, extra: Partial<OpenOptions> = {}) {
  const id = `doc-${++docs}`;
  const indexes = [await join(id, { ...extra, token: user('u0'), create: { title: 'x', body: text } })];
  for (let i = 1; i < count; i++) indexes.push(await join(id, { ...extra, token: user(`u${i}`) }));
  return { id, indexes };
}

/** Wait until everyone is acknowledged and at the server's version; every editor then shows its text. */
async function converged(id: string, indexes: number[], seed?: number) {
  await call('settle', indexes);
  const snapshot = await serverSnapshot(server.tandem, 'notes', id);
  await call('atVersion', indexes, snapshot.v);
  for (const i of indexes) {
    const state = await call('state', i, ['body']);
    expect(state.text, `editor ${i} (seed ${seed})`).toBe(snapshot.data.body);
    expect(state.value, `editor ${i}'s document (seed ${seed})`).toBe(snapshot.data.body);
  }
  return snapshot.data.body as string;
}

// Letters, an emoji (2 UTF-16 units), an astral letter, CJK, a combining accent and a newline.
const chars = fc.constantFrom('a', 'b', 'Z', '😀', '𝒳', '字', 'e\u0301', '\n', '👩‍💻');
const text = fc.array(chars, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));
const fraction = fc.double({ min: 0, max: 1, noNaN: true });

function commands(editors: number): fc.Arbitrary<Command[]> {
  const editor = fc.integer({ min: 0, max: editors - 1 });
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('insert' as const), editor, at: fraction, text }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('delete' as const), editor, at: fraction, length: fraction }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('replace' as const),
        editor,
        at: fraction,
        length: fraction,
        text,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('multi' as const),
        editor,
        at: fc.tuple(fraction, fraction),
        text,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('select' as const),
        editor,
        anchor: fraction,
        head: fraction,
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('undo' as const, 'redo' as const), editor }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 15 }) }),
    },
  );
  return fc.array(command, { minLength: 5, maxLength: 40 });
}

describe.skipIf(!browsers)('text sync', () => {
  it('random concurrent edits in three editors converge to the server snapshot (emoji, astral, multi-range)', async () => {
    const seed = Number(process.env.TANDEM_SEED ?? Date.now() % 1_000_000);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('', 'héllo 😀 wörld\n𝒳yz'), commands(3), async (start, script) => {
        runs++;
        const { id, indexes } = await openEditors(3, start);
        await call('run', script);
        await converged(id, indexes, seed);
        await call('closeAll');
      }),
      { seed, numRuns: RUNS, endOnFailure: true },
    );
    console.log(
      `convergence: ${runs} runs (seed ${seed}; TANDEM_SEED replays, TANDEM_PROPERTY_RUNS for more)`,
    );
    expect(runs).toBeGreaterThanOrEqual(RUNS);
  });

  it('an editor created before the document loads, or with other text, follows the document', async () => {
    const { id, indexes } = await openEditors(1, 'loaded 😀');
    const late = await join(id, {
      token: user('late'),
      bindBeforeLoad: true,
      initialText: 'stale text',
    });
    await expect.poll(async () => (await call('state', late, ['body'])).text).toBe('loaded 😀');
    await call('dispatch', late, 9, 9, '!');
    await converged(id, [...indexes, late]);
    expect((await call('state', indexes[0], ['body'])).text).toBe('loaded 😀!');
  });

  it('two views of one user stay in step, and each keeps its own caret', async () => {
    const { id, indexes } = await openEditors(1, 'one two');
    const twin = await join(id, {
      sameClientAs: indexes[0],
    });
    await call('select', twin, 7);
    await call('dispatch', indexes[0], 0, 0, '😀 ');
    const state = await call('state', twin, ['body']);
    expect(state.text).toBe('😀 one two');
    expect(state.selection).toEqual([{ anchor: 10, head: 10 }]);
    await converged(id, [indexes[0], twin]);
  });

  it('keeps the local selection on its characters through remote edits before, after and around it', async () => {
    const { id, indexes } = await openEditors(2, 'a😀b𝒳c');
    const [me, peer] = indexes;
    // Select "b𝒳" (UTF-16 3..6).
    await call('select', me, 3, 6);
    await call('dispatch', peer, 0, 0, '👩‍💻'); // before: 5 units
    await call('dispatch', peer, 12, 12, '!'); // after, at the end
    await call('settle', [peer]);
    await expect.poll(async () => (await call('state', me, ['body'])).text).toBe('👩‍💻a😀b𝒳c!');
    const { text, selection } = await call('state', me, ['body']);
    expect(text.slice(selection[0].anchor, selection[0].head)).toBe('b𝒳');
    // A remote delete of the emoji just before the selection moves it back by two units.
    await call('dispatch', peer, 6, 8, '');
    await expect.poll(async () => (await call('state', me, ['body'])).text).toBe('👩‍💻ab𝒳c!');
    const after = await call('state', me, ['body']);
    expect(after.text.slice(after.selection[0].anchor, after.selection[0].head)).toBe('b𝒳');
    await converged(id, indexes);
  });

  it('ranges (in code points) move with local and remote edits and come back in code points', async () => {
    const { id, indexes } = await openEditors(2, 'x😀 comment here 𝒳');
    const [me, peer] = indexes;
    // Code points: x=0 😀=1 ' '=2, "comment" = 3..10.
    await call('setRanges', me, [
      { from: 3, to: 10, className: 'cm-comment', attributes: { 'data-id': 'c1' } },
    ]);
    expect(await call('marked', me, 'cm-comment')).toEqual(['comment']);
    await call('dispatch', peer, 0, 0, '𝒳𝒳'); // two code points, four units, before it
    await expect.poll(() => call('marked', me, 'cm-comment')).toEqual(['comment']);
    expect(await call('getRanges', me)).toEqual([
      { from: 5, to: 12, className: 'cm-comment', attributes: { 'data-id': 'c1' } },
    ]);
    await call('dispatch', me, 10, 10, '😀'); // inside "comment", after "co" (UTF-16 8..10)
    expect(await call('marked', me, 'cm-comment')).toEqual(['co😀mment']);
    expect((await call('getRanges', me))[0]).toMatchObject({ from: 5, to: 13 });
    await expect(
      call('setRanges', me, [{ from: 0, to: 1, className: 'x', attributes: { onclick: 'alert(1)' } }]),
    ).rejects.toThrow(/not allowed/);
    await converged(id, indexes);
  });

  it('a refused edit (a viewer) is rolled back in the editor and reported', async () => {
    const { id, indexes } = await openEditors(1, 'read only');
    const viewer = await join(id, {
      token: user('v', { role: 'viewer' }),
    });
    await call('dispatch', viewer, 0, 0, 'X');
    await expect.poll(async () => (await call('state', viewer, ['body'])).errors).toEqual(['FORBIDDEN']);
    await expect.poll(async () => (await call('state', viewer, ['body'])).text).toBe('read only');
    await converged(id, [...indexes, viewer]);
  });
});

const NAME = '<img src=x onerror="globalThis.pwned=1"><script>pwned=2</script>"\'> and more';

describe.skipIf(!browsers)('presence', () => {
  it('remote carets and selections land on the right characters with emoji and astral text', async () => {
    const start = 'a😀b𝒳c👩‍💻d';
    const { id, indexes } = await openEditors(2, start, {});
    const [ann, bob] = indexes;
    // Ann's caret after "a😀" (UTF-16 3), then a selection over "b𝒳" (3..6).
    await call('select', ann, 3);
    await expect.poll(() => call('carets', bob)).toMatchObject([{ pos: 3, name: 'u0' }]);
    await call('select', ann, 3, 6);
    await expect.poll(() => call('selections', bob)).toEqual(['b𝒳']);
    const [caret] = await call('carets', bob);
    expect(caret.pos).toBe(6);
    expect(caret.offsetPx).toBeLessThanOrEqual(2);
    // Bob types before Ann's selection: her caret and selection move with the text.
    await call('dispatch', bob, 0, 0, '😀😀');
    await expect.poll(() => call('selections', bob)).toEqual(['b𝒳']);
    await expect.poll(async () => (await call('carets', bob))[0]?.pos).toBe(10);
    // Ann sees Bob's caret after what he typed (a caret moves with its owner's insert).
    await expect.poll(() => call('carets', ann)).toMatchObject([{ pos: 4, name: 'u1' }]);
    await converged(id, indexes);
  });

  it('typing sends no presence per keystroke: peers move the caret with the op; a click sends one', async () => {
    const { id, indexes } = await openEditors(2, 'ab😀cd');
    const [me, peer] = indexes;
    await call('select', me, 4); // after the emoji
    await expect.poll(() => call('carets', peer)).toMatchObject([{ pos: 4 }]);
    const before = (await call('state', me, ['body'])).presenceSent;
    await page.keyboard.type('xyz');
    await page.keyboard.insertText('𝒳');
    await converged(id, indexes);
    // The peer's view of my caret followed my typing without a presence message.
    await expect.poll(() => call('carets', peer)).toMatchObject([{ pos: 9 }]);
    expect((await call('state', me, ['body'])).presenceSent).toBe(before);
    // A remote edit before my caret, then a click: one message, with the right place.
    await call('dispatch', peer, 0, 0, '😀');
    await converged(id, indexes);
    await call('select', me, 2);
    await expect.poll(() => call('carets', peer)).toMatchObject([{ pos: 2 }]);
    expect((await call('state', me, ['body'])).presenceSent).toBe(before + 1);
  });

  it('renders hostile names and colours as inert text', async () => {
    const { id, indexes } = await openEditors(1, 'hello world');
    const hostile = await join(id, {
      token: user('evil', {
        name: NAME,
        colour: 'red;background:url(javascript:globalThis.pwned=3)"><b',
      }),
    });
    await call('select', hostile, 5);
    await expect.poll(() => call('carets', indexes[0])).toHaveLength(1);
    const [caret] = await call('carets', indexes[0]);
    expect(caret.name).toBe([...NAME].slice(0, 64).join('')); // as text, capped at 64 code points
    expect(caret.colour).toBe('rgb(136, 136, 136)'); // the fallback colour
    // Only the markup CodeMirror and the caret use: no element or attribute from the payload.
    const { elements, attributes } = await call('markup', indexes[0]);
    expect(elements.filter((e) => !['br', 'div', 'img', 'span'].includes(e))).toEqual([]);
    expect(
      attributes.every((a) =>
        /^(class|style|title|contenteditable|spellcheck|autocorrect|autocapitalize|translate|writingsuggestions|role|tabindex|cm-[a-z-]+|aria-[a-z]+|data-[a-z-]+)$/.test(
          a,
        ),
      ),
      attributes.join(),
    ).toBe(true);
    expect(await page.evaluate(() => document.querySelectorAll('.cm-editor img').length)).toBe(
      await page.evaluate(() => document.querySelectorAll('.cm-editor img.cm-widgetBuffer').length),
    );
    expect(await page.evaluate(() => (globalThis as { pwned?: unknown }).pwned)).toBeUndefined();
    await converged(id, [...indexes, hostile]);
  });
});

describe.skipIf(!browsers)('undo and redo', () => {
  it('undo removes only my inserts, whatever others typed concurrently; redo restores them (property)', async () => {
    const seed = Number(process.env.TANDEM_SEED ?? Date.now() % 1_000_000);
    let runs = 0;
    const inserts = (editor: number, letters: string[]) =>
      fc.array(
        fc.oneof(
          fc.record({
            kind: fc.constant('insert' as const),
            editor: fc.constant(editor),
            at: fraction,
            text: fc
              .array(fc.constantFrom(...letters), { minLength: 1, maxLength: 3 })
              .map((a) => a.join('')),
          }),
          fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 10 }) }),
        ),
        { maxLength: 15 },
      );
    await fc.assert(
      fc.asyncProperty(
        inserts(0, ['a', 'b', '😀']),
        inserts(1, ['X', 'Y', '𝒳']),
        fc.boolean(),
        async (mine, theirs, interleave) => {
          runs++;
          // A third editor only watches: CodeMirror's history must stay empty there.
          const { id, indexes } = await openEditors(3, '', { withHistory: true });
          const script: Command[] = interleave
            ? [
                ...mine.flatMap((c, i) => (i < theirs.length ? [c, theirs[i]] : [c])),
                ...theirs.slice(mine.length),
              ]
            : [...mine, ...theirs];
          await call('run', script);
          const all = await converged(id, indexes, seed);
          // Remote changes never enter CodeMirror's own history.
          expect((await call('state', indexes[2], ['body'])).undoDepth, `seed ${seed}`).toBe(0);
          await call('replayAll', 0, 'undo');
          const undone = await converged(id, indexes, seed);
          expect(undone, `seed ${seed}`).toBe([...all].filter((c) => !'ab😀'.includes(c)).join(''));
          await call('replayAll', 0, 'redo');
          expect(await converged(id, indexes, seed), `seed ${seed}`).toBe(all);
          await call('closeAll');
        },
      ),
      { seed, numRuns: RUNS, endOnFailure: true },
    );
    console.log(`undo: ${runs} runs (seed ${seed})`);
    expect(runs).toBeGreaterThanOrEqual(RUNS);
  });

  it('Ctrl+Z and Ctrl+Shift+Z in the editor run Tandem undo, not CodeMirror history, and keep peers edits', async () => {
    const { id, indexes } = await openEditors(2, 'start', { withHistory: true });
    const [me, peer] = indexes;
    await call('focus', me);
    await page.locator('#editor-0 .cm-content').click();
    await page.keyboard.press('End');
    await page.keyboard.type(' mine');
    await page.keyboard.insertText('😀');
    await call('dispatch', peer, 0, 0, 'theirs ');
    await converged(id, indexes);
    await call('dispatch', peer, 'theirs start mine😀'.length, 'theirs start mine😀'.length, '!');
    await converged(id, indexes);
    const before = await call('state', me, ['body']);
    for (let i = 0; i < 6; i++) await page.keyboard.press('Control+z');
    const text = await converged(id, indexes);
    expect(text).not.toContain('mine');
    expect(text).not.toContain('😀');
    expect(text).toContain('theirs ');
    expect(text).toContain('!');
    // CodeMirror's history was not used: nothing moved to its redo side; Tandem's can redo.
    const undone = await call('state', me, ['body']);
    expect(undone.redoDepth).toBe(0);
    expect(undone.canRedo).toBe(true);
    // Shift+z types "Z" on a real keyboard (Playwright sends the key as written).
    for (let i = 0; i < 3; i++) await page.keyboard.press('Control+Shift+Z');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Control+y');
    expect(await converged(id, indexes)).toBe(before.text);
  });
});
