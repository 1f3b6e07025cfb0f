import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@tandem/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { haveChromium, launchChromium } from '../../../test/chromium';
import { assertFreshDist } from '../../../test/fresh-dist';
import { type Demo, startDemo } from '../src/app';

const browsers = haveChromium('the demo browser test');

let demo: Demo;
let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'tandem-demo-'));

beforeAll(async () => {
  if (!browsers) return;
  // The page bundles @tandem/client from its dist/, as apps do: it must be fresh.
  assertFreshDist(['protocol', 'ot', 'client']);
  demo = await startDemo({ port: 0, storage: `sqlite:${join(dir, 'demo.db')}` });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(name: string): Promise<Page> {
  // Separate contexts: two independent browser windows (own storage, own identity).
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`[${name}] page error: ${error.message}`));
  await page.goto(`${demo.url}?name=${name}&doc=browser-test`);
  await page.waitForFunction(() => !(document.getElementById('text') as HTMLTextAreaElement).disabled);
  return page;
}

describe.skipIf(!browsers)('the demo in two real browser windows', () => {
  it('co-edits one text, shows the other window’s cursor and name, and keeps offline edits across a reload', async () => {
    const ann = await open('Ann');
    const bob = await open('Bob');

    await ann.click('#text');
    await ann.keyboard.press('End');
    await ann.keyboard.type(' Hello from Ann.');
    await bob.waitForFunction(() =>
      (document.getElementById('text') as HTMLTextAreaElement).value.includes('Hello from Ann.'),
    );

    await bob.click('#text');
    await bob.keyboard.press('Control+Home');
    await bob.keyboard.type('Bob was here. ');
    await ann.waitForFunction(() =>
      (document.getElementById('text') as HTMLTextAreaElement).value.startsWith('Bob was here. '),
    );

    const annText = await ann.inputValue('#text');
    const bobText = await bob.inputValue('#text');
    expect(annText).toBe(bobText);
    expect(annText).toContain('Hello from Ann.');

    // Each window draws the other's caret with the server-authenticated name.
    await ann.waitForSelector('#overlay .caret .label:has-text("Bob")');
    await bob.waitForSelector('#overlay .caret .label:has-text("Ann")');
    expect(await ann.textContent('#people')).toContain('Bob');
    expect(await bob.textContent('#people')).toContain('Ann');

    // Offline queue in IndexedDB: Ann goes offline, types, reloads the tab; the edit is sent once.
    await ann.evaluate(() =>
      (window as unknown as { tandemClient: { close(): Promise<void> } }).tandemClient.close(),
    );
    await ann.click('#text');
    await ann.keyboard.press('Control+End');
    await ann.keyboard.type(' Offline edit.');
    await ann.waitForTimeout(200); // the queue is written to IndexedDB on the next tick
    await ann.reload();
    await ann.waitForFunction(() => !(document.getElementById('text') as HTMLTextAreaElement).disabled);
    await bob.waitForFunction(() =>
      (document.getElementById('text') as HTMLTextAreaElement).value.includes('Offline edit.'),
    );
    await ann.waitForFunction(
      () =>
        (window as unknown as { tandemClient: { unsyncedCount: number } }).tandemClient.unsyncedCount === 0,
    );
    const final = await bob.inputValue('#text');
    expect(final.split('Offline edit.')).toHaveLength(2); // exactly once
    expect(await ann.inputValue('#text')).toBe(final);
  });

  it('renders hostile ids, names, text and presence from another user as inert text', async () => {
    const page = await open('Cat');
    await page.evaluate(() => {
      (window as unknown as { __xss: number }).__xss = 0;
    });
    // A raw client whose id and name try to break out of an attribute and out of text.
    const id = `x" onmouseover="window.__xss=1" data-x="`;
    const hostileName = `<img src=x onerror="window.__xss=2"></textarea><script>window.__xss=3</script>`;
    const attacker = connect(demo.url.replace('http', 'ws') + 'tandem', {
      token: `${id}:${hostileName}`,
      WebSocket: WebSocket as never,
    });
    try {
      const doc = attacker.doc('pads', 'browser-test');
      await doc.subscribe();
      const text = doc.text(['text']);
      await text.set(`${text.value}<img src=x onerror="window.__xss=4">`);
      await doc.presence.update({ path: ['text'], offset: 1, selections: [{ anchor: 0, head: 1 }] });
      await page.waitForSelector('#overlay .caret .label:has-text("onerror")');
      await page.waitForFunction(() =>
        (document.getElementById('text') as HTMLTextAreaElement).value.includes('window.__xss=4'),
      );
      // The name and the text are shown as text: no element, attribute or script came from them.
      expect(await page.evaluate(() => (window as unknown as { __xss: number }).__xss)).toBe(0);
      expect(await page.locator('#overlay img, #people img, #overlay script, #people script').count()).toBe(
        0,
      );
      expect(await page.locator('[onmouseover], [onerror]').count()).toBe(0);
      const mark = page.locator('#overlay .caret', { has: page.locator('.label', { hasText: 'onerror' }) });
      expect(await mark.getAttribute('data-user')).toBe(id);
      expect(await page.textContent('#people')).toContain(hostileName);
    } finally {
      await attacker.close();
    }
  });
});
