/**
 * The trades each cycle caused, read from the app's lineage API. First the reader, against the
 * real simulator over loopback (and plain servers for an app without the route, or one that
 * hangs); then real loops on a dev server: trades read within the cycle, late ones attached to the
 * earlier record, an app without the API said once and asked no more, `lineage: false`; then a
 * live loop on a worker process: its trades in `status`, the follow lines, the log, the metrics,
 * the Temporal UI and the "LIVE orders placed" message.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readAfterAnswer, type LineageDeps } from '../../src/activities/lineage';
import { MAX_BODY_BYTES } from '../../src/activities/mtf-client';
import { lateTrades } from '../../src/cli/follow';
import type { LoopConfigInput } from '../../src/shared/config';
import type { LoopStatus } from '../../src/shared/status';
import { startSimulator, type Simulator, type SimulatorBehaviour } from '../../src/simulator/server';
import { parseLines, sample, scrape } from '../helpers/observe';
import { freePort, spawnNode, type Followed } from '../../harness/processes';
import { runToEnd, waitFor } from '../helpers/processes';
import { runRealLoop } from '../helpers/real-loop';
import { createDevServerEnv, currentDetails, uniqueId } from '../helpers/temporal';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const WORKER = join(__dirname, '..', '..', 'src', 'worker', 'main.js');

const TODAY: Partial<SimulatorBehaviour> = {
  answer: 'today',
  mode: 'sync',
  latency_ms: 0,
  fault: 'none',
  fault_count: null,
  run_result: 'success',
  order_status: null,
  seed: 1,
  throw_share: 0,
  throw_symbols: [],
  lineage: 'on',
  lineage_delay: 0,
  trade_statuses: null,
};

let sim: Simulator;
const servers: Server[] = [];

before(async () => {
  sim = await startSimulator();
});
after(async () => {
  await sim?.close();
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A plain server on loopback standing in for an app: it answers every request as `handle` says (or never). */
async function plainApp(handle: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((_req, res) => handle(res));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/api/lineage/v1/search`;
}

/** Runs one MTF run on the simulator under `runId`, as the loop's POST would (every contract READY). */
async function runOnSimulator(runId: string, symbols: string[]): Promise<void> {
  const res = await fetch(sim.runUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-run-id': runId, 'idempotency-key': `test/${runId}` },
    body: JSON.stringify({ symbols, dry_run: true }),
  });
  assert.equal(res.status, 200, await res.text());
}

function deps(runIds: Record<number, string> = {}): LineageDeps {
  return {
    http: { fetch, token: 'lineage-token', maxBodyBytes: MAX_BODY_BYTES, userAgent: 'mtf-ping-pong (lineage-test)' },
    signal: new AbortController().signal,
    sleep: (ms) => delay(ms),
    runIdOf: (iteration) => runIds[iteration] ?? `mtfpp.test.${iteration}`,
  };
}

const lineageUrl = () => `${sim.baseUrl}/api/lineage/v1/search`;
const inSeconds = (s: number) => Date.now() + s * 1000;

void describe("reading a run's trades after its answer", () => {
  void test("every READY contract's trade, read once all have landed: known, counted by order-intent status, each named", async () => {
    sim.setBehaviour({ ...TODAY, ready_share: 1, lineage_delay: 0.3, trade_statuses: ['SENT', 'FAILED', 'none'] });
    const runId = uniqueId('mtfpp.a');
    await runOnSimulator(runId, ['ADAUSDT', 'BTCUSDT', 'ETHUSDT']);
    const read = await readAfterAnswer(
      deps(),
      { url: lineageUrl(), wait_seconds: 10, earlier: [] },
      { x_run_id: runId, readyCount: 3 },
      inSeconds(15),
    );
    const trades = read.trades ?? assert.fail('no trades');
    assert.equal(trades.state, 'known');
    assert.deepEqual(trades.by_status, { SENT: 1, FAILED: 1, none: 1 });
    assert.deepEqual(
      trades.list.map((t) => [t.symbol, t.status, t.event]).sort(),
      [
        ['ADAUSDT', 'SENT', 'position_opened'],
        ['BTCUSDT', 'FAILED', 'symbol_skipped'],
        ['ETHUSDT', null, 'symbol_skipped'],
      ],
      'an item without lineage (unmatched) is named from its event',
    );
    assert.ok(trades.list.every((t) => (t.side === 'LONG' || t.side === 'SHORT') && t.internal_trade_id !== null));
    const reads = sim.lineageRequests().filter((r) => (r.body as { orchestration_run_id?: string }).orchestration_run_id === runId);
    assert.ok(reads.length >= 1 && reads.every((r) => r.authorization === 'Bearer lineage-token'), 'the API token goes with every read');
    assert.equal(reads.at(-1)?.status, 200);
  });

  void test('trades not all there when the wait ends: pending, with what was read, for the next cycle to read again', async () => {
    sim.setBehaviour({ ...TODAY, ready_share: 1, lineage_delay: 60 });
    const runId = uniqueId('mtfpp.b');
    await runOnSimulator(runId, ['ADAUSDT']);
    const read = await readAfterAnswer(
      deps(),
      { url: lineageUrl(), wait_seconds: 0.6, earlier: [] },
      { x_run_id: runId, readyCount: 1 },
      inSeconds(10),
    );
    assert.deepEqual(read.trades, { state: 'pending', by_status: {}, list: [], unlisted: 0 });
  });

  void test('a run with no READY contract: one read, lineage_not_found, known to have caused none', async () => {
    sim.setBehaviour({ ...TODAY });
    const runId = uniqueId('mtfpp.c');
    const read = await readAfterAnswer(
      deps(),
      { url: lineageUrl(), wait_seconds: 10, earlier: [] },
      { x_run_id: runId, readyCount: 0 },
      inSeconds(15),
    );
    assert.deepEqual(read.trades, { state: 'known', by_status: {}, list: [], unlisted: 0 });
    const reads = sim.lineageRequests().filter((r) => (r.body as { orchestration_run_id?: string }).orchestration_run_id === runId);
    assert.deepEqual(
      reads.map((r) => r.status),
      [404],
      'no wait when nothing is to come',
    );
  });

  void test('earlier cycles are read again once, after the answer: what they hold is what they caused', async () => {
    sim.setBehaviour({ ...TODAY, ready_share: 1, trade_statuses: ['SENT'] });
    const earlier = uniqueId('mtfpp.d');
    await runOnSimulator(earlier, ['SOLUSDT', 'DOTUSDT']);
    const runIds = { 4: earlier, 5: uniqueId('mtfpp.none'), 6: earlier };
    const earlierCycles = [
      { iteration: 4, ready: 2 },
      { iteration: 5, ready: 0 },
      { iteration: 6, ready: 3 },
    ];
    const read = await readAfterAnswer(deps(runIds), { url: lineageUrl(), wait_seconds: 3, earlier: earlierCycles }, null, inSeconds(10));
    assert.equal(read.trades, undefined, "an accepted run's own trades are read by its wait");
    assert.deepEqual(
      read.late_trades?.map(({ iteration, trades }) => [iteration, trades.state, trades.by_status]),
      [
        [4, 'known', { SENT: 2 }],
        [5, 'known', {}],
        [6, 'pending', { SENT: 2 }],
      ],
      'known once every READY contract has its trade; short of them, pending again with what was read',
    );
  });

  void test("an app without the lineage API (the route's 404, a 405, an HTML page): said as such, the trades unknown", async () => {
    sim.setBehaviour({ ...TODAY, lineage: 'absent' });
    const own = { x_run_id: uniqueId('mtfpp.e'), readyCount: 2 };
    const absent = await readAfterAnswer(deps(), { url: lineageUrl(), wait_seconds: 5, earlier: [] }, own, inSeconds(10));
    assert.match(absent.lineage_absent ?? '', /answered HTTP 404, not JSON: 404 Not Found/);
    assert.deepEqual(absent.trades, { state: 'unknown', by_status: {}, list: [], unlisted: 0 });
    const notAllowed = await plainApp((res) =>
      res.writeHead(405, { 'content-type': 'application/json' }).end('{"message":"Method Not Allowed"}'),
    );
    assert.match(
      (await readAfterAnswer(deps(), { url: notAllowed, wait_seconds: 5, earlier: [] }, own, inSeconds(10))).lineage_absent ?? '',
      /HTTP 405/,
    );
    const frontEnd = await plainApp((res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><title>Trading cockpit</title></html>'),
    );
    assert.match(
      (await readAfterAnswer(deps(), { url: frontEnd, wait_seconds: 5, earlier: [{ iteration: 3, ready: 1 }] }, null, inSeconds(10)))
        .lineage_absent ?? '',
      /HTTP 200, not JSON: Trading cockpit/,
    );
  });

  void test('a lineage API that is down, answers 500 or never answers: no throw, the trades pending, all within the deadline', async () => {
    const own = { x_run_id: uniqueId('mtfpp.f'), readyCount: 1 };
    const pending = { state: 'pending', by_status: {}, list: [], unlisted: 0 };
    const down = `http://127.0.0.1:${await freePort()}/api/lineage/v1/search`;
    assert.deepEqual((await readAfterAnswer(deps(), { url: down, wait_seconds: 0.5, earlier: [] }, own, inSeconds(5))).trades, pending);
    const failing = await plainApp((res) =>
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"internal_error"}}'),
    );
    const failed = await readAfterAnswer(
      deps(),
      { url: failing, wait_seconds: 0.5, earlier: [{ iteration: 7, ready: 1 }] },
      own,
      inSeconds(5),
    );
    assert.deepEqual(
      [failed.trades, failed.late_trades, failed.lineage_absent],
      [pending, undefined, undefined],
      'a failed read again stays pending',
    );
    const hanging = await plainApp(() => undefined);
    const hung = await readAfterAnswer(
      deps(),
      {
        url: hanging,
        wait_seconds: 30,
        earlier: [
          { iteration: 7, ready: 1 },
          { iteration: 8, ready: 1 },
        ],
      },
      own,
      inSeconds(1),
    );
    assert.deepEqual([hung.trades, hung.late_trades], [pending, undefined], 'the deadline ends the reads');
  });
});

void describe('a loop and its trades', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createDevServerEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  /** Quick cycles, no retry wait worth the name. */
  const QUICK: LoopConfigInput = { ping_interval: 0.2, retry_initial_interval: 0.1, retry_max_interval: 0.2 };

  void test("trades that land after the cycle's wait go onto its record after the next answer; the follow lines say so", async () => {
    sim.setBehaviour({ ...TODAY, ready_share: 1, lineage_delay: 1.5, trade_statuses: ['SENT', 'FAILED'] });
    await runRealLoop(env, sim, { ...QUICK, symbols: ['ADAUSDT', 'BTCUSDT'], lineage_wait: 0 }, async (loop) => {
      const pending = new Set<number>();
      const first = await waitFor(
        () => loop.status(),
        (s) => s.counters.cycles >= 1,
        'the first cycle',
      );
      assert.equal(first.last_cycle?.iteration, 1);
      assert.equal(first.last_cycle?.trades?.state, 'pending', 'no wait: the trades were not there yet');
      assert.deepEqual(lateTrades(first, pending), []);
      const later = await waitFor(
        () => loop.status(),
        (s) => s.recent_cycles.find((p) => p.iteration === 1)?.trades?.state === 'known',
        "iteration 1's trades, read after a later answer",
      );
      const point = later.recent_cycles.find((p) => p.iteration === 1);
      assert.deepEqual(point?.trades?.by_status, { SENT: 1, FAILED: 1 });
      const lines = lateTrades(later, pending);
      assert.ok(
        lines.some((l) =>
          /^iteration 1 {2}trades 2 · 1 SENT · 1 FAILED \(read after the next answer\): (ADA|BTC)USDT (LONG|SHORT) (SENT|FAILED)/.test(l),
        ),
        lines.join('\n'),
      );
    });
  });

  void test('an app without the lineage API: one read, "unknown" from then on, asked again once the config changes', async () => {
    sim.setBehaviour({ ...TODAY, ready_share: 1, lineage: 'absent' });
    const before = sim.lineageRequests().length;
    await runRealLoop(env, sim, { ...QUICK, symbols: ['ADAUSDT'] }, async (loop) => {
      const s = await loop.afterRequests(4);
      assert.equal(sim.lineageRequests().length - before, 1, 'asked once');
      assert.ok(
        s.recent_cycles.length >= 3 && s.recent_cycles.every((p) => p.trades?.state === 'unknown'),
        JSON.stringify(s.recent_cycles.map((p) => p.trades)),
      );
      sim.setBehaviour({ lineage: 'on' });
      await env.client.workflow.getHandle(loop.workflowId).executeUpdate('update_config', { args: [{ lineage_wait: 2 }] });
      const asked = await waitFor(
        () => loop.status(),
        (st) => st.last_cycle?.trades?.state === 'known',
        'trades read again after the update',
      );
      assert.equal(asked.last_cycle?.trades?.list.length, 1);
    });
  });

  void test('lineage: false reads nothing: the trades are off', async () => {
    sim.setBehaviour({ ...TODAY, ready_share: 1 });
    const before = sim.lineageRequests().length;
    await runRealLoop(env, sim, { ...QUICK, symbols: ['ADAUSDT'], lineage: false }, async (loop) => {
      const s = await loop.afterRequests(3);
      assert.equal(sim.lineageRequests().length, before);
      assert.deepEqual(s.last_cycle?.trades, { state: 'off', by_status: {}, list: [], unlisted: 0 });
    });
  });

  void test('a live loop: its trades in status, the log, the metrics and the Temporal UI, and "LIVE orders placed" from them', async () => {
    const metricsPort = await freePort();
    const receiver = await WebhookReceiver.start();
    const workflowId = uniqueId('live-trades');
    const common = {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      TASK_QUEUE_NAME: uniqueId('trades-tq'),
      MTF_URL: '',
    };
    const worker: Followed = spawnNode(WORKER, [], {
      ...common,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      HEALTH_ADDRESS: 'off',
      MTF_NOTIFY_URL: receiver.url,
      MTF_NOTIFY_FORMAT: 'json',
    });
    try {
      await worker.waitForLine((l) => l.includes('"worker started"'), 'the worker to start');
      sim.setBehaviour({ ...TODAY, ready_share: 1, lineage_delay: 0.2, trade_statuses: ['SENT', 'SENT', 'FAILED'] });
      const cli = (args: string[]) => runToEnd(process.execPath, [CLI, ...args], { env: { ...process.env, ...common }, timeoutMs: 20_000 });
      const start = await cli([
        'start',
        '--id',
        workflowId,
        '--symbols',
        'AUSDT,BUSDT,CUSDT',
        '--interval',
        '1h',
        '--url',
        sim.runUrl,
        '--live',
      ]);
      assert.equal(start.code, 0, start.stderr);
      const json = await waitFor(
        async () => JSON.parse((await cli(['status', workflowId, '--json'])).stdout) as LoopStatus,
        (s) => s.counters.cycles >= 1,
        'the first cycle',
      );
      const c = json.last_cycle ?? assert.fail('no last cycle');
      assert.equal(c.orders, null, 'the answer lists no order: the trades are the orders');
      assert.deepEqual([c.trades?.state, c.trades?.by_status], ['known', { SENT: 2, FAILED: 1 }]);

      const text = (await cli(['status', workflowId])).stdout;
      assert.match(text, /^ {2}trades {9}3 · 2 SENT · 1 FAILED: \S+ (LONG|SHORT) SENT \(position_opened\) · /m);
      assert.doesNotMatch(text, /0 submitted/, 'no view says "0 submitted · 0 simulated"');

      const line = await worker.waitForLine((l) => l.includes('"cycle finished"'), 'the cycle line');
      const [logged] = parseLines(line);
      assert.equal(logged?.trades, '3 · 2 SENT · 1 FAILED');
      assert.equal((logged?.trades_listed as string[] | undefined)?.length, 3);
      assert.equal(logged?.orders, undefined);

      const metrics = await scrape(metricsPort);
      assert.deepEqual(
        [sample(metrics, 'mtf_trades_total', { status: 'SENT' }), sample(metrics, 'mtf_trades_total', { status: 'FAILED' })],
        [2, 1],
      );
      assert.ok(!/mtf_trades_total\{[^}]*symbol=/.test(metrics), 'never by symbol');

      const details = await currentDetails(env.client, workflowId);
      assert.match(details, /\*\*Trades\*\*: 3 · 2 SENT · 1 FAILED/);
      assert.doesNotMatch(details, /\*\*Orders\*\*/);

      const [message] = await receiver
        .waitFor((posts) => posts.some((p) => p.body.includes('"live_orders"')), 'the LIVE orders message')
        .then(() => receiver.bodies().filter((b) => b.event === 'live_orders'));
      assert.match(
        String(message?.message),
        /LIVE orders placed, iteration 1: 2 SENT · 1 FAILED \(\S+ (LONG|SHORT) SENT \(position_opened\), /,
      );
      assert.deepEqual((message?.trades as { by_status?: unknown } | undefined)?.by_status, { SENT: 2, FAILED: 1 });
      assert.equal((await cli(['stop', workflowId])).code, 0);
    } finally {
      await env.client.workflow
        .getHandle(workflowId)
        .terminate('test over')
        .catch(() => undefined);
      await worker.stop('SIGTERM');
      await receiver.close();
    }
  });
});
