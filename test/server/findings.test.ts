/**
 * What each run found, as a trader reads it: READY contracts (timeframe, side), verdict counts,
 * orders, and the protection alert of a position left without its stop-loss. Real loops on a dev
 * server, the real worker and activities, the simulator answering in both generations; then a
 * live loop on a worker process whose answer holds an unprotected position, read through
 * `status` (the CLI), the logs, the metrics and the Temporal UI's current details. And the
 * history bytes a 150-contract cycle adds.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { quietCycleCosts } from '../../harness/history';
import type { LoopConfigInput } from '../../src/shared/config';
import type { CycleRecord } from '../../src/shared/cycle-record';
import type { LoopStatus } from '../../src/shared/status';
import { type SimulatorBehaviour } from '../../src/simulator/server';
import { parseLines, sample, scrape } from '../helpers/observe';
import { freePort, spawnNode, type Followed } from '../../harness/processes';
import { runToEnd, waitFor } from '../helpers/processes';
import { runRealLoop } from '../helpers/real-loop';
import { currentDetails, uniqueId } from '../helpers/temporal';
import { useDevStack } from '../helpers/dev-stack';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const WORKER = join(__dirname, '..', '..', 'src', 'worker', 'main.js');

/** One cycle per loop (the pause is an hour). */
const ONE_CYCLE: LoopConfigInput = { ping_interval: 3600, retry_initial_interval: 0.1, retry_max_interval: 0.2 };
/** 150 contracts, as the app's own active list holds in production. */
const CONTRACTS_150 = Array.from({ length: 150 }, (_, i) => `C${String(i).padStart(3, '0')}USDT`);
const NO_ORDERS = { total: 0, submitted: 0, pending: 0, protection_failed: 0, simulated: 0 };

const stack = useDevStack({
  beforeClose: async () => {
    await Promise.all([...processes].map((p) => p.stop('SIGKILL')));
  },
});
const processes = new Set<Followed>();

/** Runs one loop cycle against the simulator behaving so, and hands over the status once it is recorded. */
async function oneCycle(
  behaviour: Partial<SimulatorBehaviour>,
  config: LoopConfigInput = {},
): Promise<LoopStatus & { last_cycle: CycleRecord }> {
  stack.sim.setBehaviour({
    answer: 'today',
    mode: 'sync',
    latency_ms: 0,
    fault: 'none',
    fault_count: null,
    run_result: 'success',
    order_status: null,
    ready_share: 0.4,
    seed: 1,
    throw_share: 0,
    throw_symbols: [],
    ...behaviour,
  });
  return runRealLoop(stack.env, stack.sim, { ...ONE_CYCLE, ...config }, async (loop) => {
    const s = await waitFor(
      () => loop.status(),
      (st) => st.counters.cycles >= 1,
      'the first cycle',
    );
    return { ...s, last_cycle: s.last_cycle ?? assert.fail('no last cycle') };
  });
}

void describe("today's answer: what the run found", () => {
  void test('READY and INVALID verdicts: signals sorted by symbol with timeframe and side, counts; no order listed, as the app answers today', async () => {
    // Seed 1: BTCUSDT READY 1m SHORT, ADAUSDT READY 5m LONG, the other three INVALID; one worker: the sequential path.
    const s = await oneCycle({});
    const c = s.last_cycle;
    assert.equal(c.outcome, 'succeeded');
    assert.deepEqual(c.signals, [
      { symbol: 'ADAUSDT', timeframe: '5m', side: 'LONG' },
      { symbol: 'BTCUSDT', timeframe: '1m', side: 'SHORT' },
    ]);
    assert.equal(c.signals_unlisted, 0);
    assert.deepEqual(c.contracts, { ready: 2, invalid: 3, error: 0, other: 0 });
    assert.equal(c.app_status, 'success');
    assert.equal(c.orders, null, 'the app dispatches its decisions after the run: an empty orders_placed says nothing of orders');
    // The trades are the orders today: read from the lineage API a second after the answer, within the cycle.
    assert.equal(c.trades?.state, 'known');
    assert.deepEqual(
      c.trades.list.map((t) => [t.symbol, t.side]).sort(),
      [
        ['ADAUSDT', 'LONG'],
        ['BTCUSDT', 'SHORT'],
      ],
      'one trade per READY contract, on its side',
    );
    assert.equal(
      Object.values(c.trades.by_status).reduce((a, b) => a + b, 0),
      2,
    );
    assert.equal(c.protection_alert, false);
    assert.equal(c.ready_share, 40, "the app's success_rate is the ready share");
    assert.equal(s.success_rate, 100, "the loop's own success rate counts cycles");
    assert.equal(c.errors, 0);
    assert.deepEqual(c.symbol_errors, []);
    assert.equal(c.mtf_run_id !== null, true);
    const point = s.recent_cycles.at(-1);
    assert.deepEqual([point?.ready, point?.orders, point?.protection_alert, point?.trades], [2, null, false, c.trades]);
  });

  void test("the simulator listing orders (the shape the app's enricher would fill): simulated orders on a dry run", async () => {
    const c = (await oneCycle({ order_status: 'simulated' })).last_cycle;
    assert.deepEqual(c.orders, {
      count: { ...NO_ORDERS, total: 2, simulated: 2 },
      list: [
        { symbol: 'BTCUSDT', status: 'simulated', exchange_order_id: null },
        { symbol: 'ADAUSDT', status: 'simulated', exchange_order_id: null },
      ],
      unlisted: 0,
    });
  });

  void test('a contract that threw: counted though absent from the verdicts, its error kept without its trace, the cycle partial', async () => {
    const s = await oneCycle({ run_result: 'partial_success' });
    const c = s.last_cycle;
    assert.equal(c.outcome, 'partial');
    assert.equal(c.app_status, 'partial_failure');
    assert.deepEqual(c.contracts, { ready: 2, invalid: 2, error: 1, other: 0 });
    assert.deepEqual(c.symbol_errors, ['DOTUSDT: Kline fetch failed: exchange timeout (simulated)']);
    assert.equal(c.errors, 1);
  });

  void test('150 READY contracts and 150 orders: 50 signals and 20 orders listed, the rest counted; unprotected orders listed first', async () => {
    const s = await oneCycle({ ready_share: 1, order_status: ['submitted', 'critical_unprotected_position'] }, { symbols: CONTRACTS_150 });
    const c = s.last_cycle;
    assert.equal(c.signals.length, 50);
    assert.deepEqual(
      c.signals.map((sig) => sig.symbol),
      CONTRACTS_150.slice(0, 50),
    );
    assert.equal(c.signals_unlisted, 100);
    assert.deepEqual(c.contracts, { ready: 150, invalid: 0, error: 0, other: 0 });
    assert.deepEqual(c.orders?.count, { total: 150, submitted: 75, pending: 0, protection_failed: 75, simulated: 0 });
    assert.equal(c.orders?.list.length, 20);
    assert.equal(c.orders?.unlisted, 130);
    assert.ok(c.orders?.list.every((o) => o.status === 'critical_unprotected_position' && /^\d+$/.test(o.exchange_order_id ?? '')));
    assert.equal(c.protection_alert, true);
  });

  void test('an accepted (202) run hands over its findings through the status reads', async () => {
    const s = await oneCycle({ mode: 'async', latency_ms: 50, order_status: 'simulated' }, { poll_interval: 0.05 });
    assert.deepEqual(
      s.last_cycle.signals.map((sig) => sig.symbol),
      ['ADAUSDT', 'BTCUSDT'],
    );
    assert.equal(s.last_cycle.orders?.count.simulated, 2);
  });

  void test('an answer this version cannot read still records what it found: its signals and orders stay visible on the failed cycle', async () => {
    const s = await oneCycle({ fault: 'unknown_status', order_status: 'critical_unprotected_position' });
    const c = s.last_cycle;
    assert.equal(c.outcome, 'failed');
    assert.match(c.message ?? '', /which this version does not know/);
    assert.equal(c.signals.length, 2);
    assert.equal(c.protection_alert, true, 'an unprotected position is flagged whatever the outcome');
  });
});

void describe('the seed-era answer: what the run found', () => {
  void test('per-contract successes are signals with their side and no timeframe; the era lists no orders', async () => {
    const s = await oneCycle({ answer: 'seed' });
    const c = s.last_cycle;
    assert.deepEqual(c.signals, [
      { symbol: 'ADAUSDT', timeframe: null, side: 'LONG' },
      { symbol: 'BTCUSDT', timeframe: null, side: 'LONG' },
      { symbol: 'DOTUSDT', timeframe: null, side: 'LONG' },
      { symbol: 'ETHUSDT', timeframe: null, side: 'SHORT' },
      { symbol: 'SOLUSDT', timeframe: null, side: 'SHORT' },
    ]);
    assert.deepEqual(c.contracts, { ready: 5, invalid: 0, error: 0, other: 0 });
    assert.equal(c.orders, null);
    assert.equal(c.protection_alert, false);
    assert.deepEqual(s.recent_cycles.at(-1)?.orders, null);
  });

  void test('an errored contract: counted, its error named with its symbol', async () => {
    const c = (await oneCycle({ answer: 'seed', run_result: 'partial_success' })).last_cycle;
    assert.deepEqual(c.contracts, { ready: 4, invalid: 0, error: 1, other: 0 });
    assert.deepEqual(c.symbol_errors, ['DOTUSDT: Timeframe 1h invalid for DOTUSDT: no confirmation']);
  });
});

void describe('history bytes per cycle: a loop on all active contracts (symbols: []), 150 of them', () => {
  for (const [name, ready_share, throw_share, order_status, goal] of [
    ['2 % READY as in production (3 contracts, 3 trades), on the sequential path', 0.02, 0, null, 4096],
    ['2 % READY, 5 % threw with their PHP traces, on the sequential path (partial_failure)', 0.02, 0.05, null, 4096],
    // The worst case: 60 READY contracts, each with an order listed in the answer and a trade read after it.
    [
      '40 % READY, the simulator default, with orders and trades listed (the 50 signals, 20 orders and 20 trades caps reached)',
      0.4,
      0,
      'simulated',
      10240,
    ],
  ] as const) {
    void test(`${name}: at most ${goal / 1024} KiB`, async (t) => {
      stack.sim.setBehaviour({
        answer: 'today',
        mode: 'sync',
        latency_ms: 0,
        fault: 'none',
        fault_count: null,
        run_result: 'success',
        order_status,
        ready_share,
        throw_share,
        throw_symbols: [],
        seed: 1,
        active_contracts: CONTRACTS_150,
      });
      await runRealLoop(stack.env, stack.sim, { symbols: [], ping_interval: 0.05 }, async (loop) => {
        const s = await loop.afterRequests(4);
        stack.sim.setBehaviour({ active_contracts: null });
        assert.deepEqual((loop.requests().at(-1)?.body as { symbols?: unknown } | undefined)?.symbols, [], 'the POST names no symbol');
        assert.equal(s.last_cycle?.symbols_requested, 150, 'the app ran its 150 active contracts');
        if (throw_share > 0)
          assert.ok(
            (s.last_cycle?.contracts?.error ?? 0) > 0 && s.last_cycle?.outcome === 'partial',
            JSON.stringify(s.last_cycle?.contracts),
          );
        assert.ok(s.last_cycle && s.last_cycle.contracts?.ready === s.last_cycle.signals.length + s.last_cycle.signals_unlisted);
        const trades = s.last_cycle.trades;
        assert.equal(trades?.state, 'known', 'every READY contract has its trade, read within the cycle');
        assert.equal(trades.list.length + trades.unlisted, s.last_cycle.contracts.ready);
        const { events } = await stack.env.client.workflow.getHandle(loop.workflowId).fetchHistory();
        const sizes = quietCycleCosts(events ?? []);
        assert.ok(sizes.length >= 2, 'two whole cycles after the first');
        const worst = Math.max(...sizes.map((x) => x.bytes));
        const record = JSON.stringify(s.last_cycle).length;
        t.diagnostic(
          `history bytes per cycle: ${sizes.map((x) => x.bytes).join(', ')} (the call's result event: ${sizes.map((x) => x.resultBytes).join(', ')}; the cycle record in get_status: ${record} B of JSON)`,
        );
        assert.ok(worst <= goal, `a cycle added ${worst} bytes`);
      });
    });
  }
});

/** One CLI command to its end: exit code and output. */
function cli(args: string[], extraEnv: NodeJS.ProcessEnv) {
  return runToEnd(process.execPath, [CLI, ...args], { env: { ...process.env, ...extraEnv }, timeoutMs: 20_000 });
}

void describe('a live run that left a position without its stop-loss', () => {
  void test('the protection alert is loud in status (CLI and JSON), the logs, the metrics and the Temporal UI', async () => {
    const metricsPort = await freePort();
    const workflowId = uniqueId('alert-loop');
    const common = {
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
      TASK_QUEUE_NAME: uniqueId('alert-tq'),
      MTF_URL: '',
    };
    const worker = spawnNode(WORKER, [], {
      ...common,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      HEALTH_ADDRESS: 'off',
    });
    processes.add(worker);
    await worker.waitForLine((l) => l.includes('"worker started"'), 'the worker to start');
    // Every contract READY; its orders in turn submitted, pending (entry_submitted), unprotected.
    stack.sim.setBehaviour({
      answer: 'today',
      mode: 'sync',
      latency_ms: 0,
      fault: 'none',
      fault_count: null,
      run_result: 'success',
      ready_share: 1,
      seed: 1,
      order_status: ['submitted', 'entry_submitted', 'critical_unprotected_position'],
    });
    const start = await cli(
      ['start', '--id', workflowId, '--symbols', 'AUSDT,BUSDT,CUSDT', '--interval', '1h', '--url', stack.sim.runUrl, '--live'],
      common,
    );
    assert.equal(start.code, 0, start.stderr);
    const json = await waitFor(
      async () => JSON.parse((await cli(['status', workflowId, '--json'], common)).stdout) as LoopStatus,
      (s) => s.counters.cycles >= 1,
      'the first cycle, read by `status --json`',
    );
    const c = json.last_cycle ?? assert.fail('no last cycle');
    assert.equal(json.config.dry_run, false);
    assert.equal(c.protection_alert, true);
    assert.deepEqual(c.orders?.count, { total: 3, submitted: 1, pending: 1, protection_failed: 1, simulated: 0 });
    const unprotected = c.orders?.list[0] ?? assert.fail('no order listed');
    assert.deepEqual(
      [unprotected.symbol, unprotected.status],
      ['CUSDT', 'critical_unprotected_position'],
      'the unprotected order is listed first',
    );

    const text = (await cli(['status', workflowId], common)).stdout.split('\n');
    assert.match(
      text[1] ?? '',
      new RegExp(
        `^!! PROTECTION ALERT: a position may be open without its stop-loss: CUSDT critical_unprotected_position \\(exchange order ${unprotected.exchange_order_id}\\) \\(iteration 1\\)$`,
      ),
      "the second line, under the loop's name",
    );
    const ready = text.find((l) => l.trimStart().startsWith('ready')) ?? assert.fail(`no ready line in\n${text.join('\n')}`);
    assert.match(
      ready,
      /^ {2}ready {10}\S+ \S+ (LONG|SHORT) · \S+ \S+ (LONG|SHORT) · \S+ \S+ (LONG|SHORT) {4}orders 1 submitted · 1 pending · 1 PROTECTION FAILED$/,
    );

    const alertLine = await worker.waitForLine((l) => l.includes('PROTECTION ALERT'), 'the cycle line of the alert');
    const [logged] = parseLines(alertLine);
    assert.equal(logged?.level, 'error', 'the cycle line of a protection alert is an error');
    assert.equal(logged?.workflowId ?? logged?.workflow_id, workflowId);
    assert.equal(logged?.orders, '1 submitted · 1 pending · 1 PROTECTION FAILED');
    assert.equal((logged?.ready as string[] | undefined)?.length, 3);

    const metrics = await scrape(metricsPort);
    assert.equal(sample(metrics, 'mtf_protection_alerts_total'), 1);
    assert.equal(sample(metrics, 'mtf_loop_protection_alert', { workflow_id: workflowId }), 1);
    for (const status of ['submitted', 'pending', 'protection_failed'])
      assert.equal(sample(metrics, 'mtf_orders_total', { status }), 1, status);
    const signals = metrics.split('\n').filter((l) => l.startsWith('mtf_signals_total{'));
    assert.equal(
      signals.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0),
      3,
      signals.join('\n'),
    );
    assert.ok(
      signals.every((l) => /timeframe="(1m|5m|15m)"/.test(l) && /side="(LONG|SHORT)"/.test(l) && !/symbol=/.test(l)),
      'by timeframe and side, never by symbol',
    );

    const details = await currentDetails(stack.env.client, workflowId);
    assert.match(details, /^MTF ping-pong loop: LIVE/);
    assert.match(details, /PROTECTION ALERT: a position may be open without its stop-loss: CUSDT critical_unprotected_position/);
    assert.match(details, /\*\*Orders\*\*: 3 · 1 submitted · 1 pending · 1 PROTECTION FAILED/);
    for (const symbol of ['AUSDT', 'BUSDT', 'CUSDT']) assert.match(details, new RegExp(`\\*\\*READY \\S+\\*\\*: .*${symbol} (LONG|SHORT)`));
    assert.equal((await cli(['stop', workflowId], common)).code, 0);
    assert.equal(await worker.stop('SIGTERM'), 0);
  });
});
