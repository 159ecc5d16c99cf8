/**
 * The dashboard in a real browser: a real `temporal server start-dev`, the real worker and
 * simulator, two loops on a 1 s beat (a dry one against the default simulator, a live one against a
 * second simulator whose orders include an unprotected position), the dashboard on a free loopback
 * port, and Debian's Chromium driven by playwright-core. `npm test` installs Chromium first
 * (scripts/chromium.mjs); when it cannot be launched, these tests fail: they never skip.
 */
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { lineagePrefix } from '../../src/lib/run-id';
import { loopStatus, startLoop } from '../../src/client/loops';
import { startDashboard, type Dashboard } from '../../src/dashboard/server';
import type { DashboardSnapshot } from '../../src/dashboard/snapshot';
import { pauseUpdate } from '../../src/shared/messages';
import type { LoopStatus } from '../../src/shared/status';
import { tradeText, tradesText } from '../../src/shared/trades';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { launchChromium } from '../helpers/chromium';
import { pollUntil } from '../helpers/loop-harness';
import { startRealWorker, terminateLoops, type RunningWorker } from '../helpers/real-loop';
import { uniqueId } from '../helpers/temporal';
import { useDevStack } from '../helpers/dev-stack';

/** The page refreshes every 2 s and the loop cycles every ~1 s: a few refreshes are plenty. */
const PAGE_WAIT_MS = 20_000;

/**
 * The few browser globals the callbacks passed to page.evaluate / waitForFunction use: they run in
 * Chromium, and the project compiles without the DOM lib, so they are declared here, for this file only.
 */
interface PageElement {
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): Iterable<PageElement> & { length: number };
  textContent: string | null;
  nextElementSibling: PageElement | null;
}
declare const document: PageElement & {
  querySelector(selector: string): PageElement | null;
  body: { dataset: Record<string, string | undefined> };
};
declare const window: { marker?: string };

/** Every contract READY, their orders dealt these statuses in turn; its first run answers a 500 (a cycle that knows nothing). */
let alertSim: Simulator;
const ALERT_ORDER_STATUSES = ['submitted', 'entry_submitted', 'critical_unprotected_position'];
let worker: RunningWorker | undefined;
let dashboard: Dashboard | undefined;
let browser: Browser | undefined;
const workflowId = uniqueId('dash-loop');
const alertId = uniqueId('dash-live-alert');
/** On the candle-close beat, paused by its test through the real `pause` update. */
const pausedId = uniqueId('dash-paused');
const stack = useDevStack({
  started: async () => {
    alertSim = await startSimulator({
      behaviour: { ready_share: 1, order_status: ALERT_ORDER_STATUSES, fault: 'http500', fault_count: 1 },
    });
    worker = await startRealWorker(stack.env, 'dashboard-test-worker');
    const { taskQueue } = worker;
    await startLoop(stack.env.client, { taskQueue, workflowId, config: { mtf_url: stack.sim.runUrl, ping_interval: 1 } });
    await startLoop(stack.env.client, {
      taskQueue,
      workflowId: alertId,
      config: { mtf_url: alertSim.runUrl, ping_interval: 1, max_attempts: 1, dry_run: false, confirm_live: true },
    });
    await startLoop(stack.env.client, {
      taskQueue,
      workflowId: pausedId,
      config: { mtf_url: stack.sim.runUrl, cadence: 'aligned', align_every: 60, align_offset: 2 },
    });
    dashboard = await startDashboard({ client: stack.env.client, host: '127.0.0.1', port: 0 });
  },
  // Orders listed as the app's enricher would list them (today's app lists none).
  simulator: { behaviour: { order_status: 'simulated' } },
  // Browser first (it polls the dashboard), then the dashboard, the loop, the worker, the other simulator; then the stack.
  beforeClose: async () => {
    await browser?.close();
    await dashboard?.close();
    await terminateLoops(stack.env, [workflowId, alertId, pausedId]);
    await worker?.stop();
    await alertSim?.close();
  },
});

function url(path: string): string {
  return new URL(path, dashboard?.url).toString();
}

const status = (id = workflowId): Promise<LoopStatus> => loopStatus(stack.env.client, id);

/** A GET with a Host header of our choosing (fetch does not let a caller set Host); resolves to the status code. */
function statusWithHost(path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url(path), { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).once('error', reject);
  });
}

describe('the dashboard server', () => {
  test('GET /api/loops lists the loop with its get_status, recent cycles included', async () => {
    // Visibility is eventually consistent: the new loop appears in the list within a second or so.
    const snapshot = await pollUntil(
      async () => (await fetch(url('/api/loops'))).json() as Promise<DashboardSnapshot>,
      (s) => (s.loops.find((l) => l.workflow_id === workflowId)?.status?.counters.cycles ?? 0) >= 1,
      'the loop in /api/loops with a finished cycle',
    );
    const loop = snapshot.loops.find((l) => l.workflow_id === workflowId);
    assert.equal(loop?.state, 'running');
    assert.equal(loop?.error, null);
    assert.equal(snapshot.namespace, stack.env.namespace ?? 'default');
    const s = loop?.status;
    assert.ok(s);
    assert.equal(s.workflow_id, workflowId);
    assert.equal(s.recent_cycles.length, s.counters.cycles, 'every finished cycle is in the window');
    assert.deepEqual(
      s.recent_cycles.map((c) => c.iteration),
      s.recent_cycles.map((_, i) => i + 1),
    );
    assert.ok(s.recent_cycles.every((c) => c.outcome === 'succeeded' && c.cycle_seconds >= 0));
    assert.equal(loop?.findings?.iteration, s.last_cycle?.iteration, 'the last cycle’s findings, as texts, ride along');
    assert.equal(loop?.run_id_prefix, lineagePrefix(workflowId, s.first_run_id ?? ''), 'the loop’s X-Run-Id prefix rides along');
    assert.ok(!JSON.stringify(snapshot).includes('test-token'), 'the worker’s API token never reaches the page');
  });

  test('a loop no worker answers for shows an error string, not a 500; a closed loop is listed by its state', async () => {
    // Its own dashboard with a short query deadline, so the shared one never waits on this loop.
    const quick = await startDashboard({ client: stack.env.client, host: '127.0.0.1', port: 0, queryTimeoutMs: 500 });
    const orphan = uniqueId('orphan');
    try {
      await startLoop(stack.env.client, { taskQueue: uniqueId('no-worker'), workflowId: orphan, config: { mtf_url: stack.sim.runUrl } });
      const read = async (): Promise<{ code: number; body: DashboardSnapshot }> => {
        const response = await fetch(new URL('/api/loops', quick.url));
        return { code: response.status, body: (await response.json()) as DashboardSnapshot };
      };
      const stuck = await pollUntil(read, (r) => r.body.loops?.some((l) => l.workflow_id === orphan) ?? false, 'the orphan loop listed');
      assert.equal(stuck.code, 200);
      const listed = stuck.body.loops.find((l) => l.workflow_id === orphan);
      assert.equal(listed?.state, 'running');
      assert.equal(listed?.status, null);
      // The server answered for the loop, and its task queue has no poller: the worker's absence is named.
      assert.match(
        listed?.error ?? '',
        /^did not answer get_status within 0\.5 s: no worker polls its task queue \(no-worker-[^)]+\)/,
        JSON.stringify(listed),
      );
      assert.ok(stuck.body.loops.find((l) => l.workflow_id === workflowId)?.status, 'the other loop still answers');

      await stack.env.client.workflow.getHandle(orphan).terminate('closed for the test');
      const closed = await pollUntil(
        read,
        (r) => r.body.loops.find((l) => l.workflow_id === orphan)?.state === 'terminated',
        'the orphan loop closed',
      );
      const gone = closed.body.loops.find((l) => l.workflow_id === orphan);
      assert.equal(gone?.error, null, JSON.stringify(gone));
      assert.ok(gone?.close_time, JSON.stringify(gone));
    } finally {
      await stack.env.client.workflow
        .getHandle(orphan)
        .terminate()
        .catch(() => undefined);
      await quick.close();
    }
  });

  test('serves the page with a strict CSP; unknown paths are 404 and it is read-only (no POST)', async () => {
    const page = await fetch(url('/'));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'sha256-/);
    assert.match(await page.text(), /<title>MTF Ping-Pong/);

    const missing = await fetch(url('/nope'));
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await fetch(url('/api/loops'), { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    await post.body?.cancel();
    assert.equal(await statusWithHost('/api/loops', 'evil.example:8080'), 403, 'a non-loopback Host (DNS rebinding) is refused');
    assert.equal(await statusWithHost('/api/loops', 'localhost:8080'), 200);
  });
});

describe('the dashboard in Chromium', () => {
  let navigations = 0;
  const pageErrors: string[] = [];
  const card = `[data-workflow-id="${workflowId}"]`;
  let opened: Promise<Page> | undefined;

  async function launchAndLoad(): Promise<Page> {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(url('/'));
    return page;
  }

  /**
   * The page, loaded once. Launched inside the tests rather than in a hook: a browser that cannot
   * start then fails each test with playwright's reason (a failed hook would only cancel them).
   */
  function openPage(): Promise<Page> {
    opened ??= launchAndLoad();
    return opened;
  }

  /** What a card plots now: the iteration and outcome of each point, the outcome marks, and the READY marks (iteration, count). */
  function plotted(
    page: Page,
    selector = card,
  ): Promise<{ points: Array<[number, string]>; marks: number; ready: Array<[number, string]>; alerts: number }> {
    return page.evaluate((root) => {
      const shown = document.querySelector(root);
      const pairs = (marks: string, attribute: string) =>
        Array.from(shown?.querySelectorAll(marks) ?? []).map((p): [number, string] => [
          Number(p.getAttribute('data-iteration')),
          p.getAttribute(attribute) ?? '',
        ]);
      const count = (marks: string) => shown?.querySelectorAll(marks).length ?? 0;
      return {
        points: pairs('.cycle-point', 'data-outcome'),
        marks: count('.outcome-mark'),
        ready: pairs('.ready-mark', 'data-ready'),
        alerts: count('.ready-mark.alert'),
      };
    }, selector);
  }

  /** The READY marks a cycle window should give: the count, or `unknown` where the answer did not say. */
  const readyMarks = (cycles: LoopStatus['recent_cycles']): Array<[number, string]> =>
    cycles.map((c) => [c.iteration, c.ready === null ? 'unknown' : String(c.ready)]);

  /** The value next to a key of a card's detail grid (`ready share`, `signals`, `orders`...), or null when the row is absent. */
  function detailValue(page: Page, selector: string, key: string): Promise<string | null> {
    return page.evaluate(
      ({ root, label }) => {
        const keys = Array.from(document.querySelector(root)?.querySelectorAll('.detail .k') ?? []);
        return keys.find((k) => k.textContent === label)?.nextElementSibling?.textContent ?? null;
      },
      { root: selector, label: key },
    );
  }

  test('shows the loop: state, phase, iteration, success rate, dry run, last error', async () => {
    const page = await openPage();
    const shown = page.locator(card);
    await shown.waitFor({ timeout: PAGE_WAIT_MS });
    await page.waitForFunction((selector) => document.querySelectorAll(`${selector} .cycle-point`).length >= 1, card, {
      timeout: PAGE_WAIT_MS,
    });
    const text = (await shown.textContent()) ?? '';
    for (const expected of [
      workflowId,
      'running',
      'phase',
      'iteration',
      'next cycle',
      'success rate',
      '100%',
      'dry run',
      'last error',
      stack.sim.runUrl,
    ]) {
      assert.ok(text.includes(expected), `the card shows "${expected}": ${text}`);
    }
    assert.equal(await shown.getAttribute('data-state'), 'running');
  });

  test('plots one point (and one outcome mark) per finished cycle, as get_status counts them', async () => {
    const page = await openPage();
    // Sampled right after a page refresh, so the page and the status are read within milliseconds
    // of each other; a cycle that ends in between makes that sample differ, and the next one is taken.
    const sample = await pollUntil(
      async () => {
        const seen = Number(await page.getAttribute('body', 'data-refreshes'));
        await page.waitForFunction((n) => Number(document.body.dataset.refreshes) > n, seen, { timeout: PAGE_WAIT_MS });
        return { page: await plotted(page), status: await status() };
      },
      (s) => s.page.points.length === s.status.counters.cycles && s.status.counters.cycles >= 2,
      'the plotted points to equal counters.cycles',
      20,
    );
    assert.equal(sample.page.marks, sample.status.counters.cycles);
    assert.deepEqual(
      sample.page.points,
      sample.status.recent_cycles.map((c) => [c.iteration, c.outcome]),
      'the points are the loop’s recent cycles, in order',
    );
    assert.deepEqual(sample.page.ready, readyMarks(sample.status.recent_cycles), 'one READY mark per plotted cycle, with its count');
    assert.ok(
      sample.page.ready.every(([, ready]) => Number(ready) > 0),
      'every run of the default loop found READY contracts',
    );
  });

  test('shows the last cycle’s READY signals, its orders and the app’s figure as "ready share"', async () => {
    const page = await openPage();
    const s = await pollUntil(status, (x) => x.last_cycle !== null, 'a finished cycle');
    const last = s.last_cycle;
    assert.ok(last?.orders && last.contracts);
    // The simulator's verdicts follow its seed alone: every cycle of this loop finds the same contracts.
    const expected = last.signals.map((signal) => `${signal.symbol} ${signal.timeframe} ${signal.side}`);
    assert.ok(expected.length > 0, `the simulator's answer holds READY contracts: ${JSON.stringify(last)}`);
    await page.waitForFunction((selector) => document.querySelectorAll(`${selector} .signal`).length > 0, card, { timeout: PAGE_WAIT_MS });
    assert.deepEqual(await page.locator(`${card} .signal`).allTextContents(), expected);

    const { count } = last.orders;
    assert.ok(count.simulated > 0, 'a dry run simulates its orders');
    const orders = (await detailValue(page, card, 'orders')) ?? '';
    for (const part of [`${count.total} orders`, `${count.submitted} submitted`, `${count.simulated} simulated`])
      assert.ok(orders.includes(part), `orders show "${part}": ${orders}`);
    assert.deepEqual(
      await page.locator(`${card} .order`).allTextContents(),
      last.orders.list.map((o) => `${o.symbol} simulated`),
    );

    // The trades the run caused, from the lineage API: a row, each by name, and a dot over each plotted cycle that had some.
    const trades = last.trades ?? assert.fail('no trades read');
    assert.equal(trades.state, 'known');
    assert.deepEqual(await page.locator(`${card} .trades-count`).allTextContents(), [tradesText(trades)]);
    assert.deepEqual(await page.locator(`${card} .trade`).allTextContents(), trades.list.map(tradeText));
    const marked = await page
      .locator(`${card} .trade-mark`)
      .evaluateAll((marks: PageElement[]) => marks.map((m) => [m.getAttribute('data-iteration'), m.getAttribute('data-trades')]));
    assert.ok(marked.length > 0 && marked.every(([, n]) => Number(n) === trades.list.length + trades.unlisted), JSON.stringify(marked));

    const share = (await detailValue(page, card, 'ready share')) ?? '';
    assert.ok(share.startsWith(`${last.ready_share}%`) && share.includes(`${last.contracts.ready} READY`), `ready share: ${share}`);
    assert.equal(await page.locator(`${card} .stat .label`, { hasText: 'success rate' }).count(), 1, 'the loop’s own rate keeps its label');
    assert.equal(
      await page.locator(`${card} .detail .k`, { hasText: 'success rate' }).count(),
      0,
      'the app’s figure is never called success rate',
    );
    const runId = (await detailValue(page, card, 'run id')) ?? '';
    assert.match(
      runId,
      new RegExp(`^${lineagePrefix(s.workflow_id, s.first_run_id ?? '').replace('.', '\\.')}\\.\\d+$`),
      `the card shows the last cycle’s X-Run-Id: ${runId}`,
    );
  });

  test('a protection alert: a red banner naming the unprotected order, on the card and atop the page; a loop without one shows none', async () => {
    const page = await openPage();
    const alertCard = `[data-workflow-id="${alertId}"]`;
    const s = await pollUntil(
      () => status(alertId),
      (x) => x.last_cycle?.protection_alert === true,
      'a cycle with a protection alert',
    );
    const list = s.last_cycle?.orders?.list ?? [];
    assert.deepEqual([...new Set(list.map((o) => o.status))].sort(), [...ALERT_ORDER_STATUSES].sort(), 'every status occurs');
    const unprotected = list.filter((o) => o.status === 'critical_unprotected_position');
    const fine = list.filter((o) => o.status !== 'critical_unprotected_position');
    assert.ok(unprotected.length > 0 && fine.length > 0);

    await page.waitForFunction((selector) => document.querySelector(`${selector} .alert-banner`) !== null, alertCard, {
      timeout: PAGE_WAIT_MS,
    });
    const banner = (await page.locator(`${alertCard} .alert-banner`).textContent()) ?? '';
    assert.match(banner, /PROTECTION ALERT/);
    for (const o of unprotected)
      assert.ok(banner.includes(`${o.symbol} critical_unprotected_position`), `the banner names ${o.symbol}: ${banner}`);
    for (const o of fine) assert.ok(!banner.includes(o.symbol), `the banner does not name ${o.symbol} (${o.status}): ${banner}`);
    // Each run gets new exchange order ids: the page may show a later cycle than the status read above.
    const highlighted = (await page.locator(`${alertCard} .order.alert`).allTextContents()).map((text) =>
      text.replace(/ \(exchange order \d+\)$/, ''),
    );
    assert.deepEqual(
      highlighted,
      unprotected.map((o) => `${o.symbol} critical_unprotected_position`),
      'the unprotected order is highlighted',
    );
    const count = s.last_cycle?.orders?.count;
    const orders = (await detailValue(page, alertCard, 'orders')) ?? '';
    assert.ok(orders.includes(`${count?.protection_failed} PROTECTION FAILED`) && orders.includes(`${count?.pending} pending`), orders);
    assert.equal(await page.locator(`${alertCard} .badge.live`).textContent(), 'LIVE');

    const top = (await page.locator('#alerts').textContent()) ?? '';
    assert.ok(await page.locator('#alerts').isVisible(), 'the page shows the alert above every card');
    assert.ok(top.includes(alertId) && unprotected.every((o) => top.includes(o.symbol)), top);
    assert.ok(!top.includes(workflowId), 'the loop without an alert is not named');
    assert.equal(await page.locator('#loops > .card').first().getAttribute('data-workflow-id'), alertId, 'the alerting card comes first');
    assert.match(await page.title(), /^PROTECTION ALERT/);

    assert.equal(await page.locator(`${card} .alert-banner`).count(), 0, 'the dry loop, without an alert, shows no banner');
    assert.equal(await page.locator(card).getAttribute('data-alert'), null);
    assert.equal(await page.locator(`${card} .order.alert`).count(), 0);
  });

  test('the READY strip marks a cycle whose answer said nothing as unknown, and the others with their count', async () => {
    const page = await openPage();
    const alertCard = `[data-workflow-id="${alertId}"]`;
    await page.waitForFunction((selector) => document.querySelectorAll(`${selector} .ready-mark`).length >= 2, alertCard, {
      timeout: PAGE_WAIT_MS,
    });
    // That loop cycles on: the page, read first, holds a prefix of the window read just after.
    const shown = await plotted(page, alertCard);
    const s = await status(alertId);
    assert.ok(shown.ready.length >= 2, JSON.stringify(shown));
    assert.deepEqual(shown.ready, readyMarks(s.recent_cycles.slice(0, shown.ready.length)));
    assert.deepEqual(shown.ready[0], [1, 'unknown'], 'the first run answered a 500');
    assert.deepEqual(shown.ready[1], [2, String(s.config.symbols.length)], 'then every contract came out READY');
    assert.equal(shown.alerts, shown.ready.length - 1, 'the alert cycles are marked');
  });

  test('after a clean cycle the alert stays, naming the cycle that raised it, while that cycle is plotted', async () => {
    const page = await openPage();
    const alertCard = `[data-workflow-id="${alertId}"]`;
    alertSim.setBehaviour({ order_status: 'submitted' }); // every order protected
    const s = await pollUntil(
      () => status(alertId),
      (x) => x.last_cycle?.protection_alert === false && (x.last_cycle.orders?.count.submitted ?? 0) > 0,
      'a clean cycle after the alerts',
    );
    const raised = s.recent_cycles.filter((c) => c.protection_alert).at(-1)?.iteration;
    assert.ok(raised !== undefined, JSON.stringify(s.recent_cycles));
    const expected = `PROTECTION ALERT in cycle #${raised} `;
    await page.waitForFunction(
      ({ selector, text }) => document.querySelector(`${selector} .alert-banner`)?.textContent?.includes(text) ?? false,
      { selector: alertCard, text: expected },
      { timeout: PAGE_WAIT_MS },
    );
    assert.ok(((await page.locator('#alerts').textContent()) ?? '').includes(expected), 'still atop the page');
    assert.equal(await page.locator('#loops > .card').first().getAttribute('data-workflow-id'), alertId, 'still first');
    assert.equal(await page.locator(`${alertCard} .order.alert`).count(), 0, 'the last cycle’s orders are all protected');
  });

  test('a loop held by the pause update: PAUSED with its reason, its aligned cadence as "every 1m at :02"', async () => {
    const page = await openPage();
    const pausedCard = `[data-workflow-id="${pausedId}"]`;
    const answer = await stack.env.client.workflow.getHandle(pausedId).executeUpdate(pauseUpdate, { args: ['maintenance window'] });
    assert.match(answer, /^(paused|pauses after iteration \d+)$/);
    // Asked during its first cycle, the pause holds once that cycle is recorded.
    const s = await pollUntil(
      () => status(pausedId),
      (x) => x.phase === 'paused' && x.pause?.since !== null,
      'the loop held by its pause',
    );
    assert.equal(s.pause?.reason, 'maintenance window');
    await page.waitForFunction((selector) => document.querySelector(selector)?.getAttribute('data-paused') === 'held', pausedCard, {
      timeout: PAGE_WAIT_MS,
    });
    assert.equal(await page.locator(`${pausedCard} .badge.paused`).textContent(), 'PAUSED');
    const banner = (await page.locator(`${pausedCard} .pause-banner`).textContent()) ?? '';
    assert.match(banner, /^PAUSED since .*: maintenance window: no cycle runs until resume$/);
    assert.equal(await page.locator(`${pausedCard} .stat .value.cadence`).textContent(), 'every 1m at :02 · auto');
    assert.equal(await page.locator(`${pausedCard} .stat .value.next-cycle`).textContent(), 'none while paused');
    assert.equal(
      await page.locator(`${card} .stat .value.cadence`).textContent(),
      'every 1 s · auto',
      'the interval loop says its pause between cycles',
    );
    assert.equal(await page.locator(`${card} .pause-banner`).count(), 0, 'the running loop shows no pause');
  });

  test('a new cycle appears without a reload', async () => {
    const page = await openPage();
    await page.evaluate(() => {
      window.marker = 'same document';
    });
    const earlier = await plotted(page);
    const lastIteration = earlier.points.at(-1)?.[0] ?? 0;
    await page.waitForFunction(
      ({ selector, n }) => document.querySelectorAll(`${selector} .cycle-point`).length > n,
      { selector: card, n: earlier.points.length },
      { timeout: PAGE_WAIT_MS },
    );
    const afterNew = await plotted(page);
    assert.ok((afterNew.points.at(-1)?.[0] ?? 0) > lastIteration, 'the newest point is a later iteration');
    assert.equal(navigations, 1, 'only the first load navigated');
    assert.equal(await page.evaluate(() => window.marker), 'same document');
    assert.deepEqual(pageErrors, [], 'no script error or CSP violation');
  });
});
