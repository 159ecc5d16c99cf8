/**
 * The workflow's side of notifications, on the SDK's time-skipping test server with scripted
 * activities: messages go out one at a time and in order beside the loop, a protection alert jumps
 * the queue, and continue-as-new neither loses nor repeats one.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { MtfError } from '../../src/shared/errors';
import type { Notification } from '../../src/shared/notifications';
import type { LoopSummary } from '../../src/shared/status';
import { getStatusQuery, stopSignal, updateConfigUpdate } from '../../src/shared/messages';
import { CARRY_GRACE_CYCLES } from '../../src/workflows/notifier';
import { deferred, pollUntil, report, scriptedActivities, untilCancelled, withLoop, type CallScript } from '../helpers/loop-harness';
import { createTimeSkippingEnv, notifiedEvents } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
beforeEach(async () => {
  env = await createTimeSkippingEnv();
});
afterEach(async () => {
  await env?.teardown();
});

const serverError = () => ApplicationFailure.create({ type: MtfError.ServerError, message: 'MTF API answered HTTP 503' });
const alert = report({
  findings: {
    signals: [{ symbol: 'BTCUSDT', timeframe: '1m', side: 'LONG' }],
    signals_unlisted: 0,
    contracts: null,
    symbol_errors: [],
    orders: {
      count: { total: 1, submitted: 0, pending: 0, protection_failed: 1, simulated: 0 },
      list: [{ symbol: 'BTCUSDT', status: 'critical_unprotected_position', exchange_order_id: '9' }],
      unlisted: 0,
    },
    protection_alert: true,
  },
});

/** Scripted activities whose `notify` holds every message until the test lets it go, and records the order they went out. */
function heldNotifications(onCall: CallScript) {
  const scripted = scriptedActivities(onCall);
  const posted: Notification[] = [];
  const gate = deferred();
  scripted.activities.notify = async (notification) => {
    await gate.promise;
    // An attempt held past its 10 s timeout on a slow machine is retried, and both reach the gate: one post.
    if (!posted.some((p) => p.event === notification.event && p.at === notification.at)) posted.push(notification);
    return { sent: true, http_status: 200 };
  };
  return {
    ...scripted,
    posted,
    /** Lets every message through from now on. */
    open: () => gate.resolve(),
  };
}

void describe('the notifier', () => {
  test('a message held by a slow endpoint delays no cycle; those queued behind it go out in order, a protection alert first', async () => {
    const held = heldNotifications((_call, i) => {
      if (i < 3) throw serverError();
      return { kind: 'completed', report: i === 3 ? alert : report() };
    });
    await withLoop(env, held.activities, { ping_interval: 0.05, max_attempts: 1 }, async ({ waitForStatus, handle }) => {
      // `started` is held; meanwhile three failures (failing), then a cycle with an unprotected order.
      const s = await waitForStatus((st) => st.counters.cycles >= 5, 'five cycles while the first message is held');
      assert.equal(s.notifications?.sent, 0);
      assert.equal(s.notifications?.waiting, 3, 'failing, the alert and recovered wait behind started');
      held.open();
      await waitForStatus((st) => st.notifications?.sent === 4 && st.notifications.waiting === 0, 'all four sent');
      assert.deepEqual(
        held.posted.map((n) => n.event),
        ['started', 'protection_alert', 'failing', 'recovered'],
        'the alert jumped the queue; the rest in order',
      );
      assert.deepEqual(notifiedEvents((await handle.fetchHistory()).events ?? []), ['started', 'protection_alert', 'failing', 'recovered']);
    });
  });

  test("each message names the loop's labels as they are when it is written: labels an update changes apply to the next one", async () => {
    // Three failures (failing); the next cycle is held until the labels have changed, then succeeds (recovered).
    const relabelled = deferred();
    const scripted = scriptedActivities(async (_call, i) => {
      if (i < 3) throw serverError();
      await relabelled.promise;
      return { kind: 'completed', report: report() };
    });
    const config = { ping_interval: 0.05, max_attempts: 1, group: 'bitmart' };
    await withLoop(env, scripted.activities, config, async ({ waitForStatus, handle }) => {
      await waitForStatus((st) => st.notifications?.no_endpoint === 2, 'started and failing');
      await handle.executeUpdate(updateConfigUpdate, { args: [{ group: 'spot', fleet: 'bitmart-prod' }] });
      relabelled.resolve();
      await waitForStatus((st) => st.notifications?.no_endpoint === 3, 'recovered');
      const id = handle.workflowId;
      assert.deepEqual(
        scripted.notifications.map((n) => [n.event, n.fleet, n.group, n.message.slice(0, n.message.indexOf(id) + id.length)]),
        [
          ['started', null, 'bitmart', `▶️ [bitmart] ${id}`],
          ['failing', null, 'bitmart', `🔴 [bitmart] ${id}`],
          ['recovered', 'bitmart-prod', 'spot', `✅ [spot, fleet bitmart-prod] ${id}`],
        ],
      );
    });
  });

  test('an endpoint that holds its first message: at most 20 wait, the first and the newest kept, those between counted failed', async () => {
    const placed = report({
      findings: {
        ...alert.findings,
        protection_alert: false,
        orders: { count: { total: 1, submitted: 1, pending: 0, protection_failed: 0, simulated: 0 }, list: [], unlisted: 0 },
      },
    });
    // 25 live cycles, each with a submitted order (one message each); the 26th call is held, so the count stays put.
    const held = heldNotifications((_call, i) => (i < 25 ? { kind: 'completed', report: placed } : untilCancelled()));
    await withLoop(env, held.activities, { ping_interval: 0.05, dry_run: false, confirm_live: true }, async ({ waitForStatus }) => {
      const full = await waitForStatus((st) => st.counters.cycles === 25 && st.phase === 'calling_mtf', '25 cycles with started held');
      assert.deepEqual([full.notifications?.waiting, full.notifications?.failed, full.notifications?.sent], [20, 5, 0]);
      held.open();
      await waitForStatus((st) => st.notifications?.waiting === 0 && st.notifications.sent === 21, 'what was kept to be sent');
      assert.deepEqual(
        held.posted.map((n) => (n.event === 'started' ? 0 : n.iteration)),
        [0, ...Array.from({ length: 19 }, (_, i) => i + 1), 25],
        'started, live orders of iterations 1 to 19, and of 25, the newest',
      );
    });
  });

  test('a due continue-as-new waits for no message: the loop runs on, then the one being sent finishes, those waiting go to the next run, none twice', async () => {
    // Failing at cycle 3, recovered at 4. The run is due to continue as new after cycle 3, but
    // `started` is held: it runs on for CARRY_GRACE_CYCLES boundaries (cycles 4 to 13), then waits.
    // The next run's first call is held: in skipped time the loop would otherwise spin through runs.
    const lastOfRun = 3 + CARRY_GRACE_CYCLES;
    const held = heldNotifications((_call, i) =>
      i < 3 ? Promise.reject(serverError()) : i < lastOfRun ? { kind: 'completed', report: report() } : untilCancelled(),
    );
    await withLoop(
      env,
      held.activities,
      { ping_interval: 0.05, max_attempts: 1, max_cycles_per_run: 3 },
      async ({ waitForStatus, handle }) => {
        const firstRun = (await handle.describe()).runId;
        const ending = await waitForStatus(
          (st) => st.phase === 'continuing_as_new',
          'the run to wait for its message before continuing as new',
        );
        assert.equal(ending.counters.cycles, lastOfRun, 'the cycles went on while the message was held');
        assert.equal(ending.notifications?.waiting, 2, 'failing and recovered wait behind the held started');
        held.open();
        // The next run by its ID (describe, not a query): the test server may hold a query that lands on
        // the run that just closed for about 90 s.
        const { runId: nextRun } = await pollUntil(
          () => handle.describe(),
          (d) => d.runId !== firstRun,
          'the next run',
        );
        const nextHandle = env.client.workflow.getHandle(handle.workflowId, nextRun);
        const next = await pollUntil(
          () => nextHandle.query(getStatusQuery),
          (st) => st.notifications?.sent === 3,
          'the next run to send what waited',
        );
        assert.deepEqual(
          held.posted.map((n) => n.event),
          ['started', 'failing', 'recovered'],
        );
        assert.deepEqual(
          [next.notifications?.failed, next.notifications?.waiting, next.counters.cycles],
          [0, 0, lastOfRun],
          'counts carried',
        );
        const first = (await env.client.workflow.getHandle(handle.workflowId, firstRun).fetchHistory()).events ?? [];
        const second = (await nextHandle.fetchHistory()).events ?? [];
        assert.deepEqual(notifiedEvents(first), ['started'], 'the first run sent started only, and let it finish before continuing as new');
        assert.deepEqual(notifiedEvents(second), ['failing', 'recovered'], 'the next run sends the carried messages, once');
      },
    );
  });

  test('a stop that comes while a continue-as-new waits for its message ends the loop, with its last messages sent', async () => {
    const held = heldNotifications(() => ({ kind: 'completed', report: report() }));
    await withLoop(env, held.activities, { ping_interval: 0.05, max_cycles_per_run: 2 }, async ({ waitForStatus, handle }) => {
      const firstRun = (await handle.describe()).runId;
      await waitForStatus((st) => st.phase === 'continuing_as_new', 'the run to wait for started before continuing as new');
      await handle.signal(stopSignal, 'stop during the wait');
      held.open();
      const summary = (await handle.result()) as LoopSummary;
      assert.equal(summary.stop_reason, 'stop during the wait');
      assert.equal((await handle.describe()).runId, firstRun, 'no continue-as-new: the stop was not lost in it');
      assert.deepEqual(
        held.posted.map((n) => n.event),
        ['started', 'stopped'],
      );
    });
  });
});
