/**
 * The dashboard's cadence, pause and missed-beat texts: the real page (its CSP included) in
 * Chromium, fed snapshots built by the server's own statusView from get_status answers written
 * here. They stand for states a live loop is in only for a moment (a pause waiting for the running
 * cycle) or after a long cycle (missed beats); dashboard.test.ts pauses a real loop.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DASHBOARD_CSP, DASHBOARD_PAGE } from '../../src/dashboard/page';
import { labelOf, statusView, type DashboardLoop, type DashboardSnapshot } from '../../src/dashboard/snapshot';
import { emptyCounters, type LoopStatus } from '../../src/shared/status';
import { launchChromium } from '../helpers/chromium';
import { cycleRecord, runningStatus } from '../helpers/fixtures';

/** No network: the browser's requests to this origin are answered by the routes below. */
const ORIGIN = 'http://dashboard.test';
const WAIT_MS = 10_000;

/** The loop as the server describes it: the same statusView and labelOf that loopsSnapshot apply to a real answer. */
function dashboardLoop(status: LoopStatus): DashboardLoop {
  return {
    workflow_id: status.workflow_id,
    run_id: status.run_id,
    run_id_prefix: null,
    state: 'running',
    start_time: status.started_at,
    close_time: null,
    status,
    error: null,
    ...statusView(status),
    fleet: labelOf(status, 'fleet', undefined),
    group: labelOf(status, 'group', undefined),
  };
}

const HOSTILE_REASON = '<img src=x onerror="window.pwned=1">maintenance & "upgrade"';
const LOOPS = {
  paused: runningStatus(
    'cad-paused',
    { cadence: 'aligned', align_every: 60, align_offset: 2, max_execution_time: 50 },
    {
      phase: 'paused',
      pause: { reason: HOSTILE_REASON, requested_at: '2026-12-01T10:00:04.000Z', since: '2026-12-01T10:00:04.000Z' },
    },
  ),
  pausing: runningStatus(
    'cad-pausing',
    { cadence: 'aligned', align_every: 900, align_offset: 30 },
    {
      phase: 'awaiting_completion',
      mtf_completed: false,
      pause: { reason: 'exchange upgrade', requested_at: '2026-12-01T10:00:05.000Z', since: null },
    },
  ),
  missed: runningStatus(
    'cad-missed',
    { cadence: 'aligned', align_every: 60, align_offset: 2, max_execution_time: 120 },
    {
      counters: { ...emptyCounters(), cycles: 12, succeeded: 12, missed_beats: 5 },
      last_cycle: cycleRecord({ iteration: 12, missed_beats: 2 }),
      next_cycle_at: '2026-12-01T10:01:02.000Z',
    },
  ),
  interval: runningStatus('cad-interval', { ping_interval: 30, max_execution_time: 20 }),
};

let browser: Browser | undefined;
after(async () => {
  await browser?.close();
});

/** The page from a route, as the server sends it (same CSP), polling a fixed snapshot of every loop above. */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  browser ??= await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  const snapshot: DashboardSnapshot = {
    namespace: 'default',
    generated_at: new Date().toISOString(),
    loops: Object.values(LOOPS).map(dashboardLoop),
  };
  await page.route(`${ORIGIN}/api/loops`, (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(snapshot) }),
  );
  await page.route(`${ORIGIN}/`, (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html; charset=utf-8',
      headers: { 'content-security-policy': DASHBOARD_CSP },
      body: DASHBOARD_PAGE,
    }),
  );
  await page.goto(`${ORIGIN}/`);
  await page.locator('[data-workflow-id="cad-interval"]').waitFor({ timeout: WAIT_MS });
  return { page, errors };
}

const card = (id: string) => `[data-workflow-id="${id}"]`;

/** The value next to a card's detail key, or null when the row is absent. */
async function detailValues(page: Page, id: string, key: string): Promise<string[]> {
  return page
    .locator(`${card(id)} .detail .k`, { hasText: new RegExp(`^${key}$`) })
    .locator('xpath=following-sibling::*[1]')
    .allTextContents();
}

describe('cadence, pause and missed beats on the dashboard', () => {
  test('an aligned loop shows "every 1m at :02" with its continue mode where the interval was; an interval loop "every 30 s"', async () => {
    const { page, errors } = await openPage();
    assert.equal(await page.locator(`${card('cad-missed')} .stat .value.cadence`).textContent(), 'every 1m at :02 · auto');
    assert.equal(await page.locator(`${card('cad-pausing')} .stat .value.cadence`).textContent(), 'every 15m at :00:30 · auto');
    assert.equal(await page.locator(`${card('cad-interval')} .stat .value.cadence`).textContent(), 'every 30 s · auto');
    assert.equal(await page.locator(`${card('cad-interval')} .stat .label`, { hasText: 'cadence' }).count(), 1);
    // It wraps rather than being cut off with an ellipsis in its fifth of the card.
    // The project compiles without the DOM lib: the one element property read in Chromium is declared here.
    const cut = await page
      .locator(`${card('cad-missed')} .stat .value.cadence`)
      .evaluate((node: { scrollWidth: number; clientWidth: number }) => node.scrollWidth > node.clientWidth);
    assert.equal(cut, false, 'the cadence text fits its box');
    await page.close();
    assert.deepEqual(errors, [], 'no script error or CSP violation');
  });

  test('a paused loop: a PAUSED badge and banner with since and its reason, as text; no next cycle', async () => {
    const { page, errors } = await openPage();
    const paused = page.locator(card('cad-paused'));
    assert.equal(await paused.getAttribute('data-paused'), 'held');
    assert.equal(await paused.locator('.badge.paused').textContent(), 'PAUSED');
    const banner = (await paused.locator('.pause-banner').textContent()) ?? '';
    const since = await page.evaluate((iso) => new Date(iso).toLocaleString('en-GB'), '2026-12-01T10:00:04.000Z');
    assert.ok(banner.startsWith(`PAUSED since ${since}: ${HOSTILE_REASON}`), banner);
    assert.equal(await paused.locator('.pause-banner img').count(), 0, 'the reason is text, never markup');
    assert.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);
    assert.equal(await paused.locator('.stat .value.next-cycle').textContent(), 'none while paused');
    assert.equal(await paused.locator('.stat .value').first().textContent(), 'paused', 'the phase');
    for (const id of ['cad-missed', 'cad-interval']) {
      assert.equal(await page.locator(`${card(id)} .pause-banner, ${card(id)} .badge.paused`).count(), 0, `${id} runs: no pause shown`);
      assert.equal(await page.locator(card(id)).getAttribute('data-paused'), null);
    }
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('a pause asked for during a cycle: "pause requested after iteration N" with its reason', async () => {
    const { page } = await openPage();
    const pausing = page.locator(card('cad-pausing'));
    assert.equal(await pausing.getAttribute('data-paused'), 'pending');
    assert.equal(await pausing.locator('.badge.paused').textContent(), 'pause requested');
    const banner = (await pausing.locator('.pause-banner').textContent()) ?? '';
    assert.ok(banner.startsWith('pause requested after iteration 12: exchange upgrade'), banner);
    await page.close();
  });

  test('missed beats show when there are some: in all and before the last cycle; the cadence warning too', async () => {
    const { page } = await openPage();
    assert.deepEqual(await detailValues(page, 'cad-missed', 'missed beats'), ['5 in all · 2 before cycle #12 (counted, not queued)']);
    const warnings = await detailValues(page, 'cad-missed', 'cadence');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /cycle budget \(120 s\) is longer than the period \(60 s\)/);
    for (const id of ['cad-interval', 'cad-paused']) {
      assert.deepEqual(await detailValues(page, id, 'missed beats'), [], `${id}: none missed, no row`);
      assert.deepEqual(await detailValues(page, id, 'cadence'), [], `${id}: no warning`);
    }
    await page.close();
  });
});
