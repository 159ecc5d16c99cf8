import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BEHAVIOUR, startSimulator } from '../src/simulator/server';
import type { Simulator, SimulatorBehaviour } from '../src/simulator/server';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const DEFAULT_SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT'];

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument */
// Bodies are read as `any` on purpose: the tests check shapes field by field.

async function start(t: TestContext, behaviour: Partial<SimulatorBehaviour> = {}): Promise<Simulator> {
  const sim = await startSimulator({ behaviour });
  t.after(() => sim.close());
  return sim;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
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

void describe('MTF simulator: synchronous runs', () => {
  void test('a default run answers 200 with the documented shape, 5 default symbols, dry run', async (t) => {
    const sim = await start(t);
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
    const sim = await start(t);
    const answer = await postRun(sim, { symbols: ['BTCUSDT'], dry_run: false, workers: 3, current_tf: '1h' });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.data.summary.dry_run, false);
    assert.equal(answer.json.data.workers, 3);
    assert.equal(typeof answer.json.data.results.BTCUSDT.order_plan_id, 'string');
  });

  void test('partial_success fails the last symbol and computes the success rate', async (t) => {
    const sim = await start(t, { run_result: 'partial_success' });
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
    const sim = await start(t, { run_result: 'error' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 500);
    assert.equal(answer.json.status, 'error');
    assert.match(answer.json.message, /^MTF run failed/);
    assert.equal(sim.runRequests()[0]?.executed, true);
  });

  void test('symbols as a comma-separated string, and GET with query parameters', async (t) => {
    const sim = await start(t);
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
    const sim = await start(t);
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
    const sim = await start(t, { latency_ms: 300 });
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

void describe('MTF simulator: kill switch', () => {
  void test('fault kill_switch_off answers 403 unless force_run is true', async (t) => {
    const sim = await start(t, { fault: 'kill_switch_off' });
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
    const sim = await start(t, { kill_switch_on: false });
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

void describe('MTF simulator: faults', () => {
  void test('http500 answers a JSON error', async (t) => {
    const sim = await start(t, { fault: 'http500' });
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
      const sim = await start(t, { fault });
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
    const sim = await start(t, { fault: 'html504_after_run' });
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
    const sim = await start(t, { fault: 'invalid_json' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    assert.match(answer.contentType, /^application\/json/);
    assert.throws(() => JSON.parse(answer.text) as unknown, SyntaxError);
  });

  void test('wrong_shape answers 200 JSON without data.summary', async (t) => {
    const sim = await start(t, { fault: 'wrong_shape' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    assert.equal(answer.json.status, 'success');
    assert.equal(answer.json.data.summary, undefined);
  });

  void test('oversized answers a body larger than 1 MiB', async (t) => {
    const sim = await start(t, { fault: 'oversized' });
    const answer = await postRun(sim);
    assert.equal(answer.status, 200);
    assert.ok(Buffer.byteLength(answer.text) > 1024 * 1024, `body is ${answer.text.length} bytes`);
  });

  void test('hang never answers; the client times out and close() still resolves quickly', async (t) => {
    const sim = await start(t, { fault: 'hang' });
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
    const sim = await start(t, { fault: 'slow_drip' });
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
    const sim = await start(t, { fault: 'http500', fault_count: 2 });
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
    const a = await start(t, { error_rate: 0.5, seed: 42 });
    const b = await start(t, { error_rate: 0.5, seed: 42 });
    const c = await start(t, { error_rate: 0.5, seed: 7 });
    const seqA = await sequence(a);
    const seqB = await sequence(b);
    const seqC = await sequence(c);
    assert.deepEqual(seqA, seqB);
    assert.notDeepEqual(seqA, seqC);
    assert.ok(seqA.includes(200), 'some runs succeed');
    assert.ok(seqA.some((s) => s !== 200), 'some runs fail');
    assert.ok(seqA.every((s) => [200, 403, 500, 502, 503, 504].includes(s)));
    // Re-seeding restarts the sequence.
    a.setBehaviour({ seed: 42 });
    assert.deepEqual(await sequence(a), seqA);
  });
});

void describe('MTF simulator: asynchronous runs', () => {
  void test('202 accepted, status route running, then the final body once completed', async (t) => {
    const sim = await start(t, { mode: 'async', latency_ms: 60_000 });
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
    const sim = await start(t, { mode: 'async', latency_ms: 30, include_status_url: false, run_result: 'partial_success' });
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
    const sim = await start(t, { mode: 'async', latency_ms: 60_000, run_result: 'error' });
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
    const sim = await start(t, { mode: 'async' });
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
    const sim = await start(t);
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
    const copy = sim.behaviour();
    copy.fault = 'hang';
    assert.equal(sim.behaviour().fault, 'none');
    assert.match(sim.runUrl, /^http:\/\/127\.0\.0\.1:\d+\/api\/mtf\/run$/);
  });
});
