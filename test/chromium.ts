/**
 * The system Chromium (Debian's package, installed by scripts/ensure-chromium.sh) driven by
 * playwright-core for the browser tests; never a browser download.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser tests can run; when not, say why (they skip themselves). */
export function haveChromium(test: string): boolean {
  const have = existsSync(CHROMIUM);
  if (!have) console.log(`${test} skipped: ${CHROMIUM} is not installed (see scripts/ensure-chromium.sh)`);
  return have;
}

/** Headless, with nothing that reaches out: this machine's network is closed to all but localhost. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
