/**
 * The dashboard's groups, over a real stack: a `temporal server start-dev` with the loop's search
 * attributes, the real worker, the simulator (every contract READY, so each loop's READY count is
 * its number of symbols) and a second one that answers every run with a 500 (a failing loop), five
 * loops labelled by their config's `fleet` and `group`, and the page in Debian's Chromium. The page
 * is read after its own refreshes (`body[data-refreshes]`), never after a fixed wait.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loopStatus, pauseLoop, startLoop, updateLoop } from '../../src/client/loops';
import { startDashboard, type Dashboard } from '../../src/dashboard/server';
import type { DashboardSnapshot } from '../../src/dashboard/snapshot';
import type { LoopConfigInput } from '../../src/shared/config';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { launchChromium } from '../helpers/chromium';
import { useDevStack } from '../helpers/dev-stack';
import { pollUntil } from '../helpers/loop-harness';
import { startRealWorker, terminateLoops, type RunningWorker } from '../helpers/real-loop';
import { uniqueId } from '../helpers/temporal';

/** Each wait for the page's next refresh (every 2 s). */
const PAGE_WAIT_MS = 10_000;
/** Refreshes to wait for a state the loops reach within a few cycles of 1 s. */
const REFRESHES = 8;

/** The page's globals the callbacks passed to page.evaluate use (the project compiles without the DOM lib). */
interface PageElement {
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  textContent: string | null;
}
declare const document: PageElement & { body: { dataset: Record<string, string | undefined> } };

/** Each loop's id and config: its labels, and its symbols (the simulator finds each one READY). */
const LOOPS = {
  bitmartA: { id: uniqueId('grp-bitmart-a'), config: { group: 'bitmart', fleet: 'f1', symbols: ['BTCUSDT', 'ETHUSDT'] } },
  /** Against the simulator that answers 500: failed cycles only, READY never known. */
  bitmartFailing: { id: uniqueId('grp-bitmart-failing'), config: { group: 'bitmart', fleet: 'f1', max_attempts: 1 } },
  binancePaused: { id: uniqueId('grp-binance-paused'), config: { group: 'binance', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'] } },
  binanceB: { id: uniqueId('grp-binance-b'), config: { group: 'binance', fleet: 'f2', symbols: ['BTCUSDT'] } },
  loose: { id: uniqueId('grp-loose'), config: { symbols: ['ETHUSDT', 'XRPUSDT'] } },
} satisfies Record<string, { id: string; config: LoopConfigInput }>;

let failingSim: Simulator | undefined;
let worker: RunningWorker | undefined;
let dashboard: Dashboard | undefined;
let browser: Browser | undefined;
const stack = useDevStack({
  simulator: { behaviour: { ready_share: 1 } },
  started: async () => {
    failingSim = await startSimulator({ behaviour: { fault: 'http500' } });
    worker = await startRealWorker(stack.env, 'dashboard-groups-test-worker');
    for (const [name, { id, config }] of Object.entries(LOOPS)) {
      const mtf_url = name === 'bitmartFailing' ? failingSim.runUrl : stack.sim.runUrl;
      await startLoop(stack.env.client, { taskQueue: worker.taskQueue, workflowId: id, config: { ...config, mtf_url, ping_interval: 1 } });
    }
    dashboard = await startDashboard({ client: stack.env.client, host: '127.0.0.1', port: 0 });
  },
  beforeClose: async () => {
    await browser?.close();
    await dashboard?.close();
    await terminateLoops(
      stack.env,
      Object.values(LOOPS).map(({ id }) => id),
    );
    await worker?.stop();
    await failingSim?.close();
  },
});

function readSnapshot(): Promise<DashboardSnapshot> {
  return fetch(new URL('/api/loops', dashboard?.url)).then((r) => r.json() as Promise<DashboardSnapshot>);
}

/** What the page shows of each section, in order: its data-group, its heading, its summary line and its cards' ids. */
interface SectionShown {
  group: string | null;
  heading: string;
  summary: string;
  cards: string[];
}

function sectionsShown(page: Page): Promise<SectionShown[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('#loops > section.group')).map((section) => ({
      group: section.getAttribute('data-group'),
      heading: section.querySelector('h2')?.textContent ?? '',
      summary: section.querySelector('.group-summary')?.textContent ?? '',
      cards: Array.from(section.querySelectorAll('.card')).map((card) => card.getAttribute('data-workflow-id') ?? ''),
    })),
  );
}

/** The sections after each of the page's refreshes, until `check` holds (or REFRESHES refreshes passed). */
function sectionsWhen(page: Page, check: (shown: SectionShown[]) => boolean, what: string): Promise<SectionShown[]> {
  return pollUntil(
    async () => {
      const seen = Number(await page.getAttribute('body', 'data-refreshes'));
      await page.waitForFunction((n) => Number(document.body.dataset.refreshes) > n, seen, { timeout: PAGE_WAIT_MS });
      return sectionsShown(page);
    },
    check,
    what,
    REFRESHES,
  );
}

/** A section as the page should show it; its cards in the page's order (running ones by ID), compared as a set. */
function section(group: string, heading: string, summary: string, ids: string[]): SectionShown {
  return { group, heading, summary, cards: [...ids].sort() };
}
const sortedCards = (shown: SectionShown[]): SectionShown[] => shown.map((s) => ({ ...s, cards: [...s.cards].sort() }));

describe('the dashboard’s groups', () => {
  let opened: Promise<Page> | undefined;
  const pageErrors: string[] = [];
  async function openPage(): Promise<Page> {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(new URL('/', dashboard?.url).toString());
    return page;
  }
  /** Launched in the tests, not a hook: a browser that cannot start fails each test with playwright's reason. */
  const thePage = (): Promise<Page> => (opened ??= openPage());

  test('/api/loops carries each loop’s fleet and group, from its own config while it runs', async () => {
    const snapshot = await pollUntil(
      readSnapshot,
      (s) => Object.values(LOOPS).every(({ id }) => s.loops.find((l) => l.workflow_id === id)?.status),
      'every loop listed with its status',
    );
    const labels = Object.fromEntries(snapshot.loops.map((l) => [l.workflow_id, [l.fleet, l.group]]));
    assert.deepEqual(labels[LOOPS.bitmartA.id], ['f1', 'bitmart']);
    assert.deepEqual(labels[LOOPS.bitmartFailing.id], ['f1', 'bitmart']);
    assert.deepEqual(labels[LOOPS.binancePaused.id], [null, 'binance']);
    assert.deepEqual(labels[LOOPS.binanceB.id], ['f2', 'binance']);
    assert.deepEqual(labels[LOOPS.loose.id], [null, null], 'a loop without labels says null, not undefined or ""');
  });

  test('one section per group, by name, the ungrouped last; each summary counts loops, failing, paused and READY', async () => {
    const page = await thePage();
    // Paused once its first cycle is recorded, so its READY count is known and held.
    await pollUntil(
      () => loopStatus(stack.env.client, LOOPS.binancePaused.id),
      (s) => s.counters.cycles >= 1,
      'a finished cycle',
    );
    await pauseLoop(stack.env.client, LOOPS.binancePaused.id, 'group test');
    const expected = [
      section('binance', 'binance', '2 loops · 0 failing · 1 paused · 4 READY this cycle', [LOOPS.binancePaused.id, LOOPS.binanceB.id]),
      section('bitmart', 'bitmart', '2 loops · 1 failing · 0 paused · 2 READY this cycle', [LOOPS.bitmartA.id, LOOPS.bitmartFailing.id]),
      section('', 'no group', '1 loop · 0 failing · 0 paused · 2 READY this cycle', [LOOPS.loose.id]),
    ];
    const shown = await sectionsWhen(
      page,
      (s) => JSON.stringify(sortedCards(s)) === JSON.stringify(expected),
      'the three sections with their counts',
    );
    assert.deepEqual(sortedCards(shown), expected);

    const failingCard = page.locator(`[data-workflow-id="${LOOPS.bitmartFailing.id}"]`);
    assert.equal(await failingCard.locator('.badge.failing').textContent(), 'failing', 'the failing card says so');
    assert.equal(await page.locator('.badge.failing').count(), 1, 'and no other');
    assert.equal(await page.locator('[data-group="binance"] [data-paused="held"]').count(), 1, 'the paused card is in its group');
    assert.equal(await page.locator('[data-group="bitmart"] [data-count="failing"].failing').count(), 1, 'a count above 0 is marked');
    assert.equal(await page.locator('[data-group="binance"] [data-count="failing"].failing').count(), 0);
    // The fleet, small on the card; none on a loop without one.
    assert.equal(await page.locator(`[data-workflow-id="${LOOPS.bitmartA.id}"] .fleet`).textContent(), 'fleet f1');
    assert.equal(await page.locator(`[data-workflow-id="${LOOPS.binanceB.id}"] .fleet`).textContent(), 'fleet f2');
    assert.equal(await page.locator(`[data-workflow-id="${LOOPS.loose.id}"] .fleet`).count(), 0);
  });

  test('a group set by update moves the card at once; a closed loop keeps its labels from its search attributes', async () => {
    const page = await thePage();
    // The label applies at once: the card moves at the next refresh, and the empty "no group" section goes.
    await updateLoop(stack.env.client, LOOPS.loose.id, { group: 'binance' });
    const regrouped = await sectionsWhen(
      page,
      (s) => s.map((x) => x.group).join() === 'binance,bitmart' && (s[0]?.cards.includes(LOOPS.loose.id) ?? false),
      'the loose loop in binance, no "no group" section',
    );
    assert.equal(regrouped[0]?.summary, '3 loops · 0 failing · 1 paused · 6 READY this cycle');

    await stack.env.client.workflow.getHandle(LOOPS.bitmartA.id).terminate('closed for the test');
    const closed = await pollUntil(
      readSnapshot,
      (s) => s.loops.find((l) => l.workflow_id === LOOPS.bitmartA.id)?.state === 'terminated',
      'the closed loop listed as terminated',
    );
    const listed = closed.loops.find((l) => l.workflow_id === LOOPS.bitmartA.id);
    assert.equal(listed?.status, null);
    assert.deepEqual([listed?.fleet, listed?.group], ['f1', 'bitmart'], 'MtfFleet and MtfGroup, from the listing');
    // Closed, it no longer counts its READY contracts; its card stays in its group, after the running one.
    const after = await sectionsWhen(
      page,
      (s) => s[1]?.summary === '2 loops · 1 failing · 0 paused · READY unknown',
      'bitmart counting the closed loop without its READY',
    );
    assert.deepEqual(after[1]?.cards, [LOOPS.bitmartFailing.id, LOOPS.bitmartA.id]);
    assert.deepEqual(pageErrors, [], 'no script error or CSP violation');
  });
});
