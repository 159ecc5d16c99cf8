/** The simulator's seed-era answer (data.summary, data.results): synchronous runs, the kill switch, asynchronous runs. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UUID_V4, TIMESTAMP, DEFAULT_SYMBOLS, startSeed, type Answer, call, postRun } from '../helpers/simulator-calls';

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument */
// Bodies are read as `any` on purpose: the tests check shapes field by field.

void describe('MTF simulator, seed-era answer: synchronous runs', () => {
  void test('a default run answers 200 with the documented shape, 5 default symbols, dry run', async (t) => {
    const sim = await startSeed(t);
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    assert.match(answer.contentType, /^application\/json/);
    const body = answer.json;
    assert.equal(body.status, 'success');
    assert.equal(body.message, 'MTF run completed');
    const s = body.data.summary;
    assert.match(s.run_id, UUID_V4);
    assert.equal(typeof s.execution_time_seconds, 'number');
    assert.equal(s.symbols_requested, 5);
    assert.equal(s.symbols_processed, 5);
    assert.equal(s.symbols_successful, 5);
    assert.equal(s.symbols_failed, 0);
    assert.equal(s.symbols_skipped, 0);
    assert.equal(s.success_rate, 100);
    assert.equal(s.dry_run, true);
    assert.equal(s.force_run, false);
    assert.match(s.timestamp, TIMESTAMP);
    assert.deepEqual(Object.keys(body.data.results), DEFAULT_SYMBOLS);
    for (const symbol of DEFAULT_SYMBOLS) {
      const r = body.data.results[symbol];
      assert.equal(r.status, 'success');
      assert.ok(r.signal_side === 'LONG' || r.signal_side === 'SHORT');
      assert.equal(r.order_plan_id, null, 'a dry run creates no order plan');
      assert.deepEqual(Object.keys(r.steps), ['4h', '1h', '15m', '5m', '1m']);
      assert.deepEqual(r.consistency, { status: 'CONSISTENT' });
      assert.deepEqual(r.filters, { status: 'passed' });
    }
    assert.deepEqual(body.data.errors, []);
    assert.equal(body.data.workers, 1);

    const [rec] = sim.runRequests();
    assert.ok(rec);
    assert.equal(rec.method, 'POST');
    assert.equal(rec.path, '/api/mtf/run');
    assert.equal(rec.status, 200);
    assert.equal(rec.executed, true);
    assert.equal(rec.run_id, s.run_id);
    assert.deepEqual(rec.body, {});
  });

  void test('a live run creates order plans and reports its options', async (t) => {
    const sim = await startSeed(t);
    const answer = await postRun(sim, { symbols: ['BTCUSDT'], dry_run: false, workers: 3, current_tf: '1h' });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.data.summary.dry_run, false);
    assert.equal(answer.json.data.workers, 3);
    assert.equal(typeof answer.json.data.results.BTCUSDT.order_plan_id, 'string');
  });

  void test('partial_success fails the last symbol and computes the success rate', async (t) => {
    const sim = await startSeed(t, { run_result: 'partial_success' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    const body = answer.json;
    assert.equal(body.status, 'partial_success');
    assert.equal(body.data.summary.symbols_successful, 4);
    assert.equal(body.data.summary.symbols_failed, 1);
    assert.equal(body.data.summary.success_rate, 80);
    assert.equal(body.data.errors.length, 1);
    assert.equal(body.data.errors[0].symbol, 'DOTUSDT');
    assert.equal(body.data.results.DOTUSDT.status, 'error');
    assert.equal(body.data.results.BTCUSDT.status, 'success');
  });

  void test('run_result error in sync mode answers 500 JSON (the run was executed)', async (t) => {
    const sim = await startSeed(t, { run_result: 'error' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 500);
    assert.equal(answer.json.status, 'error');
    assert.match(answer.json.message, /^MTF run failed/);
    assert.equal(sim.runRequests()[0]?.executed, true);
  });

  void test('symbols as a comma-separated string, and GET with query parameters', async (t) => {
    const sim = await startSeed(t);
    const post = await postRun(sim, { symbols: ' BTCUSDT, ETHUSDT ,,' });
    assert.equal(post.status, 200);
    assert.deepEqual(Object.keys(post.json.data.results), ['BTCUSDT', 'ETHUSDT']);

    const get = await call(`${sim.runUrl}?symbols=SOLUSDT,ADAUSDT,DOTUSDT&dry_run=false&force_run=1&workers=2`);
    assert.equal(get.status, 200);
    const s = get.json.data.summary;
    assert.equal(s.symbols_requested, 3);
    assert.equal(s.dry_run, false);
    assert.equal(s.force_run, true);
    assert.equal(get.json.data.workers, 2);

    const recs = sim.runRequests();
    assert.equal(recs.length, 2);
    assert.equal(recs[1]?.method, 'GET');
    assert.equal(recs[1]?.path, '/api/mtf/run');
    assert.deepEqual(recs[1]?.body, { symbols: 'SOLUSDT,ADAUSDT,DOTUSDT', dry_run: 'false', force_run: '1', workers: '2' });
  });

  void test('a malformed JSON body and workers < 1 answer 400 and execute nothing', async (t) => {
    const sim = await startSeed(t);
    const bad = await postRun(sim, '{"symbols": [');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json, { status: 'error', message: 'Invalid JSON body' });
    const zero = await postRun(sim, { workers: 0 });
    assert.equal(zero.status, 400);
    assert.equal(zero.json.status, 'error');
    const wrongType = await postRun(sim, { symbols: 42 });
    assert.equal(wrongType.status, 400);
    assert.ok(sim.runRequests().every((r) => !r.executed && r.run_id === null));
    assert.equal(sim.runRequests()[0]?.body, null);
  });

  void test('a sync run outlives a client that gave up: it is still executed', async (t) => {
    const sim = await startSeed(t, { latency_ms: 300 });
    await assert.rejects(
      fetch(sim.runUrl, { method: 'POST', body: '{}', signal: AbortSignal.timeout(50) }),
      (err: Error) => err.name === 'TimeoutError',
    );
    const [rec] = await sim.waitForRunRequests(1);
    assert.ok(rec);
    assert.equal(rec.executed, true);
    assert.match(rec.run_id ?? '', UUID_V4);
  });
});

void describe('MTF simulator, seed-era answer: kill switch', () => {
  void test('fault kill_switch_off answers 403 unless force_run is true', async (t) => {
    const sim = await startSeed(t, { fault: 'kill_switch_off' });
    const refused = await postRun(sim, { dry_run: false });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.status, 'error');
    assert.equal(refused.json.message, 'Global kill switch is OFF. Use force_run=true to override.');
    assert.equal(refused.json.data.global_switch, false);
    assert.match(refused.json.data.run_id, UUID_V4);
    assert.equal(sim.runRequests()[0]?.executed, false);

    const forced = await postRun(sim, { force_run: true });
    assert.equal(forced.status, 200);
    assert.equal(forced.json.data.summary.force_run, true);
    assert.equal(sim.runRequests()[1]?.executed, true);
  });

  void test('kill_switch_on false is reported by /switches and /health and refuses runs', async (t) => {
    const sim = await startSeed(t, { kill_switch_on: false });
    const switches = await call(`${sim.baseUrl}/api/mtf/switches`);
    assert.equal(switches.status, 200);
    assert.equal(switches.json.data.global_switch, false);
    const health = await call(`${sim.baseUrl}/api/mtf/health`);
    assert.equal(health.status, 200);
    assert.equal(health.json.status, 'healthy');
    assert.equal(health.json.data.global_switch, false);
    assert.equal((await postRun(sim)).status, 403);

    sim.setBehaviour({ kill_switch_on: true });
    assert.equal((await call(`${sim.baseUrl}/api/mtf/switches`)).json.data.global_switch, true);
    assert.equal((await postRun(sim)).status, 200);
  });
});

void describe('MTF simulator, seed-era answer: asynchronous runs', () => {
  void test('202 accepted, status route running, then the final body once completed', async (t) => {
    const sim = await startSeed(t, { mode: 'async', latency_ms: 60_000 });
    const accepted = await postRun(sim, { symbols: ['BTCUSDT', 'ETHUSDT'] });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.json.status, 'accepted');
    const runId: string = accepted.json.data.run_id;
    assert.match(runId, UUID_V4);
    assert.equal(accepted.json.data.status_url, `${sim.baseUrl}/api/mtf/runs/${runId}`);
    const [rec] = sim.runRequests();
    assert.equal(rec?.executed, true);
    assert.equal(rec?.run_id, runId);

    const running = await call(accepted.json.data.status_url);
    assert.equal(running.status, 200);
    assert.equal(running.json.status, 'running');

    sim.completeRun(runId);
    const done = await call(accepted.json.data.status_url);
    assert.equal(done.status, 200);
    assert.equal(done.json.status, 'success');
    assert.equal(done.json.message, 'MTF run completed');
    assert.equal(done.json.data.summary.run_id, runId);
    assert.equal(done.json.data.summary.symbols_requested, 2);
    // The final body is stable across reads.
    assert.deepEqual((await call(accepted.json.data.status_url)).json, done.json);
  });

  void test('without status_url the run is read at the template route; a short latency ends the run', async (t) => {
    const sim = await startSeed(t, { mode: 'async', latency_ms: 30, include_status_url: false, run_result: 'partial_success' });
    const accepted = await postRun(sim);
    assert.equal(accepted.status, 202);
    assert.equal(accepted.json.data.status_url, undefined);
    const url = `${sim.baseUrl}/api/mtf/runs/${accepted.json.data.run_id}`;
    // Eventually consistent: a bounded poll, the server ends the run after 30 ms.
    let last: Answer | undefined;
    for (let i = 0; i < 2000; i += 1) {
      last = await call(url);
      if (last.json.status !== 'running') break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    assert.equal(last?.status, 200);
    assert.equal(last?.json.status, 'partial_success');
    assert.equal(last?.json.data.summary.success_rate, 80);
  });

  void test('run_result error: the status route answers a final error body', async (t) => {
    const sim = await startSeed(t, { mode: 'async', latency_ms: 60_000, run_result: 'error' });
    const accepted = await postRun(sim);
    const runId: string = accepted.json.data.run_id;
    sim.completeRun(runId);
    const done = await call(`${sim.baseUrl}/api/mtf/runs/${runId}`);
    assert.equal(done.status, 200);
    assert.equal(done.json.status, 'error');
    assert.match(done.json.message, /^MTF run failed: /);
    assert.equal(done.json.data.run_id, runId);
  });

  void test('an unknown run id answers 404 Run not found, and unknown routes 404 JSON', async (t) => {
    const sim = await startSeed(t, { mode: 'async' });
    const unknown = await call(`${sim.baseUrl}/api/mtf/runs/00000000-0000-4000-8000-000000000000`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json, { status: 'error', message: 'Run not found' });
    const other = await call(`${sim.baseUrl}/api/nope`);
    assert.equal(other.status, 404);
    assert.equal(other.json.status, 'error');
    const wrongMethod = await call(sim.runUrl, { method: 'PUT', body: '{}' });
    assert.equal(wrongMethod.status, 404);
    assert.equal(sim.runRequests().length, 0, 'a PUT is not a run request');
    assert.throws(() => sim.completeRun('nope'), /unknown run id/);
  });
});
