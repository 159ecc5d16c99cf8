import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  ACTIVE_CONTRACTS,
  DEFAULT_BEHAVIOUR,
  OVERSIZED_BYTES,
  RANDOM_FAULTS,
  SIMULATOR_FAULTS,
  startSimulator,
} from '../../src/simulator/server';
import type { Simulator, SimulatorBehaviour } from '../../src/simulator/server';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const DEFAULT_SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT'];

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return */
// Bodies are read as `any` on purpose: the tests check shapes field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function start(t: TestContext, behaviour: Partial<SimulatorBehaviour> = {}): Promise<Simulator> {
  const sim = await startSimulator({ behaviour });
  t.after(() => sim.close());
  return sim;
}

/** The seed-era answer (data.summary, data.results): what the simulator served before today's. */
function startSeed(t: TestContext, behaviour: Partial<SimulatorBehaviour> = {}): Promise<Simulator> {
  return start(t, { answer: 'seed', ...behaviour });
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
  json: Json;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json };
}

function postRun(sim: Simulator, body: unknown = {}, headers: Record<string, string> = {}): Promise<Answer> {
  return call(sim.runUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

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

void describe('MTF simulator, seed-era answer: faults', () => {
  void test('http500 answers a JSON error', async (t) => {
    const sim = await startSeed(t, { fault: 'http500' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 500);
    assert.match(answer.contentType, /^application\/json/);
    assert.equal(answer.json.status, 'error');
    assert.equal(typeof answer.json.message, 'string');
    assert.equal(sim.runRequests()[0]?.executed, false);
  });

  for (const [fault, status] of [
    ['html502', 502],
    ['html503', 503],
    ['html504', 504],
  ] as const) {
    void test(`${fault} answers an nginx HTML page with status ${status}`, async (t) => {
      const sim = await startSeed(t, { fault });
      const answer = await postRun(sim);
      assert.equal(answer.status, status);
      assert.match(answer.contentType, /^text\/html/);
      assert.match(answer.text, /<html>/);
      assert.match(answer.text, new RegExp(`<title>${status} `));
      assert.equal(answer.json, undefined);
      const [rec] = sim.runRequests();
      assert.equal(rec?.status, status);
      assert.equal(rec?.executed, false);
    });
  }

  void test('html504_after_run executes and records the run, then answers a 504 page', async (t) => {
    const sim = await startSeed(t, { fault: 'html504_after_run' });
    const answer = await postRun(sim, { dry_run: false });
    assert.equal(answer.status, 504);
    assert.match(answer.contentType, /^text\/html/);
    const [rec] = sim.runRequests();
    assert.ok(rec);
    assert.equal(rec.executed, true);
    assert.match(rec.run_id ?? '', UUID_V4);
    assert.equal(rec.status, 504);
  });

  void test('invalid_json answers 200 application/json with a body that does not parse', async (t) => {
    const sim = await startSeed(t, { fault: 'invalid_json' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    assert.match(answer.contentType, /^application\/json/);
    assert.throws(() => JSON.parse(answer.text) as unknown, SyntaxError);
  });

  void test('wrong_shape answers 200 JSON without data.summary', async (t) => {
    const sim = await startSeed(t, { fault: 'wrong_shape' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    assert.equal(answer.json.status, 'success');
    assert.equal(answer.json.data.summary, undefined);
  });

  void test('oversized answers a body larger than 1 MiB', async (t) => {
    const sim = await startSeed(t, { fault: 'oversized' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    assert.ok(Buffer.byteLength(answer.text) > 1024 * 1024, `body is ${answer.text.length} bytes`);
  });

  void test('hang never answers; the client times out and close() still resolves quickly', async (t) => {
    const sim = await startSeed(t, { fault: 'hang' });
    await assert.rejects(
      fetch(sim.runUrl, { method: 'POST', body: '{}', signal: AbortSignal.timeout(200) }),
      (err: Error) => err.name === 'TimeoutError',
    );
    assert.equal(sim.runRequests()[0]?.status, null);

    // A second hanging request whose client never gives up: close() must cut it.
    const pending = fetch(sim.runUrl, { method: 'POST', body: '{}' });
    const settled = pending.then(
      () => 'answered',
      () => 'failed',
    );
    await sim.waitForRunRequests(2);
    const t0 = performance.now();
    await sim.close();
    assert.ok(performance.now() - t0 < 1000, 'close() took too long');
    assert.equal(await settled, 'failed');
  });

  void test('slow_drip sends headers then drips; the client times out and close() resolves quickly', async (t) => {
    const sim = await startSeed(t, { fault: 'slow_drip' });
    const res = await fetch(sim.runUrl, { method: 'POST', body: '{}', signal: AbortSignal.timeout(200) });
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), (err: Error) => err.name === 'TimeoutError');
    assert.equal(sim.runRequests()[0]?.status, 200);

    const second = await fetch(sim.runUrl, { method: 'POST', body: '{}' });
    assert.ok(second.body);
    const reader = second.body.getReader();
    const first = await reader.read();
    assert.equal(first.value?.byteLength, 1, 'the body arrives one byte at a time');
    const rest = reader.read().then(
      () => 'more',
      () => 'failed',
    );
    const t0 = performance.now();
    await sim.close();
    assert.ok(performance.now() - t0 < 1000, 'close() took too long');
    assert.equal(await rest, 'failed');
  });

  void test('fault_count applies the fault to that many run requests, then behaves normally', async (t) => {
    const sim = await startSeed(t, { fault: 'http500', fault_count: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await postRun(sim)).status);
    assert.deepEqual(statuses, [500, 500, 200, 200]);
    assert.equal(sim.behaviour().fault_count, 0);
    sim.setBehaviour({ fault: 'html503', fault_count: 1 });
    // Requests to other routes neither consume the fault nor receive it.
    assert.equal((await call(`${sim.baseUrl}/api/mtf/status`)).status, 200);
    assert.equal((await postRun(sim)).status, 503);
    assert.equal((await postRun(sim)).status, 200);
  });

  void test('seeded error_rate: the same seed gives the same sequence, another seed another', async (t) => {
    const sequence = async (sim: Simulator): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 24; i += 1) out.push((await postRun(sim)).status);
      return out;
    };
    const a = await startSeed(t, { error_rate: 0.5, seed: 42 });
    const b = await startSeed(t, { error_rate: 0.5, seed: 42 });
    const c = await startSeed(t, { error_rate: 0.5, seed: 7 });
    const seqA = await sequence(a);
    const seqB = await sequence(b);
    const seqC = await sequence(c);
    assert.deepEqual(seqA, seqB);
    assert.notDeepEqual(seqA, seqC);
    assert.ok(seqA.includes(200), 'some runs succeed');
    assert.ok(
      seqA.some((s) => s !== 200),
      'some runs fail',
    );
    assert.ok(seqA.every((s) => [200, 403, 500, 502, 503, 504].includes(s)));
    // Re-seeding restarts the sequence.
    a.setBehaviour({ seed: 42 });
    assert.deepEqual(await sequence(a), seqA);
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

const READY_TFS = ['1m', '5m', '15m'];
const BLOCKING_TFS = ['4h', '1h', '15m', '5m'];

/** Each symbol's verdict in a today answer, e.g. { BTCUSDT: 'READY 1m SHORT', ETHUSDT: 'INVALID 5m' }. */
function verdicts(body: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [symbol, r] of Object.entries<Json>(body.data.symbols)) {
    out[symbol] = r.status === 'READY' ? `READY ${r.execution_tf} ${r.signal_side}` : `${r.status} ${r.blocking_tf ?? ''}`.trim();
  }
  return out;
}

/** The contracts of a today answer's data.symbols (`[]` when none: PHP's empty map). */
function contractKeys(symbols: Json): string[] {
  return Object.keys(symbols);
}

/** The parallel path (several workers): its runner's figures are the ones assertFiguresAgree checks. */
const PARALLEL = { workers: 4 };

function symbolsWith(body: Json, status: string): string[] {
  return Object.values<Json>(body.data.symbols)
    .filter((r) => r.status === status)
    .map((r) => r.symbol as string);
}

/** data.run's figures agree with data.symbols, as the app's parallel runner computes them. */
function assertFiguresAgree(body: Json): void {
  const run = body.data.run;
  const ready = symbolsWith(body, 'READY').length;
  const failed = symbolsWith(body, 'INVALID').length + symbolsWith(body, 'ERROR').length;
  assert.equal(run.symbols_processed, contractKeys(body.data.symbols).length);
  assert.equal(run.symbols_successful, ready);
  assert.equal(run.symbols_failed, failed);
  assert.equal(run.symbols_skipped, 0);
  const rate = run.symbols_processed === 0 ? 0 : Math.round((ready / run.symbols_processed) * 10_000) / 100;
  assert.equal(run.success_rate, rate);
}

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

void describe("MTF simulator, today's answer: live-run refusal and orders", () => {
  void test('reject_live refuses a live run with status rejected, executes nothing; a dry run still runs', async (t) => {
    const sim = await start(t, { reject_live: true });
    const refused = await postRun(sim, { symbols: ['BTCUSDT', 'ETHUSDT'], dry_run: false }, { 'X-Run-Id': 'mtf-loop:wf:7' });
    assert.equal(refused.status, 200);
    const message = 'Live run refused: no reliable source of open positions and orders';
    const { timestamp, ...run } = refused.json.data.run;
    assert.match(timestamp, TIMESTAMP);
    assert.deepEqual(refused.json, {
      status: 'rejected',
      message: 'MTF run completed',
      data: {
        run: { ...run, timestamp },
        symbols: {},
        errors: [message],
        workers: 1,
        summary_by_tf: {},
        rejected_by: [],
        last_validated: [],
        performance: {},
        orders_placed: { count: { total: 0, submitted: 0, simulated: 0 }, orders: [] },
      },
    });
    assert.deepEqual(run, {
      run_id: 'mtf-loop:wf:7',
      status: 'rejected',
      reason: 'no_reliable_open_state_source',
      message,
      symbols_requested: 2,
      symbols_processed: 0,
    });
    const [rec] = sim.runRequests();
    assert.equal(rec?.status, 200);
    assert.equal(rec?.executed, false);

    const dry = await postRun(sim, { dry_run: true });
    assert.equal(dry.json.status, 'success');
    assert.equal(sim.runRequests()[1]?.executed, true);

    const seed = await startSeed(t, { reject_live: true });
    assert.equal((await postRun(seed, { dry_run: false })).json.status, 'success', 'the seed-era app never refuses');
  });

  for (const [status, count] of [
    ['critical_unprotected_position', { submitted: 0, pending: 0, protection_failed: 1, simulated: 0 }],
    ['failed_unprotected_closed', { submitted: 0, pending: 0, protection_failed: 1, simulated: 0 }],
    ['entry_submitted', { submitted: 0, pending: 1, protection_failed: 0, simulated: 0 }],
    ['submitted_protected', { submitted: 1, pending: 0, protection_failed: 0, simulated: 0 }],
    ['simulated', { submitted: 0, pending: 0, protection_failed: 0, simulated: 1 }],
  ] as const) {
    void test(`order_status ${status} is every order's status, and the counts follow it`, async (t) => {
      const sim = await start(t, { order_status: status });
      const body = (await postRun(sim, { symbols: DEFAULT_SYMBOLS, dry_run: false })).json;
      const ready = symbolsWith(body, 'READY').length;
      assert.ok(ready >= 1);
      const expected = Object.fromEntries(Object.entries(count).map(([k, v]) => [k, v * ready]));
      assert.deepEqual(body.data.orders_placed.count, { total: ready, ...expected });
      for (const o of body.data.orders_placed.orders) {
        assert.equal(o.status, status);
        assert.equal(body.data.symbols[o.symbol].trading_decision.status, status);
        // Only a simulated order never reached the exchange.
        assert.equal(o.exchange_order_id === null, status === 'simulated');
      }
    });
  }

  void test('order_status applies to a dry run too (an unprotected position is news even then)', async (t) => {
    const sim = await start(t, { order_status: 'critical_unprotected_position' });
    const body = (await postRun(sim, { symbols: DEFAULT_SYMBOLS })).json;
    assert.ok(body.data.orders_placed.orders.every((o: Json) => o.status === 'critical_unprotected_position'));
    assert.equal(body.data.orders_placed.count.simulated, 0);
  });

  void test('an order_status list is dealt to the READY contracts in turn, and the counts follow it', async (t) => {
    const statuses = ['submitted', 'entry_submitted', 'critical_unprotected_position'];
    const sim = await start(t, { order_status: statuses, ready_share: 1 });
    const symbols = ['AUSDT', 'BUSDT', 'CUSDT', 'DUSDT'];
    const body = (await postRun(sim, { symbols, dry_run: false })).json;
    assert.deepEqual(
      body.data.orders_placed.orders.map((o: Json) => `${o.symbol} ${o.status}`),
      ['AUSDT submitted', 'BUSDT entry_submitted', 'CUSDT critical_unprotected_position', 'DUSDT submitted'],
    );
    assert.deepEqual(body.data.orders_placed.count, { total: 4, submitted: 2, pending: 1, protection_failed: 1, simulated: 0 });
  });

  void test('ready_share sets the share of READY contracts: 0 none, 1 all, 0.02 a few of 150 as in production', async (t) => {
    const symbols = Array.from({ length: 150 }, (_, i) => `C${String(i).padStart(3, '0')}USDT`);
    const readyWith = async (share: number) => {
      const sim = await start(t, { ready_share: share });
      return symbolsWith((await postRun(sim, { symbols })).json, 'READY').length;
    };
    assert.equal(await readyWith(0), 0);
    assert.equal(await readyWith(1), 150);
    const few = await readyWith(0.02);
    assert.ok(few >= 1 && few <= 8, `${few} READY of 150 at 0.02`);
  });
});

/** Reads a body to its end or its failure, counting the bytes that arrived. */
async function readAll(res: Response): Promise<{ outcome: 'ended' | 'failed'; received: number }> {
  assert.ok(res.body);
  const reader = res.body.getReader();
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { outcome: 'ended', received };
      received += value.byteLength;
    }
  } catch {
    return { outcome: 'failed', received };
  }
}

void describe("MTF simulator, today's answer: faults", () => {
  void test('the new faults are listed for the CLI; the random ones are unchanged', () => {
    for (const fault of ['http422', 'unknown_status', 'cut_off', 'html200'] as const) assert.ok(SIMULATOR_FAULTS.includes(fault), fault);
    assert.deepEqual(RANDOM_FAULTS, ['http500', 'html502', 'html503', 'html504', 'kill_switch_off']);
  });

  void test("http500 answers today's internal_error body; nothing ran", async (t) => {
    const sim = await start(t, { fault: 'http500' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 500);
    assert.deepEqual(answer.json, { status: 'error', error_code: 'internal_error', message: 'Unable to run MTF cycle.' });
    assert.equal(sim.runRequests()[0]?.executed, false);
  });

  void test('http422 answers the orchestration mismatch in both generations; nothing ran', async (t) => {
    for (const answer of ['today', 'seed'] as const) {
      const sim = await start(t, { answer, fault: 'http422' });
      const refused = await postRun(sim, { dry_run: false });
      assert.equal(refused.status, 422, answer);
      assert.deepEqual(refused.json, {
        status: 'error',
        error_code: 'ORCHESTRATION_CORRELATION_MISMATCH',
        message: 'Orchestration context rejected.',
      });
      assert.equal(sim.runRequests()[0]?.executed, false);
      assert.equal(sim.runRequests()[0]?.status, 422);
    }
  });

  void test('the kill switch still answers the seed-era 403 JSON today', async (t) => {
    const sim = await start(t, { fault: 'kill_switch_off' });
    const refused = await postRun(sim, { dry_run: false });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.message, 'Global kill switch is OFF. Use force_run=true to override.');
    assert.equal(refused.json.data.global_switch, false);
    assert.equal((await postRun(sim, { force_run: true })).json.status, 'success');
    sim.setBehaviour({ fault: 'none', kill_switch_on: false });
    assert.equal((await postRun(sim)).status, 403);
    assert.ok(sim.runRequests().every((r) => r.executed === (r.status === 200)));
  });

  void test('wrong_shape answers 200 completed without data.run or data.symbols', async (t) => {
    const sim = await start(t, { fault: 'wrong_shape' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, { status: 'completed', data: {} });
  });

  void test('unknown_status answers a run whose status is exploded; the run did execute', async (t) => {
    const sim = await start(t, { fault: 'unknown_status' });
    const answer = await postRun(sim, { symbols: DEFAULT_SYMBOLS });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.status, 'exploded');
    assert.equal(answer.json.data.run.symbols_requested, 5);
    assert.deepEqual(contractKeys(answer.json.data.symbols), DEFAULT_SYMBOLS);
    const [rec] = sim.runRequests();
    assert.equal(rec?.executed, true);
    assert.equal(rec?.run_id, answer.json.data.run.run_id);

    const seed = await startSeed(t, { fault: 'unknown_status' });
    const old = (await postRun(seed)).json;
    assert.equal(old.status, 'exploded');
    assert.equal(old.data.summary.symbols_requested, 5);
  });

  void test('oversized answers valid JSON of 17 MiB, over the client limit of 16 MiB', async (t) => {
    assert.equal(OVERSIZED_BYTES, 17 * 1024 * 1024);
    const sim = await start(t, { fault: 'oversized' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    assert.match(answer.contentType, /^application\/json/);
    assert.equal(Buffer.byteLength(answer.text), OVERSIZED_BYTES);
    assert.ok(OVERSIZED_BYTES > 16 * 1024 * 1024);
    assert.equal(answer.json.status, 'completed', 'it parses: only a size limit refuses it');
  });

  void test('cut_off promises a full body, sends half of it and cuts the connection; the run executed', async (t) => {
    const sim = await start(t, { fault: 'cut_off' });
    const res = await fetch(sim.runUrl, { method: 'POST', body: '{}' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const promised = Number(res.headers.get('content-length'));
    assert.ok(promised > 1000, `content-length ${promised}`);
    const { outcome, received } = await readAll(res);
    assert.equal(outcome, 'failed', "the client's read fails");
    assert.ok(received > 0 && received <= Math.floor(promised / 2), `received ${received} of ${promised}`);
    const [rec] = sim.runRequests();
    assert.equal(rec?.status, 200);
    assert.equal(rec?.executed, true);
    assert.match(rec?.run_id ?? '', UUID_V4);
    // The plain way a client reads a body fails too.
    await assert.rejects(fetch(sim.runUrl, { method: 'POST', body: '{}' }).then((r) => r.text()));
  });

  void test('cut_off on an accepted run cuts the 202; the run goes on and can be read', async (t) => {
    const sim = await start(t, { mode: 'async', latency_ms: 60_000, fault: 'cut_off', fault_count: 1 });
    const res = await fetch(sim.runUrl, { method: 'POST', body: '{}', headers: { 'X-Run-Id': 'mtf-loop:cut:1' } });
    assert.equal(res.status, 202);
    assert.equal((await readAll(res)).outcome, 'failed');
    assert.equal(sim.runRequests()[0]?.executed, true);
    const read = await call(`${sim.baseUrl}/api/mtf/runs/mtf-loop%3Acut%3A1`);
    assert.equal(read.json.data.run.status, 'running');
  });

  void test('html200 answers nginx HTML with status 200; nothing ran', async (t) => {
    const sim = await start(t, { fault: 'html200' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    assert.match(answer.contentType, /^text\/html/);
    assert.match(answer.text, /nginx/);
    assert.equal(answer.json, undefined);
    assert.equal(sim.runRequests()[0]?.executed, false);
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

void describe('MTF simulator: recording and other routes', () => {
  void test('Idempotency-Key and Authorization are recorded as received', async (t) => {
    const sim = await start(t);
    await postRun(sim, { dry_run: false }, { 'Idempotency-Key': 'wf-1/run-1/7', Authorization: 'Bearer s3cret' });
    await postRun(sim);
    const [first, second] = sim.runRequests();
    assert.equal(first?.idempotency_key, 'wf-1/run-1/7');
    assert.equal(first?.authorization, 'Bearer s3cret');
    assert.deepEqual(first?.body, { dry_run: false });
    assert.equal(second?.idempotency_key, null);
    assert.equal(second?.authorization, null);
    assert.deepEqual(
      sim.requests.map((r) => r.seq),
      [1, 2],
    );
  });

  void test('the log never carries the Authorization header, and nothing is logged without a log function', async (t) => {
    const consoleCalls = (['log', 'info', 'warn', 'error', 'debug'] as const).map((name) => t.mock.method(console, name, () => undefined));
    const quiet = await start(t, { fault: 'http500' });
    await postRun(quiet, {}, { Authorization: 'Bearer s3cret' });
    await quiet.close();
    const silent = consoleCalls.every((m) => m.mock.callCount() === 0);
    for (const m of consoleCalls) m.mock.restore();
    assert.ok(silent, 'the simulator wrote to the console without a log function');

    const lines: string[] = [];
    const sim = await startSimulator({ log: (line) => lines.push(line) });
    t.after(() => sim.close());
    await postRun(sim, {}, { Authorization: 'Bearer s3cret' });
    assert.ok(lines.length > 0);
    assert.ok(lines.every((l) => !l.includes('s3cret')));
  });

  void test('status and health routes answer JSON with a timestamp', async (t) => {
    const sim = await start(t, { answer: 'seed' });
    const status = await call(`${sim.baseUrl}/api/mtf/status`);
    assert.equal(status.status, 200);
    assert.equal(status.json.status, 'success');
    assert.match(status.json.data.timestamp, TIMESTAMP);
    const health = await call(`${sim.baseUrl}/api/mtf/health`);
    assert.equal(health.json.data.global_switch, true);
    assert.match(health.json.data.timestamp, TIMESTAMP);
    assert.equal(sim.runRequests().length, 0, 'only run requests are counted as runs');
    assert.equal(sim.requests.length, 2);
  });

  void test('waitForRunRequests resolves when the requests arrive', async (t) => {
    const sim = await start(t, { fault: 'hang' });
    const waiting = sim.waitForRunRequests(2);
    const aborter = new AbortController();
    const calls = [1, 2].map((i) =>
      fetch(sim.runUrl, { method: 'POST', body: JSON.stringify({ workers: i }), signal: aborter.signal }).catch(() => undefined),
    );
    await call(`${sim.baseUrl}/api/mtf/health`);
    const recs = await waiting;
    assert.equal(recs.length, 2);
    assert.deepEqual(recs.map((r) => (r.body as { workers: number }).workers).sort(), [1, 2]);
    aborter.abort();
    await Promise.all(calls);
  });

  void test('waitForRunRequests rejects with a clear message on timeout, and when the simulator closes', async (t) => {
    const sim = await start(t);
    await assert.rejects(sim.waitForRunRequests(1, 50), /expected at least 1 run request\(s\) within 50 ms, got 0/);
    const pending = sim.waitForRunRequests(1);
    await sim.close();
    await assert.rejects(pending, /closed/);
  });

  void test('setBehaviour validates and behaviour() returns a copy', async (t) => {
    const sim = await start(t);
    assert.deepEqual(sim.behaviour(), DEFAULT_BEHAVIOUR);
    assert.throws(() => sim.setBehaviour({ error_rate: 2 }), /error_rate/);
    assert.throws(() => sim.setBehaviour({ latency_ms: -1 }), /latency_ms/);
    assert.throws(() => sim.setBehaviour({ answer: 'yesterday' as 'today' }), /invalid answer: yesterday \(expected 'today' or 'seed'\)/);
    assert.throws(
      () => sim.setBehaviour({ run_result: 'meh' as 'success' }),
      /invalid run_result: meh \(expected one of .*all_errored.*error_200/,
    );
    assert.throws(() => sim.setBehaviour({ reject_live: 'yes' as unknown as boolean }), /invalid reject_live/);
    assert.throws(() => sim.setBehaviour({ order_status: [] }), /invalid order_status: \[\]/);
    assert.throws(() => sim.setBehaviour({ order_status: ['submitted', ''] }), /invalid order_status/);
    assert.throws(() => sim.setBehaviour({ ready_share: 1.5 }), /invalid ready_share: 1.5 \(expected 0..1\)/);
    assert.throws(() => sim.setBehaviour({ active_contracts: [] }), /invalid active_contracts: \[\]/);
    assert.throws(
      () => sim.setBehaviour({ order_status: ' ' }),
      /invalid order_status: " " \(expected a non-empty string, a non-empty list of them, or null\)/,
    );
    assert.throws(() => sim.setBehaviour({ fault: 'cut' as 'cut_off' }), /invalid fault: cut/);
    assert.deepEqual(sim.behaviour(), DEFAULT_BEHAVIOUR, 'a refused patch changes nothing');
    sim.setBehaviour({ order_status: 'critical_unprotected_position', reject_live: true, answer: 'seed' });
    const copy = sim.behaviour();
    assert.equal(copy.order_status, 'critical_unprotected_position');
    copy.fault = 'hang';
    assert.equal(sim.behaviour().fault, 'none');
    assert.match(sim.runUrl, /^http:\/\/127\.0\.0\.1:\d+\/api\/mtf\/run$/);
  });
});
