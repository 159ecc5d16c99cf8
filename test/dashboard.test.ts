/**
 * The dashboard in a real browser: a real `temporal server start-dev`, the real worker and
 * simulator, one loop on a 1 s beat, the dashboard on a free loopback port, and Debian's Chromium
 * driven by playwright-core. `npm test` installs Chromium first (scripts/chromium.mjs); when it
 * cannot be launched, these tests fail: they never skip.
 */
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createActivities } from '../src/activities';
import { loopStatus, startLoop } from '../src/client/loops';
import { startDashboard, type Dashboard } from '../src/dashboard/server';
import type { DashboardSnapshot } from '../src/dashboard/snapshot';
import type { LoopStatus } from '../src/shared/status';
import { startSimulator, type Simulator } from '../src/simulator/server';
import { createMtfWorker } from '../src/worker/worker';
import { pollUntil } from './helpers/loop-harness';
import { createDevServerEnv, uniqueId } from './helpers/temporal';

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
/** The page refreshes every 2 s and the loop cycles every ~1 s: a few refreshes are plenty. */
const PAGE_WAIT_MS = 20_000;

/**
 * The few browser globals the callbacks passed to page.evaluate / waitForFunction use: they run in
 * Chromium, and the project compiles without the DOM lib, so they are declared here, for this file only.
 */
interface PageElement {
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): Iterable<PageElement> & { length: number };
}
declare const document: PageElement & { querySelector(selector: string): PageElement | null; body: { dataset: Record<string, string | undefined> } };
declare const window: { marker?: string };

let env: TestWorkflowEnvironment;
let sim: Simulator;
let worker: Worker | undefined;
let workerDone: Promise<void> | undefined;
let dashboard: Dashboard | undefined;
let browser: Browser | undefined;
const workflowId = uniqueId('dash-loop');

before(async () => {
  [env, sim] = await Promise.all([createDevServerEnv(), startSimulator()]);
  const taskQueue = uniqueId('tq');
  worker = await createMtfWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    identity: 'dashboard-test-worker',
    activities: createActivities({ token: 'test-token' }),
  });
  workerDone = worker.run();
  await startLoop(env.client, { taskQueue, workflowId, config: { mtf_url: sim.runUrl, ping_interval: 1 } });
  dashboard = await startDashboard({ client: env.client, host: '127.0.0.1', port: 0 });
});

after(async () => {
  // Browser first (it polls the dashboard), then the dashboard, the loop, the worker, the servers.
  await browser?.close();
  await dashboard?.close();
  await env?.client.workflow.getHandle(workflowId).terminate('test over').catch(() => undefined);
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await workerDone;
  await Promise.all([env?.teardown(), sim?.close()]);
});

function url(path: string): string {
  return new URL(path, dashboard?.url).toString();
}

const status = (): Promise<LoopStatus> => loopStatus(env.client, workflowId);

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
    assert.equal(snapshot.namespace, env.namespace ?? 'default');
    const s = loop?.status;
    assert.ok(s);
    assert.equal(s.workflow_id, workflowId);
    assert.equal(s.recent_cycles.length, s.counters.cycles, 'every finished cycle is in the window');
    assert.deepEqual(s.recent_cycles.map((c) => c.iteration), s.recent_cycles.map((_, i) => i + 1));
    assert.ok(s.recent_cycles.every((c) => c.outcome === 'succeeded' && c.cycle_seconds >= 0));
  });

  test('a loop no worker answers for shows an error string, not a 500; a closed loop is listed by its state', async () => {
    // Its own dashboard with a short query deadline, so the shared one never waits on this loop.
    const quick = await startDashboard({ client: env.client, host: '127.0.0.1', port: 0, queryTimeoutMs: 500 });
    const orphan = uniqueId('orphan');
    try {
      await startLoop(env.client, { taskQueue: uniqueId('no-worker'), workflowId: orphan, config: { mtf_url: sim.runUrl } });
      const read = async (): Promise<{ code: number; body: DashboardSnapshot }> => {
        const response = await fetch(new URL('/api/loops', quick.url));
        return { code: response.status, body: (await response.json()) as DashboardSnapshot };
      };
      const stuck = await pollUntil(read, (r) => r.body.loops?.some((l) => l.workflow_id === orphan) ?? false, 'the orphan loop listed');
      assert.equal(stuck.code, 200);
      const listed = stuck.body.loops.find((l) => l.workflow_id === orphan);
      assert.equal(listed?.state, 'running');
      assert.equal(listed?.status, null);
      assert.match(listed?.error ?? '', /get_status/, JSON.stringify(listed));
      assert.ok(stuck.body.loops.find((l) => l.workflow_id === workflowId)?.status, 'the other loop still answers');

      await env.client.workflow.getHandle(orphan).terminate('closed for the test');
      const closed = await pollUntil(read, (r) => r.body.loops.find((l) => l.workflow_id === orphan)?.state === 'terminated', 'the orphan loop closed');
      const gone = closed.body.loops.find((l) => l.workflow_id === orphan);
      assert.equal(gone?.error, null, JSON.stringify(gone));
      assert.ok(gone?.close_time, JSON.stringify(gone));
    } finally {
      await env.client.workflow.getHandle(orphan).terminate().catch(() => undefined);
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
    // A fresh temporary profile (launch, not a persistent context), so nothing carries over between runs.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
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

  /** What the card plots now: the iteration and outcome of each point, and the outcome marks. */
  function plotted(page: Page): Promise<{ points: Array<[number, string]>; marks: number }> {
    return page.evaluate((selector) => {
      const root = document.querySelector(selector);
      const points = Array.from(root?.querySelectorAll('.cycle-point') ?? []).map(
        (p): [number, string] => [Number(p.getAttribute('data-iteration')), p.getAttribute('data-outcome') ?? ''],
      );
      return { points, marks: root?.querySelectorAll('.outcome-mark').length ?? 0 };
    }, card);
  }

  test('shows the loop: state, phase, iteration, success rate, dry run, last error', async () => {
    const page = await openPage();
    const shown = page.locator(card);
    await shown.waitFor({ timeout: PAGE_WAIT_MS });
    await page.waitForFunction((selector) => document.querySelectorAll(`${selector} .cycle-point`).length >= 1, card, { timeout: PAGE_WAIT_MS });
    const text = (await shown.textContent()) ?? '';
    for (const expected of [workflowId, 'running', 'phase', 'iteration', 'next cycle', 'success rate', '100%', 'dry run', 'last error', sim.runUrl]) {
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
