/**
 * The real activities (callMtfRun, awaitMtfRun, health_check_activity) against the real MTF
 * simulator on 127.0.0.1, each run inside a MockActivityEnvironment. No sleeps: tests wait on the
 * simulator's requests or on the answers an observing fetch sees, and cancel what hangs.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { LogEntry } from '@temporalio/worker';
import { createActivities } from '../../src/activities/index';
import { MAX_BODY_BYTES } from '../../src/activities/mtf-client';
import { readAcceptedRun } from '../../src/activities/run-answer';
import { lineagePrefix, runIdOf } from '../../src/lib/run-id';
import type { ActivityDeps } from '../../src/activities/index';
import { MtfError } from '../../src/shared/errors';
import type { MtfErrorType } from '../../src/shared/errors';
import type {
  AwaitMtfRunInput,
  CallMtfRunInput,
  CallMtfRunResult,
  HealthCheckInput,
  HealthCheckResult,
  MtfRunRequestBody,
  RunReport,
} from '../../src/shared/mtf';
import { ACTIVE_CONTRACTS, DEFAULT_BEHAVIOUR, startSimulator } from '../../src/simulator/server';
import type { RecordedRequest, Simulator } from '../../src/simulator/server';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY = 'mtf-ping-pong/first-run-id/7';
const X_RUN_ID = runIdOf(lineagePrefix('mtf-ping-pong', 'first-run-id'), 7);
const TOKEN = 'secret-token';
/** A cancelled call must end well within this, not when some timeout fires. */
const PROMPT_MS = 2_000;
/** A call that ignored cancellation would hang: this fails it instead. */
const HANG_GUARD = { timeout: 10_000 };
const BODY: MtfRunRequestBody = {
  symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'],
  dry_run: true,
  force_run: false,
  force_timeframe_check: true,
  current_tf: '15m',
  workers: 2,
};

let sim: Simulator;
/** Base URL of a loopback port nothing listens on. */
let refused: string;
/** Run requests the simulator had received before the current test. */
let mark = 0;
/** Everything the activities and the SDK logged, to check no secret leaks. */
const logs: LogEntry[] = [];
const logger = new DefaultLogger('TRACE', (entry) => logs.push(entry));

before(async () => {
  sim = await startSimulator();
  refused = await refusedBaseUrl();
});
after(() => sim.close());
beforeEach(() => {
  sim.setBehaviour({ ...DEFAULT_BEHAVIOUR });
  mark = sim.runRequests().length;
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function refusedBaseUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  return `http://127.0.0.1:${port}`;
}

/** A log entry as text, errors and bigints included. */
function logText(entry: LogEntry): string {
  return JSON.stringify(entry, (_key, value: unknown) =>
    typeof value === 'bigint' ? String(value) : value instanceof Error ? `${value.message} ${value.stack ?? ''}` : value,
  );
}

/** The run requests of the current test only. */
function sent(): RecordedRequest[] {
  return sim.runRequests().slice(mark);
}

async function waitForSent(n: number): Promise<RecordedRequest[]> {
  return (await sim.waitForRunRequests(mark + n)).slice(mark);
}

function runInput(overrides: Partial<CallMtfRunInput> = {}, body: Partial<MtfRunRequestBody> = {}): CallMtfRunInput {
  return {
    url: sim.runUrl,
    body: { ...BODY, ...body },
    idempotency_key: KEY,
    status_url_template: `${sim.baseUrl}/api/mtf/runs/{run_id}`,
    send_once: false,
    connect_attempts: 3,
    connect_backoff: { initial: 0.01, coefficient: 2, maximum: 0.05 },
    ...overrides,
  };
}

function activityEnv(attempt = 1): MockActivityEnvironment {
  return new MockActivityEnvironment({ attempt, startToCloseTimeoutMs: 30_000, heartbeatTimeoutMs: 30_000 }, { logger });
}

function callRun(
  input: CallMtfRunInput,
  deps: ActivityDeps = {},
  env = activityEnv(),
  activities = createActivities(deps),
): Promise<CallMtfRunResult> {
  return env.run((i: CallMtfRunInput) => activities.callMtfRun(i), input);
}

function awaitRun(input: AwaitMtfRunInput, deps: ActivityDeps = {}, env = activityEnv()): Promise<RunReport> {
  const activities = createActivities(deps);
  return env.run((i: AwaitMtfRunInput) => activities.awaitMtfRun(i), input);
}

function healthCheck(mtfUrl: string, healthUrl: string | null = null): Promise<HealthCheckResult> {
  const activities = createActivities();
  return activityEnv().run((i: HealthCheckInput) => activities.health_check_activity(i), { mtf_url: mtfUrl, health_url: healthUrl });
}

async function completed(input: CallMtfRunInput, deps: ActivityDeps = {}): Promise<RunReport> {
  const result = await callRun(input, deps);
  assert.equal(result.kind, 'completed', `expected a completed run, got ${JSON.stringify(result)}`);
  return result.report;
}

async function accepted(input: CallMtfRunInput) {
  const result = await callRun(input);
  assert.equal(result.kind, 'accepted', `expected an accepted run, got ${JSON.stringify(result)}`);
  return result;
}

/** The call fails with an ApplicationFailure of this type, retryability and readable message. */
async function assertFailure(
  pending: Promise<unknown>,
  type: MtfErrorType,
  nonRetryable: boolean,
  ...messages: RegExp[]
): Promise<ApplicationFailure> {
  const err = await pending.then(
    (value) => assert.fail(`expected ${type}, got ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
  assert.equal(err.type, type, err.message);
  assert.equal(err.nonRetryable, nonRetryable, `${type} nonRetryable: ${err.message}`);
  for (const message of messages) assert.match(err.message, message);
  assert.ok(err.message.length < 400, `message too long to read: ${err.message.length} chars`);
  assert.ok(!err.message.includes('<'), `message carries markup: ${err.message}`);
  return err;
}

/** Cancels the activity and checks its call ends at once with a cancellation. */
async function assertCancelledPromptly(env: MockActivityEnvironment, pending: Promise<unknown>): Promise<void> {
  const started = performance.now();
  env.cancel();
  await assert.rejects(pending, (err) => err instanceof CancelledFailure);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < PROMPT_MS, `cancellation took ${Math.round(elapsed)} ms`);
}

/** A fetch that counts calls and lets a test wait until n of them have their answer's headers. */
class FetchTap {
  calls = 0;
  answers = 0;
  private readonly events = new EventEmitter();

  readonly fetch: typeof fetch = async (input, init) => {
    this.calls += 1;
    const response = await fetch(input, init);
    this.answers += 1;
    this.events.emit('answer');
    return response;
  };

  untilAnswers(n: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.answers < n) return;
        this.events.off('answer', check);
        resolve();
      };
      this.events.on('answer', check);
      check();
    });
  }
}

// ---------------------------------------------------------------------------------------------

/** Both answer generations of docs/mtf-api.md: the seed era's and today's app. */
const GENERATIONS = ['today', 'seed'] as const;

/**
 * The figures of a finished run agree with each other, whichever generation answered. `processed`
 * is what the app counts: today's parallel runner leaves out a contract whose worker threw.
 */
function assertConsistentFigures(report: RunReport, requested: number, processed = requested): void {
  assert.equal(report.symbols_requested, requested);
  assert.equal(report.symbols_processed ?? processed, processed);
  const successful = report.symbols_successful ?? -1;
  assert.ok(successful >= 0 && successful <= processed, `symbols_successful ${successful}`);
  assert.equal(report.success_rate, Math.round((successful / (answerOf() === 'seed' ? requested : processed)) * 10_000) / 100);
}

function answerOf(): string {
  return sim.behaviour().answer;
}

for (const answer of GENERATIONS) {
  void describe(`callMtfRun: the ${answer} answer, read into one report`, () => {
    beforeEach(() => sim.setBehaviour({ answer }));

    void test("a finished run succeeds, with the app's run id and figures, after one POST", async () => {
      const report = await completed(runInput());
      assert.equal(report.outcome, 'succeeded');
      assert.equal(report.app_status, answer === 'seed' ? 'success' : 'completed');
      assert.equal(report.message, null);
      // Today's app keeps a safe X-Run-Id as its run id; the seed era's app made its own.
      if (answer === 'today') assert.equal(report.run_id, X_RUN_ID);
      else assert.match(report.run_id ?? '', UUID);
      assert.equal(report.run_id, sent()[0]?.run_id);
      assert.ok((report.execution_time_seconds ?? -1) >= 0);
      assertConsistentFigures(report, 3);
      assert.equal(report.errors, 0);
      assert.equal(sent().length, 1);
    });

    void test('a run with some errored contracts is partial and counts its errors', async () => {
      sim.setBehaviour({ run_result: 'partial_success' });
      const report = await completed(runInput());
      assert.equal(report.outcome, 'partial');
      assert.equal(report.app_status, answer === 'seed' ? 'partial_success' : 'completed_with_errors');
      assert.equal(report.errors, 1);
      assert.match(report.message ?? '', /^partial success: 1 error\(s\), first: .*SOLUSDT/);
      assertConsistentFigures(report, 3, answer === 'seed' ? 3 : 2);
      assert.equal(report.findings.contracts?.error, 1, 'the contract that threw is counted, whether the answer lists it or not');
    });

    void test('a run where every contract errored is failed, not partial', async () => {
      sim.setBehaviour({ run_result: 'all_errored' });
      const report = await completed(runInput());
      assert.equal(report.outcome, 'failed');
      assert.match(report.message ?? '', /^every contract errored \(3 of 3\); first error: /);
      assert.equal(report.symbols_successful, 0);
    });

    void test('a run that processed no contract (the exchange was down) is failed', async () => {
      sim.setBehaviour({ run_result: 'none_processed' });
      const report = await completed(runInput());
      assert.equal(report.outcome, 'failed');
      assert.match(report.message ?? '', /^no contract was processed \(0 of 3 requested\)/);
    });

    void test("a 200 carrying a failed run is a failed report with the app's message and its figures, one POST", async () => {
      sim.setBehaviour({ run_result: 'error_200' });
      const report = await completed(runInput());
      assert.equal(report.outcome, 'failed');
      assert.match(report.message ?? '', /^MTF run failed: /);
      // Today's answer keeps its figures; the seed era's failed body has none.
      assert.equal(report.symbols_requested, answer === 'seed' ? null : 3);
      assert.equal(sent().length, 1);
    });

    void test('a 200 with a status this version does not know fails final, naming the status', async () => {
      sim.setBehaviour({ fault: 'unknown_status' });
      await assertFailure(callRun(runInput()), MtfError.AnsweredUnreadable, true, /HTTP 200/, /status "exploded"/, /not sent again/);
    });
  });
}

void describe("callMtfRun: today's answer only", () => {
  void test('rejected: a live run the app refused is skipped, with its reason; nothing traded', async () => {
    sim.setBehaviour({ reject_live: true });
    const report = await completed(runInput({ send_once: true }, { dry_run: false }));
    assert.equal(report.outcome, 'skipped');
    assert.match(report.message ?? '', /^the app rejected the run \(no_reliable_open_state_source\): /);
    assert.deepEqual(
      sent().map((r) => [r.status, r.executed]),
      [[200, false]],
    );
  });

  void test('rejected concerns live runs only: a dry run of the same app goes on', async () => {
    sim.setBehaviour({ reject_live: true });
    assert.equal((await completed(runInput())).outcome, 'succeeded');
  });

  void test('a 422 fails at once with its error_code, not retried', async () => {
    sim.setBehaviour({ fault: 'http422' });
    await assertFailure(
      callRun(runInput()),
      MtfError.Rejected,
      true,
      /HTTP 422/,
      /ORCHESTRATION_CORRELATION_MISMATCH: Orchestration context rejected\./,
    );
  });

  void test("a 500 carries the app's error_code and stays retryable", async () => {
    sim.setBehaviour({ fault: 'http500' });
    await assertFailure(callRun(runInput()), MtfError.ServerError, false, /HTTP 500/, /internal_error: Unable to run MTF cycle\./);
  });

  void test('no symbols: the app runs its own active contracts', async () => {
    const report = await completed(runInput({}, { symbols: [] }));
    assert.equal(report.symbols_requested, ACTIVE_CONTRACTS.length);
  });
});

void describe('callMtfRun: the request', () => {
  void test('the app receives the configured body and the Idempotency-Key', async () => {
    const input = runInput();
    await completed(input);
    const [request] = sent();
    assert.equal(sent().length, 1);
    assert.equal(request?.method, 'POST');
    assert.deepEqual(request?.body, BODY);
    assert.equal(request?.idempotency_key, KEY);
  });

  void test("the POST carries the cycle's X-Run-Id, and the result says which", async () => {
    const result = await callRun(runInput());
    assert.equal(sent()[0]?.x_run_id, X_RUN_ID);
    assert.match(X_RUN_ID, /^mtfpp\.[0-9a-f]{16}\.7$/);
    assert.equal(result.x_run_id, X_RUN_ID);
  });

  void test('the API token arrives as a bearer token and is never logged', async () => {
    logs.length = 0;
    await completed(runInput(), { token: TOKEN });
    assert.equal(sent()[0]?.authorization, `Bearer ${TOKEN}`);
    assert.ok(logs.length > 0, 'the call logged nothing to check');
    for (const entry of logs) assert.ok(!logText(entry).includes(TOKEN), `token in log: ${entry.message}`);
  });

  void test('without a token no Authorization header is sent', async () => {
    await completed(runInput(), { token: null });
    assert.equal(sent()[0]?.authorization, null);
  });

  void test('two attempts of one call at once in one worker (a stalled process resumed beside its retry): one POST, both get its answer', async () => {
    // The chaos campaign's finding (issue 36, seed 36, step 166: the frontend stalled 36 s): the
    // worker resumed attempt 1 of a call while Temporal handed it attempt 2, and both POSTed.
    sim.setBehaviour({ latency_ms: 300 });
    try {
      const activities = createActivities({});
      const input = runInput();
      const attempt = (n: number): Promise<CallMtfRunResult> => callRun(input, {}, activityEnv(n), activities);
      const [first, retry] = await Promise.all([attempt(1), attempt(2)]);
      assert.equal(sent().length, 1, 'one POST for the two attempts');
      assert.deepEqual(retry, first, 'the retry returns the answer the first attempt got');
      assert.equal(first.kind, 'completed');
    } finally {
      sim.setBehaviour({ latency_ms: 0 });
    }
  });

  void test("the User-Agent names the worker (WORKER_IDENTITY), so the app's logs tell which worker called", async () => {
    await completed(runInput(), { identity: 'mtf-worker-7' });
    assert.equal(sent()[0]?.user_agent, 'mtf-ping-pong (mtf-worker-7)');
    await completed(runInput(), {});
    assert.equal(sent().at(-1)?.user_agent, 'mtf-ping-pong');
  });
});

void describe('callMtfRun + awaitMtfRun: accepted runs', () => {
  const template = () => `${sim.baseUrl}/api/mtf/runs/{run_id}?from=template`;

  for (const answer of GENERATIONS) {
    void test(`${answer}: a 202 gives the run id and the status URL; reads of a running run keep polling until its end`, async () => {
      sim.setBehaviour({ answer, mode: 'async', latency_ms: 60_000 });
      const run = await accepted(runInput({ status_url_template: template() }));
      if (answer === 'today') assert.equal(run.run_id, X_RUN_ID);
      else assert.match(run.run_id, UUID);
      assert.equal(run.status_url, `${sim.baseUrl}/api/mtf/runs/${run.run_id}`);

      const tap = new FetchTap();
      const pending = awaitRun(
        { run_id: run.run_id, status_url: run.status_url, poll_interval: 0.01, mtf_url: sim.runUrl },
        { fetch: tap.fetch },
      );
      // Three reads of the running run (today's say "success" at the top: the read worked) did not end the wait.
      await tap.untilAnswers(3);
      sim.completeRun(run.run_id);
      const report = await pending;
      assert.equal(report.outcome, 'succeeded');
      assert.equal(report.run_id, run.run_id);
      assert.equal(report.symbols_requested, 3);
      const reads = sim.requests.filter((r) => r.path === `/api/mtf/runs/${run.run_id}`);
      assert.ok(reads.length >= 4, `expected three running reads then the final one, got ${reads.length}`);
      assert.equal(sent().length, 1, 'one POST');
    });

    void test(`${answer}: an accepted run whose contracts all errored ends the wait as failed`, async () => {
      sim.setBehaviour({ answer, mode: 'async', latency_ms: 0, run_result: 'all_errored' });
      const run = await accepted(runInput());
      const report = await awaitRun({ run_id: run.run_id, status_url: run.status_url, poll_interval: 0.01, mtf_url: sim.runUrl });
      assert.equal(report.outcome, 'failed');
      assert.match(report.message ?? '', /every contract errored \(3 of 3\)/);
    });
  }

  void test('without a status URL in the 202, the template gives it', async () => {
    sim.setBehaviour({ mode: 'async', include_status_url: false });
    const run = await accepted(runInput({ status_url_template: template() }));
    assert.equal(run.status_url, `${sim.baseUrl}/api/mtf/runs/${run.run_id}?from=template`);
    const report = await awaitRun({ run_id: run.run_id, status_url: run.status_url, poll_interval: 0.01, mtf_url: sim.runUrl });
    assert.equal(report.run_id, run.run_id);
  });

  void test('a status URL with credentials or another scheme is refused: it would go into history', () => {
    const answer = (status_url: string) => ({ status: 'accepted', data: { run_id: 'r1', status_url } });
    const run = 'http://app/api/mtf/run';
    assert.throws(
      () => readAcceptedRun(answer('http://user:secret@app/api/mtf/runs/r1'), run, 'http://app/{run_id}'),
      /embeds credentials; refused/,
    );
    assert.throws(() => readAcceptedRun(answer('file:///etc/passwd'), run, 'http://app/{run_id}'), /is not http\(s\): file:/);
    assert.deepEqual(readAcceptedRun(answer('/api/mtf/runs/r1'), run, 'http://app/{run_id}'), {
      run_id: 'r1',
      status_url: 'http://app/api/mtf/runs/r1',
    });
  });

  void test('a run that ends in error is a failed report, read once', async () => {
    sim.setBehaviour({ answer: 'seed', mode: 'async', run_result: 'error' });
    const run = await accepted(runInput());
    const report = await awaitRun({ run_id: run.run_id, status_url: run.status_url, poll_interval: 0.01, mtf_url: sim.runUrl });
    assert.equal(report.outcome, 'failed');
    assert.match(report.message ?? '', /MTF run failed.*simulated internal error/);
  });

  void test("the API token is sent to a status URL on the run URL's origin only", async () => {
    sim.setBehaviour({ mode: 'async', latency_ms: 0 });
    const run = await accepted(runInput());
    const elsewhere = run.status_url.replace('127.0.0.1', 'localhost');
    // Every test's cycle has the same X-Run-Id, so today's run id too: only this test's reads count.
    const earlier = sim.requests.length;
    await awaitRun({ run_id: run.run_id, status_url: elsewhere, poll_interval: 0.01, mtf_url: sim.runUrl }, { token: 'secret-token' });
    await awaitRun({ run_id: run.run_id, status_url: run.status_url, poll_interval: 0.01, mtf_url: sim.runUrl }, { token: 'secret-token' });
    const reads = sim.requests.slice(earlier).filter((r) => r.path === `/api/mtf/runs/${run.run_id}`);
    assert.deepEqual(
      reads.map((r) => r.authorization),
      [null, 'Bearer secret-token'],
    );
  });

  void test('a status route that refuses (4xx) fails at once instead of polling out the budget', async () => {
    await assertFailure(
      awaitRun({ run_id: 'x', status_url: `${sim.baseUrl}/api/mtf/run?workers=0`, poll_interval: 0.01, mtf_url: sim.runUrl }),
      MtfError.Rejected,
      true,
      /HTTP 4\d\d/,
    );
  });

  void test('a run the app does not know fails MtfRunUnknown (404)', async () => {
    await assertFailure(
      awaitRun({ run_id: 'no-such-run', status_url: `${sim.baseUrl}/api/mtf/runs/no-such-run`, poll_interval: 0.01, mtf_url: sim.runUrl }),
      MtfError.RunUnknown,
      true,
      /no-such-run/,
      /404/,
    );
  });
});

void describe('callMtfRun: failures', () => {
  void test('a 403 kill switch fails MtfKillSwitchOff with the app message, not retried', async () => {
    sim.setBehaviour({ kill_switch_on: false });
    await assertFailure(callRun(runInput()), MtfError.KillSwitch, true, /Global kill switch is OFF/);
  });

  void test('force_run goes through a kill switch that is OFF', async () => {
    sim.setBehaviour({ kill_switch_on: false });
    assert.equal((await completed(runInput({}, { force_run: true }))).outcome, 'succeeded');
  });

  void test('a 500 JSON error fails MtfServerError, retryable, with the app message', async () => {
    sim.setBehaviour({ answer: 'seed', fault: 'http500' });
    await assertFailure(callRun(runInput()), MtfError.ServerError, false, /HTTP 500/, /Internal Server Error \(simulated\)/);
  });

  for (const [fault, status, title] of [
    ['html502', 502, /Bad Gateway/],
    ['html503', 503, /Service Temporarily Unavailable/],
    ['html504', 504, /Gateway Time-out/],
  ] as const) {
    void test(`a ${status} HTML page fails MtfServerError, retryable, naming the page not quoting it`, async () => {
      sim.setBehaviour({ fault });
      const err = await assertFailure(callRun(runInput()), MtfError.ServerError, false, new RegExp(`HTTP ${status}`), /HTML/, title);
      assert.doesNotMatch(err.message, /nginx|<\/?html/i);
    });
  }

  // Once the app has answered a JSON 2xx it has run the cycle: whatever is wrong with the answer,
  // the POST is never sent again (this changed from "retried" when today's app answered: a retry
  // was three full runs of up to 150 contracts for nothing, and on a live loop a second trade).
  for (const answer of GENERATIONS) {
    for (const [fault, message] of [
      ['invalid_json', /with a body that is not JSON/],
      ['wrong_shape', /neither data\.run nor data\.summary/],
      ['oversized', new RegExp(`larger than ${MAX_BODY_BYTES} bytes`)],
      ['cut_off', /was cut off/],
    ] as const) {
      void test(`${answer}: a JSON 200 that is ${fault} fails final (MtfAnsweredUnreadable), one POST`, async () => {
        sim.setBehaviour({ answer, fault });
        await assertFailure(callRun(runInput()), MtfError.AnsweredUnreadable, true, message, /HTTP 200/, /the run is not sent again$/);
        assert.equal(sent().length, 1);
      });
    }
  }

  void test('the body limit is 16 MiB: a 500-contract answer fits, a runaway body does not', () => {
    assert.equal(MAX_BODY_BYTES, 16 * 1024 * 1024);
  });

  void test('a 200 whose body is an HTML page (a proxy, not the app) stays a retryable bad answer', async () => {
    sim.setBehaviour({ fault: 'html200' });
    await assertFailure(callRun(runInput()), MtfError.BadResponse, false, /HTTP 200/, /not JSON/);
  });

  void test("a retry of a cycle whose earlier attempt had the app's JSON 2xx (its heartbeat says so) POSTs nothing", async () => {
    const env = new MockActivityEnvironment(
      { attempt: 2, startToCloseTimeoutMs: 30_000, heartbeatTimeoutMs: 30_000, heartbeatDetails: { answered_http_status: 200 } },
      { logger },
    );
    await assertFailure(
      callRun(runInput(), {}, env),
      MtfError.AnsweredUnreadable,
      true,
      /attempt 1 had the app's answer \(HTTP 200\)/,
      /not sent again/,
    );
    assert.equal(sent().length, 0);
  });

  void test('a retry of a cycle this worker had the answer of (its report never reached the server) returns that answer and POSTs nothing', async () => {
    const activities = createActivities({});
    const attempt = (n: number, input: CallMtfRunInput) =>
      new MockActivityEnvironment(
        { attempt: n, startToCloseTimeoutMs: 30_000, scheduleToCloseTimeoutMs: 60_000, heartbeatTimeoutMs: 30_000 },
        { logger },
      ).run((i: CallMtfRunInput) => activities.callMtfRun(i), input);
    const first = await attempt(1, runInput());
    assert.equal(sent().length, 1);
    assert.deepEqual(await attempt(2, runInput()), first, 'the same result, as if attempt 1 had been reported');
    assert.equal(sent().length, 1, 'the app is not asked again');
    // Another cycle's key is no retry of that one; nor is the same key on another worker.
    await attempt(2, runInput({ idempotency_key: KEY.replace(/\/\d+$/, '/8') }));
    await callRun(runInput(), {}, activityEnv(2));
    assert.equal(sent().length, 3);
  });

  void test('a JSON 2xx body still arriving a moment after its head: one heartbeat says the app answered', HANG_GUARD, async () => {
    sim.setBehaviour({ fault: 'slow_drip' });
    const env = activityEnv();
    const answered = new Promise<unknown>((resolve) => env.on('heartbeat', (details: unknown) => details && resolve(details)));
    // Default timings: no regular heartbeat for 5 s, yet the news goes within a second.
    const pending = callRun(runInput(), {}, env);
    assert.deepEqual(await answered, { answered_http_status: 200 });
    await assertCancelledPromptly(env, pending);
  });

  void test('a refused connection fails MtfUnreachable, retryable, tried once (Temporal retries)', async () => {
    const tap = new FetchTap();
    await assertFailure(
      callRun(runInput({ url: `${refused}/api/mtf/run` }), { fetch: tap.fetch }),
      MtfError.Unreachable,
      false,
      /connection refused/,
    );
    assert.equal(tap.calls, 1);
  });
});

void describe('callMtfRun: cancellation aborts the HTTP call', () => {
  void test('a hanging app: cancelling the activity aborts the request at once', HANG_GUARD, async () => {
    sim.setBehaviour({ fault: 'hang' });
    const env = activityEnv();
    const pending = callRun(runInput(), {}, env);
    await waitForSent(1);
    await assertCancelledPromptly(env, pending);
    assert.equal(sent()[0]?.status, null, 'the simulator never answered');
  });

  void test('a dripping answer: cancelling the activity aborts reading the body', HANG_GUARD, async () => {
    sim.setBehaviour({ fault: 'slow_drip' });
    const tap = new FetchTap();
    const env = activityEnv();
    const pending = callRun(runInput(), { fetch: tap.fetch }, env);
    await tap.untilAnswers(1); // headers are in, the body is dripping
    await assertCancelledPromptly(env, pending);
    assert.equal(sent()[0]?.status, 200);
  });

  void test('after the cancelled calls the simulator still answers normally', async () => {
    assert.equal((await completed(runInput())).outcome, 'succeeded');
  });
});

void describe('callMtfRun: idempotency across attempts', () => {
  void test('a retried attempt sends the same Idempotency-Key; a new key is sent as given', async () => {
    sim.setBehaviour({ fault: 'http500', fault_count: 1 });
    const input = runInput();
    await assertFailure(callRun(input, {}, activityEnv(1)), MtfError.ServerError, false, /HTTP 500/);
    const second = await callRun(input, {}, activityEnv(2));
    assert.equal(second.kind, 'completed');
    assert.deepEqual(
      sent().map((r) => [r.idempotency_key, r.status]),
      [
        [KEY, 500],
        [KEY, 200],
      ],
    );

    const nextKey = 'mtf-ping-pong/next-run-id/1';
    await completed(runInput({ idempotency_key: nextKey }));
    assert.equal(sent()[2]?.idempotency_key, nextKey);
  });
});

void describe('callMtfRun: live runs (send_once)', () => {
  const live = () => runInput({ send_once: true }, { dry_run: false });

  for (const fault of ['html504_after_run', 'http500'] as const) {
    void test(`${fault}: fails MtfLiveRunMayHaveExecuted, not retried, after exactly one POST`, async () => {
      sim.setBehaviour({ fault });
      await assertFailure(callRun(live()), MtfError.LiveMayHaveExecuted, true, /may have executed/, /not sent again/);
      assert.equal(sent().length, 1);
    });
  }

  void test('html504_after_run: the one POST did execute the run on the app', async () => {
    sim.setBehaviour({ fault: 'html504_after_run' });
    await assertFailure(callRun(live()), MtfError.LiveMayHaveExecuted, true, /HTTP 504/);
    assert.equal(sent()[0]?.executed, true);
  });

  void test('a refused connection is tried connect_attempts times, then fails MtfUnreachable', async () => {
    const tap = new FetchTap();
    await assertFailure(
      callRun({ ...live(), url: `${refused}/api/mtf/run` }, { fetch: tap.fetch }),
      MtfError.Unreachable,
      false,
      /connection refused/,
    );
    assert.equal(tap.calls, 3);
  });

  void test('a kill switch answer stays MtfKillSwitchOff: a clear answer is not ambiguous', async () => {
    sim.setBehaviour({ kill_switch_on: false });
    await assertFailure(callRun(live()), MtfError.KillSwitch, true, /Global kill switch is OFF/);
    assert.equal(sent().length, 1);
  });

  void test('a live run that succeeds is sent once and completes', async () => {
    assert.equal((await completed(live())).outcome, 'succeeded');
    assert.equal(sent().length, 1);
  });
});

void describe('health_check_activity: where each generation of the app answers', () => {
  void test("today's app: GET /health on the run URL's origin, a plain-text OK is healthy", async () => {
    sim.setBehaviour({ answer: 'today' });
    const health = await healthCheck(sim.runUrl);
    assert.deepEqual(health, { healthy: true, http_status: 200, message: 'OK', url: `${sim.baseUrl}/health` });
  });

  void test('the seed-era app, which does not route /health: its /api/mtf/health next', async () => {
    sim.setBehaviour({ answer: 'seed' });
    const health = await healthCheck(sim.runUrl);
    assert.deepEqual([health.healthy, health.http_status, health.url], [true, 200, `${sim.baseUrl}/api/mtf/health`]);
  });

  void test('health_url: that URL alone', async () => {
    sim.setBehaviour({ answer: 'today' });
    const elsewhere = await healthCheck(sim.runUrl, `${sim.baseUrl}/api/mtf/status`);
    assert.deepEqual([elsewhere.healthy, elsewhere.url], [true, `${sim.baseUrl}/api/mtf/status`]);
    const missing = await healthCheck(sim.runUrl, `${sim.baseUrl}/nowhere`);
    assert.deepEqual([missing.healthy, missing.http_status], [false, 404]);
  });

  void test('an app that routes neither: unhealthy, naming both routes; an error on /health is not passed over', async () => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/broken/health' ? 503 : 404, { 'content-type': 'text/html' }).end('<html>no</html>');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const none = await healthCheck(`${base}/api/mtf/run`);
      assert.deepEqual(
        [none.healthy, none.http_status, none.message],
        [false, 404, `the app routes none of ${base}/health, ${base}/api/mtf/health`],
      );
      const broken = await healthCheck(`${base}/api/mtf/run`, `${base}/broken/health`);
      assert.deepEqual([broken.healthy, broken.http_status], [false, 503]);
    } finally {
      server.close();
    }
  });

  void test('a refused port is unhealthy with a message', async () => {
    const health = await healthCheck(`${refused}/api/mtf/run`);
    assert.equal(health.healthy, false);
    assert.equal(health.http_status, null);
    assert.match(health.message, /connection refused/);
  });
});
