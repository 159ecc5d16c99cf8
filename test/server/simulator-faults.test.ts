/** The simulator's faults, on the seed-era answer and on today's: errors, hangs, broken and oversized bodies, the random mix. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OVERSIZED_BYTES, RANDOM_FAULTS, SIMULATOR_FAULTS } from '../../src/simulator/server';
import type { Simulator } from '../../src/simulator/server';
import { UUID_V4, DEFAULT_SYMBOLS, start, startSeed, call, postRun, contractKeys, readAll } from '../helpers/simulator-calls';

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment */
// Bodies are read as `any` on purpose: the tests check shapes field by field.

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
