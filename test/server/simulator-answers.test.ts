/** The simulator's answer of today's app (data.run, data.symbols): synchronous runs, run results, accepted runs. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ACTIVE_CONTRACTS } from '../../src/simulator/server';
import {
  UUID_V4,
  TIMESTAMP,
  DEFAULT_SYMBOLS,
  type Json,
  start,
  startSeed,
  call,
  postRun,
  READY_TFS,
  BLOCKING_TFS,
  verdicts,
  contractKeys,
  PARALLEL,
  symbolsWith,
  assertFiguresAgree,
} from '../helpers/simulator-calls';

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return */
// Bodies are read as `any` on purpose: the tests check shapes field by field.

void describe("MTF simulator, today's answer: synchronous runs", () => {
  void test('a parallel run answers completed with data.run, data.symbols and the enrichments, field by field', async (t) => {
    // Orders listed (order_status), the shape the app's enricher would fill; today's app lists none (simulator-paths.test.ts).
    const sim = await start(t, { order_status: 'simulated' });
    assert.equal(sim.behaviour().answer, 'today', 'today is the default');
    const answer = await postRun(sim, { symbols: DEFAULT_SYMBOLS, ...PARALLEL });
    assert.equal(answer.status, 200);
    assert.match(answer.contentType, /^application\/json/);
    const body = answer.json;
    assert.equal(body.status, 'completed');
    assert.equal(body.message, 'MTF run completed');
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
    assert.equal(body.data.summary, undefined, 'no seed-era summary');
    assert.equal(body.data.results, undefined, 'no seed-era results');

    const run = body.data.run;
    assert.match(run.run_id, UUID_V4);
    assert.equal(run.status, 'completed');
    assert.equal(typeof run.execution_time_seconds, 'number');
    assert.equal(run.symbols_requested, 5);
    assert.equal(run.symbols_processed, 5);
    assert.equal(run.dry_run, true);
    assert.equal(run.force_run, false);
    assert.equal(run.current_tf, null);
    assert.match(run.timestamp, TIMESTAMP);
    assert.equal(typeof run.polling_time_seconds, 'number');
    assert.equal(typeof run.polling_count, 'number');
    assertFiguresAgree(body);

    const ready = symbolsWith(body, 'READY');
    const invalid = symbolsWith(body, 'INVALID');
    assert.deepEqual(contractKeys(body.data.symbols), DEFAULT_SYMBOLS);
    assert.equal(ready.length + invalid.length, 5, 'a success run has only READY and INVALID symbols');
    assert.equal(body.data.symbols.FINAL, undefined, "the runner drops the worker's FINAL entry");
    for (const symbol of DEFAULT_SYMBOLS) {
      const r = body.data.symbols[symbol];
      assert.equal(r.symbol, symbol);
      assert.equal(typeof r.reason, 'string');
      assert.deepEqual(r.context, {});
      assert.deepEqual(r.execution, {});
      if (r.status === 'READY') {
        assert.ok(READY_TFS.includes(r.execution_tf), r.execution_tf);
        assert.ok(r.signal_side === 'LONG' || r.signal_side === 'SHORT');
        assert.equal('blocking_tf' in r, false);
        assert.equal(r.trading_decision.status, 'simulated');
      } else {
        assert.equal(r.status, 'INVALID');
        assert.equal(r.trading_decision, undefined, 'no decision without a signal');
        assert.equal(r.execution_tf, null);
        assert.equal(r.signal_side, null);
        assert.ok(BLOCKING_TFS.includes(r.blocking_tf), r.blocking_tf);
      }
    }
    assert.deepEqual(body.data.errors, []);
    assert.equal(body.data.workers, 4);

    const byTf = body.data.summary_by_tf;
    assert.deepEqual(Object.keys(byTf), ['1m', '5m', '15m', '1h', '4h']);
    for (const symbol of ready) assert.ok(byTf[body.data.symbols[symbol].execution_tf].includes(symbol));
    for (const symbol of invalid) assert.ok(byTf[body.data.symbols[symbol].blocking_tf].includes(symbol));
    assert.deepEqual(body.data.rejected_by, [...invalid].sort());
    assert.deepEqual(body.data.last_validated, [], 'the enricher lists SUCCESS and COMPLETED contracts only: READY never');
    assert.equal(typeof body.data.performance, 'object');

    const placed = body.data.orders_placed;
    assert.deepEqual(placed.count, { total: ready.length, submitted: 0, pending: 0, protection_failed: 0, simulated: ready.length });
    assert.deepEqual(
      placed.orders.map((o: Json) => o.symbol),
      ready,
    );
    for (const o of placed.orders) {
      assert.deepEqual(Object.keys(o), ['symbol', 'status', 'client_order_id', 'exchange_order_id', 'decision_key', 'raw']);
      assert.equal(o.status, 'simulated');
      assert.equal(o.client_order_id, null);
      assert.equal(o.exchange_order_id, null);
      assert.equal(typeof o.decision_key, 'string');
      assert.deepEqual(o.raw, {});
    }

    const [rec] = sim.runRequests();
    assert.equal(rec?.status, 200);
    assert.equal(rec?.executed, true);
    assert.equal(rec?.run_id, run.run_id);
    assert.equal(rec?.x_run_id, null);
  });

  void test('verdicts are stable per symbol and seed: two runs, two simulators agree; another seed differs', async (t) => {
    const a = await start(t);
    const b = await start(t, { seed: 1 });
    const c = await start(t, { seed: 2 });
    const first = verdicts((await postRun(a)).json);
    assert.deepEqual(verdicts((await postRun(a)).json), first, 'the same simulator, a second run');
    assert.deepEqual(verdicts((await postRun(b)).json), first, 'another simulator, the same seed');
    assert.notDeepEqual(verdicts((await postRun(c)).json), first, 'another seed');
    // One symbol alone gets the verdict it gets among the others.
    const alone = verdicts((await postRun(a, { symbols: ['ADAUSDT'] })).json);
    assert.deepEqual(alone, { ADAUSDT: first['ADAUSDT'] });
  });

  void test("at the default seed the seed's five symbols hold at least one READY and one INVALID", async (t) => {
    const sim = await start(t);
    const body = (await postRun(sim, { symbols: DEFAULT_SYMBOLS })).json;
    assert.ok(symbolsWith(body, 'READY').length >= 1, JSON.stringify(verdicts(body)));
    assert.ok(symbolsWith(body, 'INVALID').length >= 1, JSON.stringify(verdicts(body)));
  });

  void test("empty or absent symbols mean the app's active contracts; the seed-era answer keeps its five", async (t) => {
    assert.deepEqual(ACTIVE_CONTRACTS.slice(0, 5), DEFAULT_SYMBOLS);
    assert.ok(ACTIVE_CONTRACTS.length >= 10 && ACTIVE_CONTRACTS.every((s) => /^[A-Z0-9]+USDT$/.test(s)));
    const sim = await start(t);
    for (const body of [{}, { symbols: [] }, { symbols: '' }, { symbols: null }]) {
      const answer = await postRun(sim, body);
      assert.equal(answer.status, 200, JSON.stringify(body));
      assert.deepEqual(contractKeys(answer.json.data.symbols), ACTIVE_CONTRACTS, JSON.stringify(body));
      assert.equal(answer.json.data.run.symbols_requested, ACTIVE_CONTRACTS.length);
    }
    const get = await call(sim.runUrl);
    assert.deepEqual(contractKeys(get.json.data.symbols), ACTIVE_CONTRACTS);
    // Today's app runs a symbol named twice once.
    assert.deepEqual(contractKeys((await postRun(sim, { symbols: 'BTCUSDT,ETHUSDT,BTCUSDT' })).json.data.symbols), ['BTCUSDT', 'ETHUSDT']);

    // A test may give the app more active contracts; a request that names some still gets those.
    sim.setBehaviour({ active_contracts: ['AAAUSDT', 'BBBUSDT'] });
    assert.deepEqual(contractKeys((await postRun(sim, {})).json.data.symbols), ['AAAUSDT', 'BBBUSDT']);
    assert.deepEqual(contractKeys((await postRun(sim, { symbols: ['BTCUSDT'] })).json.data.symbols), ['BTCUSDT']);

    const seed = await startSeed(t);
    assert.deepEqual(Object.keys((await postRun(seed, { symbols: [] })).json.data.results), DEFAULT_SYMBOLS);
  });

  void test('a live run listing its orders: one per READY symbol, with exchange ids', async (t) => {
    const sim = await start(t, { order_status: 'submitted' });
    const body = (await postRun(sim, { symbols: DEFAULT_SYMBOLS, dry_run: false, workers: 4, current_tf: '5m' })).json;
    assert.equal(body.status, 'completed');
    assert.equal(body.data.run.dry_run, false);
    assert.equal(body.data.run.current_tf, '5m');
    assert.equal(body.data.workers, 4);
    const ready = symbolsWith(body, 'READY');
    assert.deepEqual(body.data.orders_placed.count, {
      total: ready.length,
      submitted: ready.length,
      pending: 0,
      protection_failed: 0,
      simulated: 0,
    });
    for (const o of body.data.orders_placed.orders) {
      assert.equal(o.status, 'submitted');
      assert.equal(typeof o.client_order_id, 'string');
      assert.match(o.exchange_order_id, /^\d+$/);
      const { symbol, ...decision } = o;
      assert.deepEqual(body.data.symbols[symbol].trading_decision, decision, "the order is the symbol's trading decision");
    }
  });

  void test('X-Run-Id names the run: a plain id is kept, any other is hashed; the seed-era app ignores it', async (t) => {
    const sim = await start(t);
    const plain = 'mtf-loop:7f3c9a.b_1:42';
    assert.equal((await postRun(sim, {}, { 'X-Run-Id': plain })).json.data.run.run_id, plain);
    for (const odd of ['wf-1/run-1/42', 'x'.repeat(65), 'has space']) {
      const answer = await postRun(sim, {}, { 'X-Run-Id': odd });
      assert.equal(answer.json.data.run.run_id, createHash('sha256').update(odd).digest('hex'), odd);
    }
    const recs = sim.runRequests();
    assert.equal(recs[0]?.x_run_id, plain);
    assert.equal(recs[0]?.run_id, plain);
    assert.equal(recs[1]?.x_run_id, 'wf-1/run-1/42');
    assert.match(recs[1]?.run_id ?? '', /^[0-9a-f]{64}$/);

    const seed = await startSeed(t);
    const answer = await postRun(seed, {}, { 'X-Run-Id': plain });
    assert.match(answer.json.data.summary.run_id, UUID_V4);
    assert.equal(seed.runRequests()[0]?.x_run_id, plain);
  });
});

void describe("MTF simulator, today's answer: run results", () => {
  void test('partial_success on the parallel path: completed_with_errors, the last symbol absent (its worker threw), one string in data.errors', async (t) => {
    const sim = await start(t, { run_result: 'partial_success' });
    const body = (await postRun(sim, { symbols: DEFAULT_SYMBOLS, ...PARALLEL })).json;
    assert.equal(body.status, 'completed_with_errors');
    assert.equal(body.data.run.status, 'completed_with_errors');
    assert.equal(body.data.symbols.DOTUSDT, undefined);
    assert.deepEqual(body.data.errors, ['Worker DOTUSDT: no results returned']);
    assert.ok(!body.data.rejected_by.includes('DOTUSDT'));
    assertFiguresAgree(body);
  });

  void test('all_errored on the parallel path: every worker threw, data.symbols [], one error each, nothing processed', async (t) => {
    const sim = await start(t, { run_result: 'all_errored' });
    const body = (await postRun(sim, { symbols: DEFAULT_SYMBOLS, ...PARALLEL })).json;
    assert.equal(body.status, 'completed_with_errors');
    assert.deepEqual(body.data.symbols, []);
    assert.equal(body.data.errors.length, 5);
    assert.ok(body.data.errors.every((e: unknown) => typeof e === 'string'));
    assert.equal(body.data.run.symbols_successful, 0);
    assert.equal(body.data.run.symbols_processed, 0);
    assert.equal(body.data.run.success_rate, 0);
    assert.equal(body.data.orders_placed.count.total, 0);
    assertFiguresAgree(body);
  });

  void test('none_processed on the parallel path: the exchange is down, nothing processed, one error', async (t) => {
    const sim = await start(t, { run_result: 'none_processed' });
    const body = (await postRun(sim, { symbols: DEFAULT_SYMBOLS, ...PARALLEL })).json;
    assert.equal(body.status, 'completed_with_errors');
    assert.equal(body.data.run.symbols_requested, 5);
    assert.equal(body.data.run.symbols_processed, 0);
    assert.equal(body.data.run.symbols_successful, 0);
    assert.equal(body.data.run.success_rate, 0);
    assert.deepEqual(body.data.symbols, []);
    assert.equal(body.data.errors.length, 1);
    assert.match(body.data.errors[0], /^Exchange unavailable: /);
    assert.deepEqual(body.data.orders_placed.orders, []);
  });

  void test('error: HTTP 500 with error_code internal_error; the run was executed', async (t) => {
    const sim = await start(t, { run_result: 'error' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 500);
    assert.deepEqual(answer.json, { status: 'error', error_code: 'internal_error', message: 'Unable to run MTF cycle.' });
    assert.equal(sim.runRequests()[0]?.executed, true);
  });

  void test('error_200: HTTP 200 whose status is error, with a message and the failure in data.errors', async (t) => {
    const sim = await start(t, { run_result: 'error_200' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    assert.equal(answer.json.status, 'error');
    assert.equal(typeof answer.json.message, 'string');
    assert.equal(answer.json.data.run.status, 'error');
    assert.equal(answer.json.data.run.symbols_processed, 0);
    assert.equal(answer.json.data.run.message, 'MTF validation failed: exchange timeout while loading klines (simulated)');
    assert.equal(answer.json.data.errors.length, 1);
    assert.equal(typeof answer.json.data.errors[0].error, 'string', "the sequential path's error is an object");
    assert.equal(sim.runRequests()[0]?.executed, true);
  });

  void test('the seed-era answer: all_errored, none_processed and error_200', async (t) => {
    const sim = await startSeed(t, { run_result: 'all_errored' });
    const all = (await postRun(sim)).json;
    assert.equal(all.status, 'partial_success');
    assert.ok(Object.values<Json>(all.data.results).every((r) => r.status === 'error'));
    assert.equal(all.data.summary.symbols_successful, 0);
    assert.equal(all.data.summary.symbols_failed, 5);
    assert.equal(all.data.errors.length, 5);

    sim.setBehaviour({ run_result: 'none_processed' });
    const none = (await postRun(sim)).json;
    assert.equal(none.status, 'partial_success');
    assert.equal(none.data.summary.symbols_processed, 0);
    assert.equal(none.data.summary.symbols_requested, 5);
    assert.deepEqual(none.data.results, {});
    assert.equal(none.data.errors.length, 1);
    assert.match(none.data.errors[0].error, /^Exchange unavailable: /);

    sim.setBehaviour({ run_result: 'error_200' });
    const failed = await postRun(sim);
    assert.equal(failed.status, 200);
    assert.equal(failed.json.status, 'error');
    assert.match(failed.json.message, /^MTF run failed/);
  });
});

void describe("MTF simulator, today's answer: accepted runs", () => {
  void test('202 accepted; the status route reads success with data.run running, then the finished run', async (t) => {
    const sim = await start(t, { mode: 'async', latency_ms: 60_000 });
    const accepted = await postRun(sim, { symbols: DEFAULT_SYMBOLS, ...PARALLEL }, { 'X-Run-Id': 'mtf-loop:wf-9:3' });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.json.status, 'accepted');
    const runId: string = accepted.json.data.run_id;
    assert.equal(runId, 'mtf-loop:wf-9:3');
    const statusUrl: string = accepted.json.data.status_url;
    assert.equal(statusUrl, `${sim.baseUrl}/api/mtf/runs/${encodeURIComponent(runId)}`);

    const running = await call(statusUrl);
    assert.equal(running.status, 200);
    assert.equal(running.json.status, 'success', 'the read worked; the run has not ended');
    assert.equal(running.json.data.run.run_id, runId);
    assert.equal(running.json.data.run.status, 'running');
    assert.match(running.json.data.run.started_at, TIMESTAMP);
    assert.equal(running.json.data.run.finished_at, null);

    sim.completeRun(runId);
    const done = await call(statusUrl);
    assert.equal(done.status, 200);
    assert.equal(done.json.status, 'success');
    const run = done.json.data.run;
    assert.equal(run.run_id, runId);
    assert.equal(run.status, 'completed');
    assert.equal(run.started_at, running.json.data.run.started_at);
    assert.match(run.finished_at, TIMESTAMP);
    assert.equal(run.symbols_requested, 5);
    assert.deepEqual(contractKeys(done.json.data.symbols), DEFAULT_SYMBOLS);
    assert.equal(typeof done.json.data.orders_placed.count.total, 'number');
    assertFiguresAgree(done.json);
    assert.deepEqual((await call(statusUrl)).json, done.json, 'the final read is stable');
  });

  void test('an accepted run that fails ends with data.run.status error; all_errored too (the sequential path: none READY)', async (t) => {
    const sim = await start(t, { mode: 'async', latency_ms: 60_000, run_result: 'error' });
    const failed: string = (await postRun(sim)).json.data.run_id;
    sim.setBehaviour({ run_result: 'all_errored' });
    const errored: string = (await postRun(sim, { symbols: ['BTCUSDT'] })).json.data.run_id;
    sim.completeRun(failed);
    sim.completeRun(errored);
    const a = await call(`${sim.baseUrl}/api/mtf/runs/${failed}`);
    assert.equal(a.json.status, 'success');
    assert.equal(a.json.data.run.status, 'error');
    assert.match(a.json.data.run.finished_at, TIMESTAMP);
    assert.equal(a.json.data.errors.length, 1);
    const b = await call(`${sim.baseUrl}/api/mtf/runs/${errored}`);
    assert.equal(b.json.data.run.status, 'error');
    assert.deepEqual(b.json.data.symbols, []);
    assert.equal(b.json.data.errors[0].symbol, 'BTCUSDT');
  });

  void test('a run keeps the generation it started under', async (t) => {
    const sim = await startSeed(t, { mode: 'async', latency_ms: 60_000 });
    const runId: string = (await postRun(sim)).json.data.run_id;
    sim.setBehaviour({ answer: 'today' });
    assert.equal((await call(`${sim.baseUrl}/api/mtf/runs/${runId}`)).json.status, 'running');
    sim.completeRun(runId);
    const done = await call(`${sim.baseUrl}/api/mtf/runs/${runId}`);
    assert.equal(done.json.status, 'success');
    assert.equal(done.json.data.summary.run_id, runId);
  });
});
