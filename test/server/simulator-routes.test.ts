/** The simulator's own bookkeeping: the requests it records (and never logs a token of), its status and health routes, waiting for requests, and setBehaviour. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BEHAVIOUR, startSimulator } from '../../src/simulator/server';
import { TIMESTAMP, start, call, postRun } from '../helpers/simulator-calls';

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument */
// Bodies are read as `any` on purpose: the tests check shapes field by field.

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
