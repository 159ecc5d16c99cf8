/**
 * Debian's Chromium, headless, as the dashboard's browser tests drive it through playwright-core
 * (`npm test` installs it first: scripts/chromium.mjs). When it cannot be launched the tests fail
 * with playwright's reason: they never skip.
 */
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** A fresh temporary profile (launch, not a persistent context), so nothing carries over between runs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
}
