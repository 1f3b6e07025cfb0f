/**
 * The demo end to end: one server (SQLite in a temporary folder), the page built by Vite, and
 * several real Chromium windows (one browser, a context per window: own storage, own sign-in).
 * Each numbered part of the demo is driven as a user would, and checked in the other windows.
 * UPDATE_SCREENSHOTS=1 also saves a screenshot of each part into docs/screenshots/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@tandem/client';
import { comments } from '@tandem/client/comments';
import { insert, replace, spliceTextAtCodePoint } from '@tandem/ot';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { haveChromium, launchChromium } from '../../../test/chromium';
import { assertFreshDist } from '../../../test/fresh-dist';
import { type Demo, startDemo } from '../src/app';
import { cuttableLink, type Link } from './network';

const browsers = haveChromium('the demo end-to-end test');
const root = fileURLToPath(new URL('..', import.meta.url));
const screenshots = process.env.UPDATE_SCREENSHOTS === '1' ? join(root, '../../docs/screenshots') : undefined;

let demo: Demo;
let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'tandem-demo-'));

beforeAll(async () => {
  if (!browsers) return;
  // The page bundles the packages from their dist/, as apps do: it must be fresh.
  assertFreshDist(['protocol', 'ot', 'client', 'codemirror', 'react']);
  const pageDir = join(dir, 'page');
  await build({
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: pageDir, emptyOutDir: true },
  });
  demo = await startDemo({ port: 0, storage: `sqlite:${join(dir, 'demo.db')}`, pageDir, heartbeatMs: 1000 });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Window {
  page: Page;
  context: BrowserContext;
}

/** A new browser window signed in as `user` at `hash` (through `link`, if given), once online. */
async function open(user: string, hash: string, link?: Link): Promise<Window> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  // A sentinel any injected script would change (see the hostile-content test).
  await context.addInitScript(() => {
    (window as any).__xss = 0;
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`[${user}] page error: ${error.message}`));
  await page.goto(`${link?.url ?? demo.url}?as=${user}${hash}`);
  await page.waitForSelector('.sync[data-status="online"]');
  return { page, context };
}

/** Cut the window's network (its link, and the browser's online flag) until the returned restore. */
async function goOffline(window: Window, link: Link): Promise<() => Promise<void>> {
  link.cut();
  await window.context.setOffline(true);
  await window.page.waitForSelector('.sync[data-status="offline"]');
  return async () => {
    link.restore();
    await window.context.setOffline(false); // the page's 'online' listener reconnects
  };
}

async function shoot(page: Page, name: string): Promise<void> {
  if (screenshots === undefined) return;
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`) });
}

/** The data of a document as the page's client holds it. */
function data<T>(page: Page, collection: string, id: string): Promise<T> {
  return page.evaluate(([c, i]) => (window as any).tandemClient.doc(c, i).data, [
    collection,
    id,
  ] as const) as Promise<T>;
}

/** Submit an op from the page's own client, around the UI (what a user with devtools could do). */
function rawSubmit(page: Page, collection: string, id: string, op: unknown): Promise<string> {
  return page.evaluate(
    ([c, i, o]) =>
      (window as any).tandemClient
        .doc(c, i)
        .submit(o)
        .then(
          () => 'accepted',
          (e: { code: string }) => e.code,
        ),
    [collection, id, op] as const,
  );
}

/** The text the editor shows, line by line, without the peers' caret widgets. */
const editorText = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('.cm-content .cm-line')]
      .map((line) => {
        const copy = line.cloneNode(true) as Element;
        for (const widget of copy.querySelectorAll('.cm-tandem-caret, .cm-widgetBuffer')) widget.remove();
        return copy.textContent;
      })
      .join('\n'),
  );

describe.skipIf(!browsers)('the demo, in several real browser windows', () => {
  it('1. document: CodeMirror co-editing, carets, presence with status and RTT, sync status, undo of own edits only', async () => {
    const link = await cuttableLink(demo.url);
    const [ann, bob] = await Promise.all([
      open('ann', '#/notes/welcome', link),
      open('bob', '#/notes/welcome'),
    ]);

    await ann.page.click('.cm-content');
    await ann.page.keyboard.press('Control+End');
    await ann.page.keyboard.type('Hello from Ann.');
    await bob.page.waitForFunction(() =>
      document.querySelector('.cm-content')?.textContent?.includes('Hello from Ann.'),
    );
    await bob.page.click('.cm-content');
    await bob.page.keyboard.press('Control+Home');
    await bob.page.keyboard.insertText('Bob was here. ');
    await ann.page.waitForFunction(() =>
      document.querySelector('.cm-content')?.textContent?.startsWith('Bob was here. '),
    );

    // Each window draws the other's caret with the name the server authenticated.
    await ann.page.waitForSelector('.cm-tandem-caret-label:text("Bob")', { state: 'attached' });
    await bob.page.waitForSelector('.cm-tandem-caret-label:text("Ann")', { state: 'attached' });
    // The presence list: name, status and the round-trip time the server measured.
    await ann.page.waitForSelector('[data-testid="peer"]:has-text("Bob"):has-text("ms")');
    expect(await ann.page.locator('[data-testid="peer"] .status').first().textContent()).toMatch(
      /online|editing|idle|away/,
    );

    // Undo undoes Ann's own last edit only; Bob's stays.
    await ann.page.keyboard.insertText(' Ann-undo-me');
    await bob.page.waitForFunction(() =>
      document.querySelector('.cm-content')?.textContent?.includes('Ann-undo-me'),
    );
    await ann.page.click('button:text("Undo")');
    await bob.page.waitForFunction(
      () => !document.querySelector('.cm-content')?.textContent?.includes('Ann-undo-me'),
    );
    const text = await data<{ text: string }>(bob.page, 'notes', 'welcome');
    expect(text.text.startsWith('Bob was here. ')).toBe(true);
    expect(text.text).toContain('Hello from Ann.');
    expect(await data(ann.page, 'notes', 'welcome')).toEqual(text);

    // Offline: the network is cut (the server sees the socket close), edits queue, then sync.
    const connections = demo.tandem.tandem.metrics().connections;
    const reconnect = await goOffline(ann, link);
    await expect.poll(() => demo.tandem.tandem.metrics().connections).toBe(connections - 1); // one socket each
    await ann.page.click('.cm-content');
    await ann.page.keyboard.press('Control+End');
    await ann.page.keyboard.insertText(' Offline edit.');
    await ann.page.waitForSelector('.sync:has-text("1 unsynced")');
    await bob.page.keyboard.insertText('Bob meanwhile. ');
    await reconnect();
    await ann.page.waitForSelector('.sync[data-status="online"]:not(:has-text("unsynced"))');
    await bob.page.waitForFunction(() =>
      document.querySelector('.cm-content')?.textContent?.includes('Offline edit.'),
    );
    await ann.page.waitForFunction(() =>
      document.querySelector('.cm-content')?.textContent?.includes('Bob meanwhile.'),
    );
    const after = await data<{ text: string }>(bob.page, 'notes', 'welcome');
    expect(after.text.split('Offline edit.')).toHaveLength(2); // exactly once
    expect(await data(ann.page, 'notes', 'welcome')).toEqual(after);
    expect(await editorText(ann.page)).toBe(after.text);
    expect(await editorText(bob.page)).toBe(after.text);
    await ann.context.close();
    await bob.context.close();
    await link.close();
  });

  it('1. document: a commenter and a viewer cannot edit (read-only editor, and the server refuses their ops)', async () => {
    await Promise.all(
      ['cat', 'dan'].map(async (user) => {
        const { page, context } = await open(user, '#/notes/welcome');
        await page.waitForSelector('.cm-content[contenteditable="false"]');
        await page.waitForSelector('.notice:has-text("you can read, not edit")');
        const before = await data(page, 'notes', 'welcome');
        await page.click('.cm-content');
        await page.keyboard.insertText('should not appear');
        expect(await data(page, 'notes', 'welcome')).toEqual(before);
        expect(await page.locator('input.title').getAttribute('readonly')).not.toBeNull();
        // Around the UI, the server refuses the op, and the client rolls it back.
        const op = spliceTextAtCodePoint(['text'], 0, 0, 'forged ');
        expect(await rawSubmit(page, 'notes', 'welcome', op)).toBe('FORBIDDEN');
        expect(await data(page, 'notes', 'welcome')).toEqual(before);
        await context.close();
      }),
    );
  });

  it('1. document: comments on the text (anchors follow edits), mentions, replies, typing…, reactions, resolve, notifications; a viewer cannot comment', async () => {
    const [ann, bob, cat, dan] = await Promise.all(
      ['ann', 'bob', 'cat', 'dan'].map((user) => open(user, '#/notes/welcome')),
    );
    // Ann selects the third line and comments on it, mentioning Bob; Bob sees her typing first.
    await ann.page.click('.cm-content');
    await ann.page.keyboard.press('Control+Home');
    await ann.page.keyboard.press('ArrowDown');
    await ann.page.keyboard.press('ArrowDown');
    await ann.page.keyboard.press('Shift+End');
    const quote = (await data<{ text: string }>(ann.page, 'notes', 'welcome')).text.split('\n')[2];
    await ann.page.fill('textarea[aria-label="Comment on the selection"]', 'Please check this, @Bob');
    await bob.page.waitForSelector('[data-testid="typing"]:text("Ann is typing…")');
    await ann.page.click('.comments button:text("Comment")');
    const thread = (w: Window) => w.page.locator('[data-testid="thread"]').first();
    await thread(bob).locator('.body:text("Please check this, @Bob")').waitFor();
    expect(await thread(bob).locator('.mention').textContent()).toBe('@Bob');
    expect(await thread(bob).locator('blockquote').textContent()).toBe(quote);
    await bob.page.waitForSelector('[data-testid="unread"]:text("1")'); // the mention

    // The thread stays on its text while Ann types before it, in Bob's editor too.
    const marked = (w: Window) =>
      w.page.evaluate(() =>
        [...document.querySelectorAll('.cm-comment')]
          .map((mark) => {
            const copy = mark.cloneNode(true) as Element;
            for (const widget of copy.querySelectorAll('.cm-tandem-caret, .cm-widgetBuffer')) widget.remove();
            return copy.textContent;
          })
          .join(''),
      );
    expect(await marked(bob)).toBe(quote);
    await ann.page.click('.cm-content');
    await ann.page.keyboard.press('Control+Home');
    await ann.page.keyboard.insertText('Intro. ');
    await bob.page.waitForFunction(() =>
      document.querySelector('.cm-content')?.textContent?.startsWith('Intro. '),
    );
    expect(await marked(bob)).toBe(quote);

    // Bob replies (Ann sees him typing in that thread); Cat, a commenter, reacts.
    await thread(bob).locator('textarea[aria-label="Reply"]').fill('On it.');
    await thread(ann).locator('[data-testid="typing"]:text("Bob is typing…")').waitFor();
    await thread(bob).locator('button:text("Reply")').click();
    await thread(ann).locator('[data-testid="comment"] .body:text("On it.")').waitFor();
    await thread(cat).locator('.body:text("On it.")').waitFor();
    await thread(cat).locator('[data-testid="comment"]').first().locator('button[aria-label="like"]').click();
    await thread(ann).locator('[data-testid="count-like"]').waitFor();
    await ann.page.waitForSelector('[data-testid="unread"]:text("2")'); // Bob's reply, Cat's reaction
    await shoot(bob.page, 'document');

    // Dan, a viewer, reads the thread but has no comment box, and the server refuses him anyway.
    await thread(dan).locator('.body:text("On it.")').waitFor();
    expect(await dan.page.locator('.comments textarea').count()).toBe(0);
    const threadId = await thread(dan).getAttribute('data-thread');
    const refusal = await dan.page.evaluate(
      (id) =>
        (window as any)
          .tandemComments((window as any).tandemClient.doc('notes', 'welcome'))
          .reply(id, 'viewer reply')
          .then(
            () => 'accepted',
            (e: { code: string }) => e.code,
          ),
      threadId,
    );
    expect(refusal).toBe('FORBIDDEN');

    // Ann resolves it: gone from Bob's editor, marked resolved in his list.
    await thread(ann).locator('button:text("Resolve")').click();
    await thread(bob).locator('.resolved-by:has-text("Resolved by Ann")').waitFor();
    await bob.page.waitForFunction(() => document.querySelectorAll('.cm-comment').length === 0);
    // Bob's bell: the mention, read when opened.
    await bob.page.click('button[aria-label="Notifications"]');
    await bob.page.waitForSelector('[data-testid="notifications"] li.unread:has-text("Ann mentioned you")');
    await shoot(bob.page, 'comments');
    await bob.page.click('[data-testid="notifications"] a:has-text("Ann mentioned you")');
    await bob.page.waitForSelector('[data-testid="unread"]', { state: 'detached' });
    for (const window of [ann, bob, cat, dan]) await window.context.close();
  });

  it('2. form: who is where, locks, schema errors, a conflict report, completion, and a workflow only the right role advances', async () => {
    const link = await cuttableLink(demo.url);
    const [ann, bob] = await Promise.all([
      open('ann', '#/forms/laptops'),
      open('bob', '#/forms/laptops', link),
    ]);
    const field = (w: Window, key: string) => w.page.locator(`.field[data-field="${key}"]`);

    // Who is in which field.
    await bob.page.click('.field[data-field="title"] input');
    await ann.page.waitForSelector('.field[data-field="title"] [data-testid="field-peer"]:text("Bob")');

    // Ann locks the budget total by typing in it; Bob sees the lock, and the server refuses his edit.
    await ann.page.click('.field[data-field="total"] input');
    await bob.page.waitForSelector(
      '.field[data-field="total"] [data-testid="field-peer"]:text("Ann · locked")',
    );
    await bob.page.fill('.field[data-field="total"] input', '999');
    await field(bob, 'total').locator('.field-error:has-text("lock")').waitFor();
    await ann.page.fill('.field[data-field="total"] input', '3600');
    await bob.page.waitForFunction(
      () => (document.querySelector('.field[data-field="total"] input') as HTMLInputElement).value === '3600',
    );
    await ann.page.click('.field[data-field="title"] input'); // leaves the total: the lock is released

    // Live JSON-Schema validation by the server, shown under the field it names.
    await bob.page.fill('.field[data-field="items/0/qty"] input', '0');
    await field(bob, 'items/0/qty').locator('.field-error:has-text("must be >= 1")').waitFor();
    expect((await data<any>(bob.page, 'forms', 'laptops')).items[0].qty).toBe(3);

    // A conflict report: Bob, offline, and Ann both change Priority (last-writer-wins).
    const reconnect = await goOffline(bob, link);
    await bob.page.selectOption('.field[data-field="priority"] select', 'high');
    await ann.page.selectOption('.field[data-field="priority"] select', 'low');
    await ann.page.waitForSelector('.sync[data-status="online"]:not(:has-text("unsynced"))');
    await reconnect();
    await ann.page.waitForSelector(
      '[data-testid="conflict"]:has-text("Bob\'s change to Priority replaced yours")',
    );
    await bob.page.waitForSelector(
      '[data-testid="conflict"]:has-text("Your change to Priority replaced Ann\'s")',
    );
    await ann.page.waitForFunction(
      () =>
        (document.querySelector('.field[data-field="priority"] select') as HTMLSelectElement).value ===
        'high',
    );

    // Completion, and the schema refusing an incomplete submission (the date is missing).
    await ann.page.waitForSelector('[data-testid="completion"]:text("80% complete")');
    await bob.page.click('button:text("Submit for approval")');
    await field(bob, 'neededBy').locator('.field-error:has-text("fewer than 1 characters")').waitFor();
    await bob.page.fill('.field[data-field="neededBy"] input', '2027-01-15');
    await ann.page.waitForSelector('[data-testid="completion"]:text("100% complete")');
    await shoot(ann.page, 'form');

    // Bob (editor) submits; the form is read-only for everyone, also to the server.
    await bob.page.click('button:text("Submit for approval")');
    await ann.page.waitForSelector('[data-testid="stage"]:text("submitted")');
    await bob.page.waitForSelector('fieldset[disabled]');
    expect(await ann.page.locator('fieldset').getAttribute('disabled')).not.toBeNull();
    expect(await rawSubmit(bob.page, 'forms', 'laptops', replace(['title'], 'changed after submit'))).toBe(
      'FORBIDDEN',
    );
    // Only an owner approves: Bob sees no button, and the server refuses him around the UI.
    await bob.page.waitForSelector(':text("Waiting for an owner\'s approval.")');
    expect(await rawSubmit(bob.page, 'forms', 'laptops', replace(['approved'], true))).toBe('FORBIDDEN');
    await ann.page.click('button:text("Approve")');
    await bob.page.waitForSelector('[data-testid="stage"]:text("approved")');
    await ann.context.close();
    await bob.context.close();
    await link.close();
  });

  it('3. history: timeline, time travel and diff, named version with checksum, blame, undo of one change, revert seen live', async () => {
    const [bob, ann] = await Promise.all([
      open('bob', '#/notes/release-plan'),
      open('ann', '#/notes/release-plan'),
    ]);
    await bob.page.click('.cm-content');
    await bob.page.keyboard.press('Control+End');
    await bob.page.keyboard.insertText('Bob: write the changelog.\n');
    await ann.page.waitForFunction(() =>
      document.querySelector('.cm-content')?.textContent?.includes('changelog'),
    );
    await ann.page.click('.cm-content');
    await ann.page.keyboard.press('Control+End');
    await ann.page.keyboard.insertText('Ann: tag the release.\n');
    await bob.page.waitForFunction(() =>
      document.querySelector('.cm-content')?.textContent?.includes('tag the release'),
    );

    await ann.page.click('a:text("History")');
    const entries = ann.page.locator('[data-testid="entry"]');
    await entries.filter({ hasText: 'Ann' }).first().waitFor();
    expect(await entries.count()).toBe(3);
    expect(await entries.nth(1).textContent()).toContain('Bob');
    expect(await entries.nth(2).textContent()).toContain('Demo setup');

    // A named version, verified by replaying the op log.
    await ann.page.fill('.versions input', 'v1.0');
    await ann.page.click('button:text("Save version")');
    await ann.page.waitForSelector('[data-testid="named-version"]:has-text("v1.0")');
    await ann.page.click('button:text("Verify checksums")');
    await ann.page.waitForSelector('[data-testid="named-version"]:has-text("checksum verified")');

    // Time travel to the first version: the diff to now shows both insertions.
    await ann.page.locator('.travel input[type="range"]').focus();
    await ann.page.keyboard.press('Home');
    await ann.page.waitForSelector('[data-testid="at"]:text("1")');
    await ann.page.waitForSelector('[data-testid="diff"] mark.ins:has-text("Bob: write the changelog.")');
    // Blame colours each author's text.
    const blame = ann.page.locator('[data-testid="blame"] span');
    await blame.filter({ hasText: 'tag the release' }).waitFor();
    const colourOf = (text: string) =>
      blame.filter({ hasText: text }).evaluate((span) => getComputedStyle(span).backgroundColor);
    expect(await colourOf('tag the release')).not.toBe(await colourOf('write the changelog'));
    await shoot(ann.page, 'history');

    // Undo one past change (Bob's), leaving Ann's after it; Bob sees it live.
    await entries.filter({ hasText: 'Bob' }).getByText('Undo this change').click();
    await bob.page.waitForFunction(
      () => !document.querySelector('.cm-content')?.textContent?.includes('changelog'),
    );
    expect((await data<{ text: string }>(bob.page, 'notes', 'release-plan')).text).toContain(
      'tag the release',
    );

    // Revert to the first version: Bob's window follows live.
    await entries.last().getByText('Revert to v1').click();
    await bob.page.waitForFunction(
      () => !document.querySelector('.cm-content')?.textContent?.includes('tag the release'),
    );
    expect(await data(bob.page, 'notes', 'release-plan')).toEqual({
      title: 'Release plan',
      text: 'Ship it.\n',
    });
    await entries.filter({ hasText: 'revert' }).first().waitFor();
    await ann.context.close();
    await bob.context.close();
  });

  it('4. operations: the live dashboard draws connections, ops/s, p99 latencies, conflicts and refusals', async () => {
    const [ops, bob, cat] = await Promise.all([
      open('ann', '#/ops'),
      open('bob', '#/notes/welcome'),
      open('cat', '#/notes/welcome'), // someone to fan Bob's ops out to
    ]);
    await bob.page.click('.cm-content');
    const value = (series: string) =>
      ops.page.locator(`output[data-series="${series}"]`).textContent().then(Number);
    // Bob types until the dashboard has seen ops/s and both p99s (it scrapes once a second).
    const seen = async () =>
      (await value('committed')) > 0 && (await value('submit')) >= 0 && (await value('fan-out')) >= 0;
    for (let i = 0; !(await seen()); i++) {
      expect(i).toBeLessThan(50);
      await bob.page.keyboard.type('typing ');
    }
    expect(await value('open')).toBeGreaterThanOrEqual(3);
    // Counted since the server started: the tests above made conflicts and had edits refused.
    expect(await value('reported')).toBeGreaterThanOrEqual(1); // the form's conflict
    expect(await value('refused')).toBeGreaterThanOrEqual(3); // forbidden, locked, schema
    expect(await ops.page.locator('svg polyline').count()).toBe(7);
    await shoot(ops.page, 'operations');
    for (const window of [ops, bob, cat]) await window.context.close();
  });

  it('hostile content (names, text, presence, comments, notifications, field values, labels) is rendered as inert text', async () => {
    const payloads = [
      `<img src=x onerror="window.__xss=1">`,
      `"><script>window.__xss=2</script>`,
      `' onmouseover='window.__xss=3' data-x='`,
      `</textarea><svg onload="window.__xss=4"></svg>`,
    ];
    const hostile = payloads.join(' ');
    const token = await demo.tokens.issue({
      sub: `x" onmouseover="window.__xss=5" data-x="`,
      name: hostile,
      grants: { 'notes/*': 'editor', 'forms/*': 'editor' },
    });
    const attacker = connect(`${demo.url.replace('http', 'ws')}tandem`, {
      token,
      WebSocket: WebSocket as never,
    });
    try {
      const note = attacker.doc<{ title: string; text: string }>('notes', 'welcome');
      await note.subscribe();
      await note.submit(spliceTextAtCodePoint(['text'], 0, 0, `${hostile}\n`));
      await note.submit(spliceTextAtCodePoint(['title'], 0, 0, payloads[0]));
      await note.presence.update({ path: ['text'], offset: 3, selections: [{ anchor: 0, head: 3 }] });
      await attacker.history('notes', 'welcome').createVersion({ label: payloads[1] });
      const mentionAnn = { start: 0, end: 4, userId: 'ann' };
      await comments(note).add({
        anchor: { path: ['text'], start: 0, end: 5 },
        body: { text: `@Ann ${hostile}`, mentions: [mentionAnn] },
      });
      const form = attacker.doc('forms', 'evil');
      await form.create({
        title: payloads[0],
        category: '',
        priority: 'normal',
        neededBy: '',
        express: false,
        items: [],
        total: 0,
        notes: hostile,
        stage: 'draft',
        approved: false,
      });
      await form.submit(insert(['items', 0], { description: payloads[2], qty: 1, price: 1 }));

      const { page, context } = await open('ann', '#/notes/welcome');
      const inert = async () => {
        expect(await page.evaluate(() => (window as any).__xss)).toBe(0);
        // No element or attribute came from user content: only the app's own script, no handlers.
        const found = await page.evaluate(() => ({
          scripts: [...document.scripts].filter((s) => !s.src.includes('/assets/')).length,
          // CodeMirror's own <img class="cm-widgetBuffer"> aside, no media element at all.
          images: document.querySelectorAll('img:not(.cm-widgetBuffer), svg, iframe, object, embed').length,
          attributes: [...document.querySelectorAll('*')].flatMap((el) =>
            [...el.attributes]
              .map((a) => a.name)
              .filter((n) => n.startsWith('on') || n === 'data-x' || n === 'x'),
          ),
        }));
        expect(found).toEqual({ scripts: 0, images: 0, attributes: [] });
      };
      await page.waitForSelector('[data-testid="peer"]');
      await page.waitForSelector('.cm-tandem-caret-label', { state: 'attached' });
      await page.waitForFunction(
        (text) => document.querySelector('.cm-content')?.textContent?.includes(text),
        payloads[1],
      );
      await page.waitForSelector('[data-testid="thread"] .body:has-text("onerror")');
      await page.waitForSelector('[data-testid="unread"]');
      await page.click('button[aria-label="Notifications"]');
      await page.waitForSelector('[data-testid="notifications"] li:has-text("onerror")');
      await inert();
      // …and it is all there, as text.
      expect(await page.locator('[data-testid="peer"] .name', { hasText: 'onerror' }).textContent()).toBe(
        hostile,
      );
      expect(await page.locator('.cm-tandem-caret-label').textContent()).toContain(payloads[0]);
      expect(await page.inputValue('input.title')).toContain(payloads[0]);
      await shoot(page, 'hostile-content');
      await page.click('a:text("History")');
      await page.waitForSelector(`[data-testid="named-version"]:has-text("${'script'}")`);
      await page.waitForSelector('[data-testid="entry"]:has-text("onerror")');
      await inert();
      await page.goto(`${demo.url}?as=ann#/forms/evil`);
      await page.waitForSelector('.field[data-field="items/0/description"] input');
      expect(await page.inputValue('.field[data-field="title"] input')).toBe(payloads[0]);
      expect(await page.inputValue('.field[data-field="items/0/description"] input')).toBe(payloads[2]);
      expect(await page.inputValue('.field[data-field="notes"] textarea')).toBe(hostile);
      await page.waitForSelector('nav.picker a:has-text("<img")');
      await inert();
      await context.close();
    } finally {
      await attacker.close();
    }
  });
});
