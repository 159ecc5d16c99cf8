/**
 * The simulator answers the path a request asks for, as the app's runner does
 * (docs/mtf-api.md, "The sequential path"): `workers` 1 or absent gets the validator's
 * sequential answer, `workers` > 1 the parallel one; which contracts throw is seeded per symbol
 * (`throw_share`) or named (`throw_symbols`). And the health route of each generation of the app.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import { startSimulator, type Simulator, type SimulatorBehaviour } from '../../src/simulator/server';

const FIVE = ['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT'];
const NO_ORDERS = { count: { total: 0, submitted: 0, pending: 0, protection_failed: 0, simulated: 0 }, orders: [] };

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return */
// Bodies are read as `any` on purpose: the tests check shapes field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function start(t: TestContext, behaviour: Partial<SimulatorBehaviour> = {}): Promise<Simulator> {
  const sim = await startSimulator({ behaviour });
  t.after(() => sim.close());
  return sim;
}

async function run(sim: Simulator, body: Record<string, unknown> = {}): Promise<Json> {
  const res = await fetch(sim.runUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ symbols: FIVE, ...body }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

function withStatus(body: Json, status: string): string[] {
  return Object.values<Json>(Array.isArray(body.data.symbols) ? {} : body.data.symbols)
    .filter((entry) => entry.status === status)
    .map((entry) => entry.symbol as string);
}

void describe('the sequential path (workers 1 or absent): the validator answers', () => {
  void test('success: the run record field by field, only READY and INVALID contracts, no order, [] for empty maps', async (t) => {
    const sim = await start(t);
    for (const workers of [undefined, 1]) {
      const body = await run(sim, workers === undefined ? {} : { workers });
      assert.equal(body.status, 'success');
      assert.deepEqual(Object.keys(body.data), [
        'run',
        'symbols',
        'errors',
        'workers',
        'summary_by_tf',
        'rejected_by',
        'last_validated',
        'performance',
        'orders_placed',
      ]);
      const r = body.data.run;
      assert.deepEqual(Object.keys(r), [
        'run_id',
        'status',
        'execution_time_seconds',
        'symbols_requested',
        'symbols_processed',
        'symbols_successful',
        'symbols_failed',
        'symbols_skipped',
        'success_rate',
        'results',
        'errors',
        'timestamp',
        'message',
      ]);
      assert.equal(r.status, 'success');
      assert.ok(Number.isInteger(r.execution_time_seconds), 'whole seconds');
      const ready = withStatus(body, 'READY');
      const invalid = withStatus(body, 'INVALID');
      // The default seed: BTCUSDT and ADAUSDT READY, the other three INVALID.
      assert.deepEqual(
        [ready.sort(), invalid.sort()],
        [
          ['ADAUSDT', 'BTCUSDT'],
          ['DOTUSDT', 'ETHUSDT', 'SOLUSDT'],
        ],
      );
      assert.deepEqual(
        [r.symbols_requested, r.symbols_processed, r.symbols_successful, r.symbols_failed, r.symbols_skipped],
        [5, 5, 2, 0, 3],
        'INVALID is skipped here',
      );
      assert.equal(r.success_rate, 40);
      assert.equal(r.message, null);
      assert.equal(r.results.length, 5, "the validator's dump of every analysed contract");
      for (const entry of Object.values<Json>(body.data.symbols)) {
        assert.deepEqual(Object.keys(entry), ['symbol', 'status', 'execution_tf', 'signal_side', 'reason', 'context', 'execution']);
      }
      assert.deepEqual(body.data.errors, []);
      assert.equal(body.data.workers, 1);
      assert.deepEqual(Object.keys(body.data.summary_by_tf), ['1m', '5m', '15m', '1h', '4h']);
      assert.deepEqual(body.data.rejected_by, ['DOTUSDT', 'ETHUSDT', 'SOLUSDT']);
      assert.deepEqual([body.data.last_validated, body.data.performance], [[], []]);
      assert.deepEqual(body.data.orders_placed, NO_ORDERS, 'the app dispatches its decisions after the run');
    }
  });

  void test('partial_failure: a contract that threw is absent from data.symbols, in data.errors with its PHP trace, counted as failed', async (t) => {
    const sim = await start(t, { throw_symbols: ['SOLUSDT'] });
    const body = await run(sim);
    assert.equal(body.status, 'partial_failure');
    assert.equal(body.data.run.status, 'partial_failure');
    assert.equal(body.data.symbols.SOLUSDT, undefined);
    assert.equal(body.data.errors.length, 1);
    const [error] = body.data.errors;
    assert.deepEqual(Object.keys(error), ['symbol', 'error', 'trace']);
    assert.equal(error.symbol, 'SOLUSDT');
    assert.ok(error.trace.split('\n').length > 5 && error.trace.startsWith('#0 /var/www/'), error.trace);
    assert.deepEqual(body.data.run.errors, body.data.errors);
    const r = body.data.run;
    assert.deepEqual([r.symbols_processed, r.symbols_successful, r.symbols_failed, r.symbols_skipped], [5, 2, 1, 2]);
  });

  void test('error: some threw and none is READY, even beside contracts found INVALID; every one threw: data.symbols is []', async (t) => {
    const sim = await start(t, { ready_share: 0, throw_symbols: ['ETHUSDT'] });
    const none = await run(sim);
    assert.equal(none.status, 'error');
    assert.deepEqual(withStatus(none, 'INVALID').length, 4);
    assert.equal(none.data.run.symbols_failed, 1);

    sim.setBehaviour({ run_result: 'all_errored' });
    const all = await run(sim);
    assert.equal(all.status, 'error');
    assert.deepEqual(all.data.symbols, []);
    assert.equal(all.data.errors.length, 5);
    assert.deepEqual([all.data.run.symbols_processed, all.data.run.symbols_failed, all.data.run.success_rate], [5, 5, 0]);
  });

  void test('a run that failed as a whole (error_200): status error, nothing processed, the reason in data.run.message', async (t) => {
    const sim = await start(t, { run_result: 'error_200' });
    const body = await run(sim);
    assert.deepEqual([body.status, body.data.run.status, body.data.run.symbols_processed], ['error', 'error', 0]);
    assert.match(body.data.run.message, /exchange timeout/);
    assert.deepEqual(body.data.symbols, []);
  });
});

void describe('which contracts throw', () => {
  void test('throw_share is drawn per symbol, seed and run: the same seed the same contracts at the same runs, another seed others; 0 none, 1 all', async (t) => {
    const symbols = Array.from({ length: 40 }, (_, i) => `T${i}USDT`);
    const threw = async (sim: Simulator) => ((await run(sim, { symbols })).data.errors as Json[]).map((e) => e.symbol as string);
    const a = await start(t, { throw_share: 0.25, seed: 3 });
    const b = await start(t, { throw_share: 0.25, seed: 3 });
    const runsOfA = [await threw(a), await threw(a)];
    for (const one of runsOfA) assert.ok(one.length > 2 && one.length < 20, `${one.length} of 40 threw`);
    assert.notDeepEqual(runsOfA[1], runsOfA[0], 'the next run draws anew');
    assert.deepEqual(
      [await threw(b), await threw(b)],
      runsOfA,
      'another simulator with the same seed: the same contracts at the same runs',
    );
    b.setBehaviour({ seed: 3 });
    assert.deepEqual(await threw(b), runsOfA[0], 'setting the seed again replays its sequence');
    b.setBehaviour({ seed: 4 });
    assert.notDeepEqual(await threw(b), runsOfA[0], 'another seed');
    b.setBehaviour({ throw_share: 0 });
    assert.deepEqual(await threw(b), []);
    b.setBehaviour({ throw_share: 1 });
    assert.equal((await threw(b)).length, 40);
  });

  void test('throw_symbols throw on every run; a bad share or list is refused naming the field', async (t) => {
    const sim = await start(t, { throw_symbols: ['BTCUSDT', 'DOTUSDT'] });
    for (let i = 0; i < 3; i++)
      assert.deepEqual(
        ((await run(sim)).data.errors as Json[]).map((e) => e.symbol),
        ['BTCUSDT', 'DOTUSDT'],
      );
    assert.throws(() => sim.setBehaviour({ throw_share: 2 }), /invalid throw_share: 2 \(expected 0\.\.1\)/);
    assert.throws(() => sim.setBehaviour({ throw_symbols: [''] }), /invalid throw_symbols/);
  });
});

void describe('the parallel path (workers > 1): the runner answers', () => {
  void test('completed_with_errors: the contract whose worker threw is absent, its error a "Worker SYM: …" string; symbols_failed counts INVALID', async (t) => {
    const sim = await start(t, { throw_symbols: ['SOLUSDT'] });
    const body = await run(sim, { workers: 4 });
    assert.equal(body.status, 'completed_with_errors');
    assert.equal(body.data.symbols.SOLUSDT, undefined);
    assert.deepEqual(body.data.errors, ['Worker SOLUSDT: no results returned']);
    const r = body.data.run;
    assert.deepEqual(
      [r.symbols_requested, r.symbols_processed, r.symbols_successful, r.symbols_failed, r.symbols_skipped],
      [5, 4, 2, 2, 0],
    );
    assert.equal(r.dry_run, true);
    assert.equal(typeof r.polling_count, 'number');
    assert.deepEqual(body.data.orders_placed, NO_ORDERS);
    assert.deepEqual(body.data.last_validated, []);

    sim.setBehaviour({ throw_symbols: [] });
    assert.equal((await run(sim, { workers: 4 })).status, 'completed');
  });

  void test('every worker threw: data.symbols is []', async (t) => {
    const sim = await start(t, { run_result: 'all_errored' });
    const body = await run(sim, { workers: 2 });
    assert.deepEqual([body.status, body.data.symbols, body.data.run.symbols_processed], ['completed_with_errors', [], 0]);
    assert.equal(body.data.errors.length, 5);
  });
});

void describe("orders are listed only when asked (order_status): the shape the app's enricher would fill", () => {
  for (const workers of [1, 4]) {
    void test(`workers ${workers}: an order per READY contract, its decision on the contract's entry`, async (t) => {
      const sim = await start(t, { order_status: 'submitted' });
      const body = await run(sim, { workers, dry_run: false });
      const ready = withStatus(body, 'READY');
      assert.deepEqual(body.data.orders_placed.count, {
        total: ready.length,
        submitted: ready.length,
        pending: 0,
        protection_failed: 0,
        simulated: 0,
      });
      for (const order of body.data.orders_placed.orders) {
        const { symbol, ...decision } = order;
        assert.deepEqual(body.data.symbols[symbol].trading_decision, decision);
      }
    });
  }
});

void describe("the app's health, where each generation answers it", () => {
  void test("today's app: GET /health answers a plain-text OK; /api/mtf/health is not routed", async (t) => {
    const sim = await start(t);
    const health = await fetch(`${sim.baseUrl}/health`);
    assert.deepEqual([health.status, health.headers.get('content-type'), await health.text()], [200, 'text/plain; charset=UTF-8', 'OK']);
    assert.equal((await fetch(`${sim.baseUrl}/api/mtf/health`)).status, 404);
  });

  void test('the seed-era app: GET /api/mtf/health answers JSON; /health is not routed', async (t) => {
    const sim = await start(t, { answer: 'seed' });
    const health = await fetch(`${sim.baseUrl}/api/mtf/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as Json).status, 'healthy');
    assert.equal((await fetch(`${sim.baseUrl}/health`)).status, 404);
  });
});
