/**
 * The loop on the time-skipping test server, with scripted activities: intervals, retries and
 * gates run in skipped time. (The test server stops skipping while an activity runs, so attempt
 * timeouts and the cycle budget are tested on a real dev server in test/server/integration.test.ts.)
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { lineagePrefix, runIdOf } from '../../src/lib/run-id';
import { MtfError } from '../../src/shared/errors';
import { continueSignal, mtfCompletedSignal, stopSignal } from '../../src/shared/messages';
import type { LoopSummary } from '../../src/shared/status';
import { SEED_REQUEST_BODY } from '../helpers/fixtures';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { deferred, heldActivities, report, scriptedActivities, succeed, untilCancelled, withLoop } from '../helpers/loop-harness';

// A fresh test server per test: a test that cancels a running activity can leave the server's
// time-skipping lock held, and the next test would then wait in real time.
let env: TestWorkflowEnvironment;
beforeEach(async () => {
  env = await createTimeSkippingEnv();
});
afterEach(async () => {
  await env?.teardown();
});

const serverError = () =>
  ApplicationFailure.create({ type: MtfError.ServerError, message: 'MTF API answered HTTP 503 (an HTML error page)' });

describe('MtfPingPongWorkflow in skipped time', () => {
  test("the original's test config (max_execution_time 60, ping_interval 10) starts; each attempt is cut to the 60 s budget", async () => {
    const { activities } = scriptedActivities(succeed);
    await withLoop(env, activities, { max_execution_time: 60, ping_interval: 10 }, async ({ handle, waitForStatus }) => {
      const s = await waitForStatus((st) => st.counters.succeeded >= 1, 'the first cycle');
      assert.equal(s.config.activity_timeout, 120, 'the default attempt timeout is kept in the config');
      const { events } = await handle.fetchHistory();
      const scheduled = events?.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callMtfRun',
      )?.activityTaskScheduledEventAttributes;
      assert.equal(Number(scheduled?.startToCloseTimeout?.seconds), 60, 'the attempt gets what the budget allows');
      assert.equal(Number(scheduled?.scheduleToCloseTimeout?.seconds), 60);
    });
  });

  test('runs a cycle every 30 s by default, one Idempotency-Key per iteration, and stops with a summary', async () => {
    const { activities, calls } = scriptedActivities(succeed);
    await withLoop(env, activities, undefined, async ({ handle, status }) => {
      await env.sleep(95_000);
      const s = await status();
      assert.equal(s.current_iteration, 4, 'cycles at 0, 30, 60 and 90 s');
      assert.equal(s.counters.succeeded, 4);
      assert.equal(s.success_rate, 100);
      assert.equal(s.phase, 'pausing');
      assert.equal(s.is_running, true);
      assert.equal(s.mtf_completed, true);
      assert.equal(s.temporal_notified, true);
      assert.equal(s.workflow_id, handle.workflowId);
      assert.equal(s.run_id, handle.firstExecutionRunId);
      assert.ok(s.next_cycle_at, 'the next cycle time is known while pausing');
      assert.deepEqual(calls[0]?.input.body, SEED_REQUEST_BODY);
      assert.equal(calls[0]?.input.url, 'http://trading-app-nginx:80/api/mtf/run');
      assert.deepEqual(
        calls.map((c) => c.input.idempotency_key),
        [1, 2, 3, 4].map((i) => `${handle.workflowId}/${handle.firstExecutionRunId}/${i}`),
      );
      const cycle4 = s.last_cycle;
      assert.equal(s.first_run_id, handle.firstExecutionRunId);
      assert.equal(
        cycle4?.x_run_id,
        runIdOf(lineagePrefix(handle.workflowId, handle.firstExecutionRunId), 4),
        'the cycle record shows the X-Run-Id',
      );
      assert.ok(cycle4 && Date.parse(cycle4.started_at) - Date.parse(s.started_at) >= 90_000, 'cycle 4 starts 90 s after the loop');

      await handle.signal(stopSignal, { reason: 'maintenance' });
      const result = (await handle.result()) as LoopSummary;
      assert.equal(result.iterations, 4);
      assert.equal(result.stop_reason, 'maintenance');
      assert.equal(result.counters.cycles, 4);
    });
  });

  test('a 5xx is tried 3 times with 5 s then 10 s backoff, the cycle fails, and the next cycle still runs', async () => {
    const { activities, calls } = scriptedActivities((_call, i) => {
      if (i < 3) throw serverError();
      return succeed(_call, i);
    });
    await withLoop(env, activities, {}, async ({ status }) => {
      await env.sleep(20_000);
      let s = await status();
      assert.equal(s.last_cycle?.outcome, 'failed');
      assert.match(s.last_cycle?.message ?? '', /HTTP 503.*after 3 attempts/);
      assert.equal(s.counters.consecutive_failures, 1);
      assert.deepEqual(
        calls.map((c) => c.attempt),
        [1, 2, 3],
      );
      assert.equal(new Set(calls.map((c) => c.input.idempotency_key)).size, 1, 'every attempt carries the same key');
      const seconds = s.last_cycle?.cycle_seconds ?? 0;
      assert.ok(seconds >= 15 && seconds < 16, `5 s + 10 s of backoff between the attempts, got ${seconds} s`);

      await env.sleep(31_000);
      s = await status();
      assert.equal(s.current_iteration, 2);
      assert.equal(s.last_cycle?.outcome, 'succeeded');
      assert.equal(s.counters.failed, 1);
      assert.equal(s.counters.consecutive_failures, 0, 'reset by a success');
      assert.match(s.last_error ?? '', /^iteration 1: /, 'the last error stays visible');
      assert.equal(s.success_rate, 50);
    });
  });

  test('a run the app answered but that did nothing is a failure in the streak; a rejected run is skipped with its reason', async () => {
    const answers = [
      report({ outcome: 'failed', app_status: 'completed_with_errors', message: 'every contract errored (5 of 5)', symbols_successful: 0 }),
      report({
        outcome: 'failed',
        app_status: 'completed_with_errors',
        message: 'no contract was processed (0 of 5 requested)',
        symbols_processed: 0,
      }),
      report({ outcome: 'skipped', app_status: 'rejected', message: 'the app rejected the run (no_reliable_open_state_source)' }),
      report(),
    ];
    const { activities, calls } = scriptedActivities((call, i) => ({ kind: 'completed', report: answers[i] ?? report() }));
    await withLoop(env, activities, {}, async ({ status }) => {
      await env.sleep(65_000);
      let s = await status();
      assert.deepEqual(
        s.recent_cycles.map((c) => c.outcome),
        ['failed', 'failed', 'skipped'],
      );
      assert.equal(s.counters.consecutive_failures, 2, 'a skip neither adds to the streak nor ends it');
      assert.equal(s.last_error, 'iteration 3: the app rejected the run (no_reliable_open_state_source)');
      assert.equal(s.last_cycle?.message, 'the app rejected the run (no_reliable_open_state_source)');
      assert.equal(calls.length, 3, 'an answered run is never sent again');

      await env.sleep(30_000);
      s = await status();
      assert.equal(s.last_cycle?.outcome, 'succeeded');
      assert.equal(s.counters.consecutive_failures, 0);
      assert.deepEqual([s.counters.failed, s.counters.skipped, s.counters.succeeded], [2, 1, 1]);
    });
  });

  test('a kill switch (403) is tried once and the cycle is skipped with the app message', async () => {
    const { activities, calls } = scriptedActivities(() => {
      throw ApplicationFailure.create({
        type: MtfError.KillSwitch,
        message: 'MTF run skipped, kill switch is OFF: Global kill switch is OFF.',
      });
    });
    await withLoop(env, activities, {}, async ({ status }) => {
      await env.sleep(25_000);
      const s = await status();
      assert.equal(calls.length, 1, 'no retry');
      assert.equal(s.last_cycle?.outcome, 'skipped');
      assert.match(s.last_cycle?.message ?? '', /kill switch is OFF/);
      assert.equal(s.counters.skipped, 1);
      assert.equal(s.counters.consecutive_failures, 0);
    });
  });

  test('an accepted (202) run is polled to its end, and its summary is the cycle outcome', async () => {
    const polled: string[] = [];
    const { activities } = scriptedActivities(
      () => ({ kind: 'accepted', run_id: 'run-202', status_url: 'http://app/api/mtf/runs/run-202' }),
      (input) => {
        polled.push(input.status_url);
        return report({
          run_id: input.run_id,
          outcome: 'partial',
          app_status: 'completed_with_errors',
          message: 'partial success: 1 error(s)',
          errors: 1,
          symbols_successful: 4,
          success_rate: 80,
        });
      },
    );
    await withLoop(env, activities, { poll_interval: 7 }, async ({ waitForStatus }) => {
      const s = await waitForStatus((x) => x.counters.cycles === 1, 'the first cycle');
      assert.deepEqual(polled, ['http://app/api/mtf/runs/run-202']);
      assert.equal(s.last_cycle?.outcome, 'partial');
      assert.equal(s.last_cycle?.mtf_run_id, 'run-202');
      assert.equal(s.last_cycle?.symbols_successful, 4);
      assert.equal(s.counters.partial, 1);
    });
  });

  test('an mtf_completed callback completes an accepted run and stops its polling', async () => {
    const pollingStarted = deferred();
    let pollingCancelled = false;
    const { activities } = scriptedActivities(
      () => ({ kind: 'accepted', run_id: 'run-cb', status_url: 'http://app/api/mtf/runs/run-cb' }),
      async () => {
        pollingStarted.resolve();
        try {
          return await untilCancelled();
        } finally {
          pollingCancelled = true;
        }
      },
    );
    await withLoop(env, activities, {}, async ({ handle, status, waitForStatus }) => {
      await pollingStarted.promise;
      assert.equal((await status()).phase, 'awaiting_completion');
      await handle.signal(mtfCompletedSignal, { run_id: 'some-other-run' });
      await handle.signal(mtfCompletedSignal, { run_id: 'run-cb', status: 'success' });
      const s = await waitForStatus((x) => x.counters.cycles === 1, 'the cycle completed by callback');
      assert.equal(s.last_cycle?.outcome, 'succeeded');
      assert.equal(s.last_cycle?.mtf_run_id, 'run-cb');
      await waitForStatus(() => pollingCancelled, 'the polling activity to be cancelled');
    });
  });

  test('signal mode waits for continue_signal after each cycle', async () => {
    const { activities, calls } = scriptedActivities(succeed);
    await withLoop(env, activities, { continue_mode: 'signal' }, async ({ handle, status, waitForStatus }) => {
      await env.sleep(600_000);
      let s = await status();
      assert.equal(s.current_iteration, 1, 'ten minutes later, still gated');
      assert.equal(s.phase, 'awaiting_continue');
      await handle.signal(continueSignal);
      s = await waitForStatus((x) => x.phase === 'pausing', 'the pause after continue');
      await env.sleep(31_000);
      s = await status();
      assert.equal(s.current_iteration, 2);
      assert.equal(s.phase, 'awaiting_continue');
      assert.equal(calls.length, 2);
    });
  });

  test('signal mode with continue_timeout goes on by itself and counts the expiry', async () => {
    const { activities } = scriptedActivities(succeed);
    await withLoop(env, activities, { continue_mode: 'signal', continue_timeout: 60 }, async ({ status }) => {
      await env.sleep(95_000);
      const s = await status();
      assert.equal(s.current_iteration, 2, 'cycle 2 after 60 s gate + 30 s pause');
      assert.equal(s.counters.continue_timeouts, 1);
    });
  });

  test('a continue_signal sent during a cycle is not lost', async () => {
    const { activities, started, release } = heldActivities();
    await withLoop(env, activities, { continue_mode: 'signal' }, async ({ handle, status }) => {
      await started;
      await handle.signal(continueSignal);
      release();
      await env.sleep(31_000);
      const s = await status();
      assert.equal(s.current_iteration, 2, 'the early continue opened the gate');
      assert.equal(s.phase, 'awaiting_continue');
    });
  });

  test('auto mode: continue_signal during the pause starts the next cycle at once', async () => {
    const { activities, calls } = scriptedActivities(succeed);
    await withLoop(env, activities, {}, async ({ handle, waitForStatus }) => {
      const first = await waitForStatus((x) => x.phase === 'pausing', 'the first pause');
      await handle.signal(continueSignal);
      const s = await waitForStatus((x) => x.current_iteration === 2 && x.phase === 'pausing', 'the second cycle');
      const gap = Date.parse(s.last_cycle?.started_at ?? '') - Date.parse(first.last_cycle?.finished_at ?? '');
      assert.ok(gap < 30_000, `no 30 s pause in between, got ${gap} ms`);
      assert.equal(calls.length, 2);
      assert.equal(s.counters.succeeded, 2);
    });
  });

  test('stop_signal during a call lets that cycle finish and be recorded, then completes', async () => {
    const release = deferred();
    const started = deferred();
    const { activities, calls } = scriptedActivities(async (call, i) => {
      started.resolve();
      await release.promise;
      return succeed(call, i);
    });
    await withLoop(env, activities, {}, async ({ handle, status }) => {
      await started.promise;
      await handle.signal(stopSignal, 'deploy');
      const s = await status();
      assert.equal(s.stop_requested, true);
      assert.equal(s.is_running, true, 'still running the cycle');
      release.resolve();
      const result = (await handle.result()) as LoopSummary;
      assert.equal(result.iterations, 1);
      assert.equal(result.counters.succeeded, 1);
      assert.equal(result.stop_reason, 'deploy');
      assert.equal(calls.length, 1, 'no new cycle after stop');
      const final = await status();
      assert.equal(final.is_running, false);
      assert.equal(final.phase, 'stopped');
    });
  });

  test('stop_signal without a payload ends a pausing loop at once', async () => {
    const { activities } = scriptedActivities(succeed);
    await withLoop(env, activities, {}, async ({ handle, waitForStatus }) => {
      await waitForStatus((x) => x.phase === 'pausing', 'the pause');
      await handle.signal(stopSignal);
      const result = (await handle.result()) as LoopSummary;
      assert.equal(result.iterations, 1);
      assert.equal(result.stop_reason, null);
    });
  });

  test('malformed signal payloads are ignored and change nothing', async () => {
    const { activities } = scriptedActivities(succeed);
    await withLoop(env, activities, {}, async ({ handle, status, waitForStatus }) => {
      const before = await waitForStatus((x) => x.phase === 'pausing', 'the pause');
      await handle.signal('stop_signal', 42);
      await handle.signal('mtf_completed', { no_run_id: true });
      await handle.signal('stop_signal', ['a', 'list']);
      const s = await status();
      assert.equal(s.stop_requested, false);
      assert.equal(s.is_running, true);
      assert.deepEqual(s.counters, before.counters);
    });
  });

  test('continue-as-new keeps counters, iteration numbering, keys and the first run ID', async () => {
    const { activities, calls } = scriptedActivities((call, i) => {
      if (i === 2) throw ApplicationFailure.create({ type: MtfError.Rejected, message: 'HTTP 400' });
      return succeed(call, i);
    });
    await withLoop(env, activities, { max_cycles_per_run: 2 }, async ({ handle, status }) => {
      await env.sleep(155_000);
      const s = await status();
      assert.equal(s.current_iteration, 6);
      assert.notEqual(s.run_id, handle.firstExecutionRunId, 'now in a later run');
      assert.equal(s.first_run_id, handle.firstExecutionRunId, 'the first run, whose hash names every X-Run-Id, is kept');
      assert.equal(s.last_cycle?.x_run_id, runIdOf(lineagePrefix(handle.workflowId, handle.firstExecutionRunId), 6));
      assert.deepEqual(
        { cycles: s.counters.cycles, succeeded: s.counters.succeeded, failed: s.counters.failed },
        { cycles: 6, succeeded: 5, failed: 1 },
      );
      assert.deepEqual(
        calls.map((c) => c.input.idempotency_key),
        [1, 2, 3, 4, 5, 6].map((i) => `${handle.workflowId}/${handle.firstExecutionRunId}/${i}`),
      );
      assert.match(s.last_error ?? '', /^iteration 3: HTTP 400/);
    });
  });

  test('a continue_signal sent during the last cycle of a run is honoured after continue-as-new', async () => {
    const release = deferred();
    const started = deferred();
    const { activities, calls } = scriptedActivities(async (call, i) => {
      if (i === 0) {
        started.resolve();
        await release.promise;
      }
      return succeed(call, i);
    });
    await withLoop(env, activities, { continue_mode: 'signal', max_cycles_per_run: 1 }, async ({ handle, status }) => {
      await started.promise;
      await handle.signal(continueSignal);
      release.resolve();
      await env.sleep(31_000);
      const s = await status();
      assert.equal(s.current_iteration, 2);
      assert.notEqual(s.run_id, handle.firstExecutionRunId);
      assert.equal(calls.length, 2);
    });
  });

  test('an invalid input fails the workflow at once, naming the key', async () => {
    const { activities, calls } = scriptedActivities(succeed);
    for (const [config, key] of [
      [{ ping_interval: -1 }, /ping_interval/],
      [{ dry_run: false }, /dry_run.*confirm_live/],
      [{ symbols: [], dry_run: false, confirm_live: true }, /symbols: .*confirm_all_symbols: true/],
      [{ mtf_url: 'http://user:pw@app/api/mtf/run' }, /mtf_url.*credentials/],
    ] as const) {
      await withLoop(env, activities, config, async ({ handle }) => {
        const err = await handle.result().then(
          () => assert.fail('the workflow should fail'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof WorkflowFailedError);
        assert.ok(err.cause instanceof ApplicationFailure);
        assert.equal(err.cause.type, 'InvalidConfig');
        assert.equal(err.cause.nonRetryable, true);
        assert.match(err.cause.message, key);
      });
    }
    assert.equal(calls.length, 0, 'no MTF call with a bad config');
  });

  test('cancellation ends the loop promptly with its state recorded', async () => {
    const started = deferred();
    const { activities } = scriptedActivities(async () => {
      started.resolve();
      return untilCancelled();
    });
    await withLoop(env, activities, {}, async ({ handle, status }) => {
      await started.promise;
      await handle.cancel();
      await assert.rejects(handle.result(), WorkflowFailedError);
      const s = await status();
      assert.equal(s.is_running, false);
      assert.equal(s.phase, 'cancelled');
      assert.match(s.last_error ?? '', /cancelled during iteration 1/);
    });
  });

  test('a live config with confirm_live sends dry_run false and is not retried by Temporal', async () => {
    const { activities, calls } = scriptedActivities(() => {
      throw serverError();
    });
    await withLoop(env, activities, { dry_run: false, confirm_live: true }, async ({ waitForStatus }) => {
      const s = await waitForStatus((x) => x.counters.cycles === 1, 'the failed cycle');
      assert.equal(calls.length, 1, 'one attempt only');
      assert.equal(calls[0]?.input.body.dry_run, false);
      assert.equal(calls[0]?.input.send_once, true);
      assert.equal(s.last_cycle?.outcome, 'failed');
    });
  });
});
