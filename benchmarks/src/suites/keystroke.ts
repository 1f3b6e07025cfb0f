/**
 * keystroke — keystroke in one Chromium page to render in another (issue #17's target: p99 ≤ 50 ms
 * with three pages typing). Each page (its own browser context: another window and user) shows one
 * CodeMirror editor bound by @tandem/codemirror to the same document, on a Tandem server in this
 * process (SQLite in a temp directory, as the demo runs). Every page types real key input at a
 * human rate at the end of its own line; ../keystroke/observer.ts stamps, in every page, when each
 * character was typed (`beforeinput`), when it appeared in the editor's DOM, and when the next frame
 * began (render). A character is a unique CJK ideograph, so it names its keystroke; times are epoch
 * ms from timeOrigin + now, comparable across pages of one machine.
 *
 * Latency = appearance in another page − keystroke. Reported: DOM (the editor updated) and render
 * (the frame that paints it began), p50/p90/p99/max over every (keystroke, other page) pair typed in
 * the measurement window, and local echo for reference. The same run measures a floor: the same
 * pages and observer over a bare WebSocket relay (../keystroke/relay-page.ts: no OT, no store, no
 * acknowledgement), so the ratio says what Tandem adds on the machine as it is. The typing pages, Chromium's browser
 * process, the server and this driver all share the machine's cores: figures are for this machine
 * as loaded, not a property of the code alone.
 *
 * Environment: KEYSTROKE_PAGES=3 KEYSTROKE_RATE=8 (keys/s per page) KEYSTROKE_MS=20000
 * KEYSTROKE_WARMUP_MS=2000 KEYSTROKE_STORAGE=sqlite:<tmp>/keystroke.db (or memory:).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { bundle, caller, haveChromium, pageServer } from '../../../packages/codemirror/test/browser';
import { type BenchOptions, percentile, printTable, seededRandom } from '../report';

/** `tandem-bench keystroke --help`. */
export const usage = `keystroke in one Chromium page to render in another, Tandem vs a bare relay
  KEYSTROKE_PAGES=3       pages typing at once (each its own browser context and user)
  KEYSTROKE_RATE=8        keys per second each page types (±50% jitter)
  KEYSTROKE_MS=20000      measurement window (--quick: 3000)
  KEYSTROKE_WARMUP_MS=2000
  KEYSTROKE_STORAGE=      Tandem storage URL (default: SQLite in a temp directory; memory: for none)`;

export interface KeystrokePlan {
  pages: number;
  /** Keys per second each page types (with ±50% jitter). */
  rate: number;
  warmupMs: number;
  measureMs: number;
  /** After typing stops, how long to wait for every page to show every keystroke. */
  drainMs: number;
  /** Tandem storage URL; undefined: SQLite in a temp directory. */
  storage: string | undefined;
}

export function planFor(options: BenchOptions, env: NodeJS.ProcessEnv = process.env): KeystrokePlan {
  return {
    pages: Number(env.KEYSTROKE_PAGES ?? 3),
    rate: Number(env.KEYSTROKE_RATE ?? 8),
    warmupMs: Number(env.KEYSTROKE_WARMUP_MS ?? (options.quick ? 500 : 2_000)),
    measureMs: Number(env.KEYSTROKE_MS ?? (options.quick ? 3_000 : 20_000)),
    drainMs: 10_000,
    storage: env.KEYSTROKE_STORAGE,
  };
}

export interface Spread {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface KeystrokeResult {
  /** Keystrokes typed in the measurement window (all pages). */
  keystrokes: number;
  /** (keystroke, other page) pairs measured. */
  deliveries: number;
  /** Pairs never shown by the end of the drain. */
  missing: number;
  /** Every page ended with the same text. */
  converged: boolean;
  /** Keystroke → the op (or relayed message) arrived in another page, before its editor. */
  arrival: Spread;
  dom: Spread;
  render: Spread;
  localEcho: Spread;
}

/** What the observer reports (see ../keystroke/observer.ts). */
interface Observed {
  typed: [string, number][];
  seen: [string, number][];
  painted: [string, number][];
}

const spread = (values: number[]): Spread => ({
  p50: percentile(values, 50),
  p90: percentile(values, 90),
  p99: percentile(values, 99),
  max: values.length === 0 ? Number.NaN : Math.max(...values),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Page `p`'s `n`th keystroke: its own range of ideographs (4,000 each). */
const charFor = (p: number, n: number): string => String.fromCodePoint(0x4e00 + p * 4_000 + (n % 4_000));

type Harness = typeof import('../keystroke/page')['harness'];
type RelayHarness = typeof import('../keystroke/relay-page')['harness'];
const call = (page: Page) => caller<Harness>(() => page);

/** `tandem`: editors bound by @tandem/codemirror. `relay`: the floor, a bare WebSocket relay. */
export type System = 'tandem' | 'relay';

/** A bare relay: every message to every other socket. */
async function startRelay(): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (socket) =>
    socket.on('message', (data, binary) => {
      for (const other of wss.clients) if (other !== socket) other.send(data, { binary });
    }),
  );
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () => {
      // Its own HTTP server closes only once every socket is gone.
      for (const socket of wss.clients) socket.terminate();
      return new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export async function runKeystroke(plan: KeystrokePlan, system: System = 'tandem'): Promise<KeystrokeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-keystroke-'));
  const here = (file: string) => fileURLToPath(new URL(`../keystroke/${file}`, import.meta.url));
  const server = await pageServer(here(system === 'tandem' ? 'page.ts' : 'relay-page.ts'), {
    storage: plan.storage ?? `sqlite:${join(dir, 'keystroke.db')}`,
  });
  const relay = system === 'relay' ? await startRelay() : undefined;
  try {
    const observer = await bundle(here('observer.ts'));
    const pages: Page[] = [];
    const id = `doc-${Date.now()}`;
    for (let p = 0; p < plan.pages; p++) {
      const page = await server.open();
      await page.setViewportSize({ width: 1280, height: 1600 });
      if (relay !== undefined)
        await caller<RelayHarness>(() => page)('open', { url: relay.url, lines: plan.pages });
      else
        await call(page)('open', {
          url: server.wsUrl,
          token: JSON.stringify({ id: `typist-${p}`, name: `Typist ${p}` }),
          id,
          ...(p === 0 ? { create: plan.pages } : {}),
        });
      await page.addScriptTag({ content: observer, type: 'module' });
      pages.push(page);
    }
    // Real key input goes to the focused page's focused element: each page is its own window.
    for (let p = 0; p < plan.pages; p++) await call(pages[p])('caret', p);

    const started = Date.now();
    const windowStart = started + plan.warmupMs;
    const windowEnd = windowStart + plan.measureMs;
    const random = seededRandom(17);
    await Promise.all(
      pages.map(async (page, p) => {
        for (let n = 0; Date.now() < windowEnd; n++) {
          await page.keyboard.type(charFor(p, n));
          await sleep((1_000 / plan.rate) * (0.5 + random()));
        }
      }),
    );

    const observe = (page: Page) =>
      page.evaluate(() =>
        (globalThis as unknown as { keystroke: { results(): Observed } }).keystroke.results(),
      );
    const typedEverywhere = async () => {
      const results = await Promise.all(pages.map(observe));
      const typed = results.flatMap((r) => r.typed.map(([ch]) => ch));
      return results.every((r) => {
        const seen = new Set(r.seen.map(([ch]) => ch));
        return typed.every((ch) => seen.has(ch));
      });
    };
    const drainUntil = Date.now() + plan.drainMs;
    while (Date.now() < drainUntil && !(await typedEverywhere())) await sleep(50);
    await sleep(100); // the last frames

    const results = await Promise.all(pages.map(observe));
    const arrivedIn = (await Promise.all(pages.map((page) => call(page)('arrivals')))).map((a) => new Map(a));
    const seenIn = results.map((r) => new Map(r.seen));
    const paintedIn = results.map((r) => new Map(r.painted));
    const arrival: number[] = [];
    const dom: number[] = [];
    const render: number[] = [];
    const localEcho: number[] = [];
    let keystrokes = 0;
    let missing = 0;
    results.forEach((r, p) => {
      for (const [ch, at] of r.typed) {
        if (at < windowStart || at >= windowEnd) continue;
        keystrokes++;
        const echo = seenIn[p].get(ch);
        if (echo !== undefined) localEcho.push(echo - at);
        for (let q = 0; q < pages.length; q++) {
          if (q === p) continue;
          const seen = seenIn[q].get(ch);
          const painted = paintedIn[q].get(ch);
          if (seen === undefined || painted === undefined) missing++;
          else {
            const came = arrivedIn[q].get(ch);
            if (came !== undefined) arrival.push(came - at);
            dom.push(seen - at);
            render.push(painted - at);
          }
        }
      }
    });
    const texts = await Promise.all(pages.map((page) => call(page)('text')));
    return {
      keystrokes,
      deliveries: dom.length,
      missing,
      converged: texts.every((t) => t === texts[0]),
      arrival: spread(arrival),
      dom: spread(dom),
      render: spread(render),
      localEcho: spread(localEcho),
    };
  } finally {
    await relay?.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(options: BenchOptions): Promise<void> {
  if (!haveChromium('the keystroke suite')) return;
  const plan = planFor(options);
  console.log(
    `${plan.pages} Chromium pages typing ${plan.rate} keys/s each (±50%) for ${plan.measureMs / 1000} s after ` +
      `${plan.warmupMs / 1000} s warm-up; storage ${plan.storage ?? 'SQLite (temp file)'}; target p99 ≤ 50 ms.\n`,
  );
  // Latency here is CPU time on a shared machine: say how loaded it was.
  const load = () => `${loadavg()[0].toFixed(1)} on ${cpus().length} cores`;
  const before = load();
  const tandem = await runKeystroke(plan, 'tandem');
  const relay = await runKeystroke(plan, 'relay');
  console.log(`load average (1 min) ${before} before, ${load()} after\n`);
  const ms = (s: Spread) => [s.p50, s.p90, s.p99, s.max];
  printTable(
    ['system', 'measure', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
    [
      ['Tandem', 'keystroke → op applied in another page (before its editor)', ...ms(tandem.arrival)],
      ['Tandem', 'keystroke → render in another page', ...ms(tandem.render)],
      ['Tandem', 'keystroke → DOM in another page', ...ms(tandem.dom)],
      ['Tandem', 'keystroke → DOM in its own page', ...ms(tandem.localEcho)],
      ['bare relay', 'keystroke → message in another page (before its editor)', ...ms(relay.arrival)],
      ['bare relay', 'keystroke → render in another page', ...ms(relay.render)],
      ['bare relay', 'keystroke → DOM in another page', ...ms(relay.dom)],
    ],
  );
  for (const [name, r] of [
    ['Tandem', tandem],
    ['bare relay', relay],
  ] as const)
    console.log(
      `${name}: ${r.keystrokes} keystrokes, ${r.deliveries} deliveries measured, ${r.missing} missing, ` +
        `converged: ${r.converged ? 'yes' : 'NO'}.`,
    );
  console.log(
    `Tandem ÷ bare relay, render: p50 ${(tandem.render.p50 / relay.render.p50).toFixed(2)}×, ` +
      `p99 ${(tandem.render.p99 / relay.render.p99).toFixed(2)}×; Tandem p99 render ` +
      `${tandem.render.p99 <= 50 ? 'meets' : 'misses'} the 50 ms target.`,
  );
}
