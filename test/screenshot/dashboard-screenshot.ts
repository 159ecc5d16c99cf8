/**
 * `npm run screenshot`: brings up a throwaway stack (an in-memory dev server, the simulator, a
 * worker), runs two loops (one fleet, two groups, so the page shows its group sections) until the main one has ~40 cycles, some of them failed or skipped, and
 * saves the dashboard as docs/dashboard.png for the README and docs/observability.md. Nothing is mocked: the page shows what
 * the loops record. The simulator is made a little uneven (a seeded latency and market per run, a
 * 15 % fault rate, no retries) so the plots have something to show: cycle times, outcomes, and a
 * READY count that changes from run to run, with its signals and simulated orders. No protection
 * alert: the picture shows a loop on a normal day.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { chromium } from 'playwright-core';
import { createActivities } from '../../src/activities';
import { loopStatus, startLoop } from '../../src/client/loops';
import { startDashboard, type Dashboard } from '../../src/dashboard/server';
import { mulberry32, startSimulator, type Simulator } from '../../src/simulator/server';
import { projectRoot } from '../../src/toolchain/binaries';
import { createMtfWorker } from '../../src/worker/worker';
import { pollUntil } from '../helpers/loop-harness';
import { createDevServerEnv } from '../helpers/temporal';

const CYCLES = 40;
const OUTPUT = join(projectRoot(), 'docs', 'dashboard.png');
const TASK_QUEUE = 'mtf-ping-pong-queue';

/**
 * A simulator whose every answer sets the next run's latency (0.2 s to 1.4 s) and market (the seed
 * of its verdicts), both seeded, as a real app's would vary.
 */
async function unevenSimulator(): Promise<Simulator> {
  const random = mulberry32(42);
  const started: { sim?: Simulator } = {}; // it logs its own start too, before it is returned
  started.sim = await startSimulator({
    behaviour: { error_rate: 0.15, seed: 3, latency_ms: 600 },
    log: () => started.sim?.setBehaviour({ latency_ms: Math.round(200 + random() * 1200), seed: 1 + Math.floor(random() * 10_000) }),
  });
  return started.sim;
}

async function main(): Promise<void> {
  let env: TestWorkflowEnvironment | undefined;
  let sim: Simulator | undefined;
  let worker: Worker | undefined;
  let dashboard: Dashboard | undefined;
  try {
    [env, sim] = await Promise.all([createDevServerEnv(), unevenSimulator()]);
    worker = await createMtfWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: TASK_QUEUE,
      identity: 'screenshot-worker',
      activities: createActivities({}),
    });
    const running = worker.run();
    const client = env.client;
    await startLoop(client, {
      taskQueue: TASK_QUEUE,
      workflowId: 'mtf-ping-pong',
      config: { mtf_url: sim.runUrl, ping_interval: 0.5, max_attempts: 1, fleet: 'demo', group: 'all-contracts' },
    });
    await startLoop(client, {
      taskQueue: TASK_QUEUE,
      workflowId: 'mtf-ping-pong-majors',
      config: {
        mtf_url: sim.runUrl,
        symbols: ['BTCUSDT', 'ETHUSDT'],
        ping_interval: 2,
        max_attempts: 2,
        retry_initial_interval: 0.5,
        fleet: 'demo',
        group: 'majors',
      },
    });
    dashboard = await startDashboard({ client, host: '127.0.0.1', port: 0 });
    console.error(`dashboard on ${dashboard.url}; waiting for ${CYCLES} cycles...`);

    // Bounded: 40 cycles take about a minute; each try waits for the next run request.
    await pollUntil(
      async () => {
        await sim?.waitForRunRequests(sim.runRequests().length + 1, 30_000);
        return loopStatus(client, 'mtf-ping-pong');
      },
      (s) => s.counters.cycles >= CYCLES && s.counters.failed + s.counters.skipped > 0 && s.phase === 'pausing',
      `${CYCLES} cycles with some failures`,
      400,
    );

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--hide-scrollbars'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
      await page.goto(dashboard.url);
      await page.waitForFunction((n) => document.querySelectorAll('[data-workflow-id="mtf-ping-pong"] .cycle-point').length >= n, CYCLES, {
        timeout: 20_000,
      });
      mkdirSync(join(projectRoot(), 'docs'), { recursive: true });
      await page.screenshot({ path: OUTPUT, fullPage: true });
    } finally {
      await browser.close();
    }
    console.error(`saved ${OUTPUT}`);

    for (const id of ['mtf-ping-pong', 'mtf-ping-pong-majors']) await client.workflow.getHandle(id).terminate('screenshot taken');
    worker.shutdown();
    await running;
  } finally {
    await dashboard?.close();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await Promise.all([env?.teardown(), sim?.close()]);
  }
}

/** The page's one global the wait above reads (the project compiles without the DOM lib). */
declare const document: { querySelectorAll(selector: string): { length: number } };

main().catch((err: unknown) => {
  console.error(`screenshot: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
