/**
 * The whole service on a real `temporal server start-dev`: the real worker and activities, the
 * real simulator over loopback, and the client module. Every scenario reconciles what the loop
 * counted with what the simulator received.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { LoopAlreadyRunningError, listLoops, startLoop, stopLoop, updateLoop } from '../../src/client/loops';
import { lineagePrefix, runIdOf } from '../../src/lib/run-id';
import { ConfigError } from '../../src/shared/config';
import type { LoopConfigInput } from '../../src/shared/config';
import { SEED_REQUEST_BODY } from '../helpers/fixtures';
import { pollUntil } from '../helpers/loop-harness';
import { waitFor } from '../helpers/processes';
import { runRealLoop, type RealLoop } from '../helpers/real-loop';
import { uniqueId, withoutNotifications } from '../helpers/temporal';
import { useDevStack } from '../helpers/dev-stack';

const EventType = temporal.api.enums.v1.EventType;

const stack = useDevStack();

/** Starts a worker and a loop on a fresh task queue, runs `body`, then ends the loop and the worker. */
function withRealLoop<T>(config: LoopConfigInput, body: (loop: RealLoop) => Promise<T>, workflowId?: string): Promise<T> {
  return runRealLoop(stack.env, stack.sim, config, body, workflowId);
}

describe('the loop on a real Temporal dev server', () => {
  test('runs cycles against the simulator, answers get_status, refuses a duplicate start, and stops with a summary', async () => {
    stack.sim.setBehaviour({ mode: 'sync', fault: 'none', fault_count: null, latency_ms: 0 });
    await withRealLoop({ ping_interval: 0.2 }, async (loop) => {
      const s = await loop.afterRequests(3);
      assert.ok(s.counters.cycles >= 2);
      assert.equal(s.is_running, true);
      assert.equal(s.workflow_id, loop.workflowId);
      assert.equal(s.counters.succeeded, s.counters.cycles);
      assert.equal(s.success_rate, 100);
      assert.ok(s.last_cycle?.mtf_run_id, 'the MTF run id is recorded');
      assert.equal(s.config.mtf_url, stack.sim.runUrl);

      await assert.rejects(
        startLoop(stack.env.client, { taskQueue: loop.taskQueue, workflowId: loop.workflowId, config: { mtf_url: stack.sim.runUrl } }),
        (err: unknown) => err instanceof LoopAlreadyRunningError && err.message.includes(`mtf-ping-pong stop ${loop.workflowId}`),
      );

      const summary = await stopLoop(stack.env.client, loop.workflowId, 'test done');
      assert.equal(summary.stop_reason, 'test done');
      const requests = loop.requests();
      assert.equal(summary.counters.cycles, requests.length, 'one POST per cycle, no more');
      assert.equal(summary.iterations, summary.counters.cycles);
      assert.equal(summary.last_cycle?.mtf_run_id, requests.at(-1)?.run_id, 'the last run id is the app’s');
      const sent = stack.sim.runRequests().filter((r) => r.idempotency_key?.startsWith(`${loop.workflowId}/`));
      assert.equal(new Set(sent.map((r) => r.idempotency_key)).size, sent.length, 'a new key per iteration');
      assert.ok(
        sent.every((r) => r.authorization === 'Bearer test-token'),
        'the worker’s token reaches the app',
      );
      assert.ok(
        sent.every((r) => r.user_agent === 'mtf-ping-pong (integration-test-worker)'),
        `the worker names itself in the User-Agent: ${sent[0]?.user_agent}`,
      );
      assert.deepEqual(sent[0]?.body, SEED_REQUEST_BODY);
    });
  });

  test('a quiet cycle costs 11 history events: one activity and one timer, no search-attribute upsert', async () => {
    stack.sim.setBehaviour({ mode: 'sync', fault: 'none', fault_count: null, latency_ms: 0 });
    await withRealLoop({ ping_interval: 0.2 }, async (loop) => {
      await loop.afterRequests(6);
      const history = await stack.env.client.workflow.getHandle(loop.workflowId).fetchHistory();
      // The started message and its patch bookkeeping belong to the first cycle, which is not counted.
      const events = withoutNotifications(history.events ?? []);
      const upserts = events.filter((e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
      assert.equal(upserts.length, 1, 'the first outcome is upserted once; the quiet cycles after it upsert nothing');
      const scheduled = events.flatMap((e, i) => (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ? [i] : []));
      // From the second cycle on: the first one announces the loop's first outcome.
      const perCycle = scheduled.slice(2).map((at, i) => at - (scheduled[i + 1] ?? 0));
      assert.ok(perCycle.length >= 3);
      assert.deepEqual(
        perCycle,
        perCycle.map(() => 11),
        `events per quiet cycle: ${perCycle.join(', ')}`,
      );
      const between = events.slice(scheduled[1], scheduled[2]).map((e) => e.eventType);
      const commands = between.filter(
        (t) => t === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED || t === EventType.EVENT_TYPE_TIMER_STARTED,
      );
      assert.equal(commands.length, 2, 'two billed Actions: the activity and the timer');
    });
  });

  test('a 5xx is retried with the same Idempotency-Key, the cycle fails after 3 attempts, and the next cycle succeeds', async () => {
    stack.sim.setBehaviour({ mode: 'sync', fault: 'http500', fault_count: 3, latency_ms: 0 });
    await withRealLoop({ ping_interval: 0.2, retry_initial_interval: 0.1, retry_max_interval: 1 }, async (loop) => {
      const s = await loop.afterRequests(5);
      const [first, second] = [s.counters.failed, s.counters.succeeded];
      assert.equal(first, 1);
      assert.ok(second >= 1);
      const requests = loop.requests();
      assert.deepEqual(
        requests.slice(0, 3).map((r) => r.status),
        [500, 500, 500],
      );
      assert.equal(new Set(requests.slice(0, 3).map((r) => r.idempotency_key)).size, 1, 'same key on every attempt');
      assert.notEqual(requests[3]?.idempotency_key, requests[0]?.idempotency_key, 'the next cycle has its own key');
      assert.match(s.last_error ?? '', /HTTP 500.*after 3 attempts/);
    });
  });

  test('a hanging endpoint fails the cycle after 3 attempt timeouts plus backoff, and the loop goes on', async () => {
    stack.sim.setBehaviour({ mode: 'sync', fault: 'hang', fault_count: 3, latency_ms: 0 });
    const config = { ping_interval: 0.2, activity_timeout: 1, retry_initial_interval: 0.2, retry_max_interval: 1, max_execution_time: 20 };
    await withRealLoop(config, async (loop) => {
      const s = await loop.afterRequests(5);
      const failed = s.counters.failed === 1 && s.counters.succeeded >= 1;
      assert.ok(failed, JSON.stringify(s.counters));
      assert.match(s.last_error ?? '', /timed out after 1 s on each of 3 attempts/);
      const requests = loop.requests();
      assert.equal(new Set(requests.slice(0, 3).map((r) => r.idempotency_key)).size, 1);
      // 3 x 1 s + 0.2 s + 0.4 s of backoff: the seed's 3 x 120 s + 5 s + 10 s = 375 s, scaled down.
      const events = withoutNotifications((await stack.env.client.workflow.getHandle(loop.workflowId).fetchHistory()).events ?? []);
      const scheduled = events.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
      const timedOut = events.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT);
      assert.ok(scheduled && timedOut, 'the activity timed out on the server (start-to-close), it was not failed by the worker');
      const seconds =
        Number(timedOut.eventTime?.seconds) -
        Number(scheduled.eventTime?.seconds) +
        ((timedOut.eventTime?.nanos ?? 0) - (scheduled.eventTime?.nanos ?? 0)) / 1e9;
      // The dev server fires timeouts with some lag; the floor is what matters: no attempt was cut short.
      assert.ok(seconds >= 3.6 && seconds < 10, `3 attempts of 1 s + 0.6 s of backoff, got ${seconds} s`);
    });
  });

  test('a run that outlives the cycle budget is recorded as timed_out', async () => {
    stack.sim.setBehaviour({ mode: 'async', fault: 'none', fault_count: null, latency_ms: 60_000 });
    await withRealLoop({ ping_interval: 0.2, max_execution_time: 2, activity_timeout: 1, poll_interval: 0.2 }, async (loop) => {
      const s = await loop.afterRequests(2);
      assert.equal(s.counters.timed_out, 1);
      assert.match(s.last_error ?? '', /iteration 1: .*budget of 2 s/);
    });
  });

  test('an accepted (202) run is polled until it completes', async () => {
    stack.sim.setBehaviour({ mode: 'async', fault: 'none', fault_count: null, latency_ms: 300 });
    await withRealLoop({ ping_interval: 0.2, poll_interval: 0.1 }, async (loop) => {
      const s = await loop.afterRequests(2);
      assert.equal(s.counters.succeeded, s.counters.cycles);
      assert.equal(s.last_cycle?.mtf_run_id, loop.requests()[0]?.run_id);
      assert.ok(
        stack.sim.requests.some((r) => r.path === `/api/mtf/runs/${s.last_cycle?.mtf_run_id}`),
        'its status was read',
      );
    });
  });

  test('live mode: a run that may have executed is never POSTed twice', async () => {
    stack.sim.setBehaviour({ mode: 'sync', fault: 'html504_after_run', fault_count: 1, latency_ms: 0 });
    await withRealLoop({ ping_interval: 0.2, dry_run: false, confirm_live: true }, async (loop) => {
      const s = await loop.afterRequests(3);
      const requests = loop.requests();
      const firstKey = requests[0]?.idempotency_key;
      assert.equal(requests.filter((r) => r.idempotency_key === firstKey).length, 1, 'one POST for the ambiguous cycle');
      assert.equal(requests[0]?.executed, true, 'the app did run it');
      assert.match(s.last_error ?? '', /may have executed/);
      assert.equal((requests[0]?.body as { dry_run?: boolean }).dry_run, false);
    });
  });

  test('update_config: a valid patch applies from the next cycle; a refused one changes nothing and leaves no event', async () => {
    stack.sim.setBehaviour({ mode: 'sync', fault: 'none', fault_count: null, latency_ms: 0 });
    await withRealLoop({ ping_interval: 0.2 }, async (loop) => {
      await loop.afterRequests(1);
      const handle = stack.env.client.workflow.getHandle(loop.workflowId);
      const eventsBefore = (await handle.fetchHistory()).events?.length ?? 0;
      const statusBefore = await loop.status();

      for (const [patch, message] of [
        [{ dry_run: false }, /dry_run: .*confirm_live: true/],
        [{ ping_interval: -5 }, /ping_interval: must be greater than 0/],
        [{ no_such_key: 1 }, /no_such_key: unknown key/],
      ] as const) {
        await assert.rejects(
          updateLoop(stack.env.client, loop.workflowId, patch as never),
          (err: unknown) => err instanceof ConfigError && message.test(err.message),
        );
      }
      const statusAfter = await loop.status();
      assert.deepEqual(statusAfter.config, statusBefore.config, 'the config is unchanged');
      assert.equal(statusAfter.pending_config, null);
      const updateEvents =
        (await handle.fetchHistory()).events?.slice(eventsBefore).filter((e) => String(e.eventType).includes('UPDATE')) ?? [];
      assert.equal(updateEvents.length, 0, 'a rejected update writes nothing to history');

      const next = await updateLoop(stack.env.client, loop.workflowId, { symbols: ['BTCUSDT'], ping_interval: 0.3 });
      assert.deepEqual(next.symbols, ['BTCUSDT']);
      const requested = loop.requests().length;
      const s = await loop.afterRequests(requested + 2);
      assert.deepEqual(s.config.symbols, ['BTCUSDT'], 'in force after the next cycle began');
      assert.equal(s.config.ping_interval, 0.3);
      assert.equal(s.pending_config, null);
      assert.deepEqual((loop.requests().at(-1)?.body as { symbols?: string[] }).symbols, ['BTCUSDT'], 'the app receives the new symbols');
    });
  });

  test('list shows the loops on the namespace with their state', async () => {
    stack.sim.setBehaviour({ mode: 'sync', fault: 'none', fault_count: null, latency_ms: 0 });
    const workflowId = uniqueId('listed');
    await withRealLoop(
      { ping_interval: 60 },
      async (loop) => {
        await loop.afterRequests(1);
        const listed = await pollUntil(
          () => listLoops(stack.env.client),
          (loops) => loops.some((l) => l.workflowId === workflowId && l.status === 'RUNNING'),
          'the loop to appear in visibility',
          10_000,
        );
        assert.ok(listed.every((l) => l.status !== 'CONTINUED_AS_NEW'));
      },
      workflowId,
    );
  });

  test('a loop started again on the same ID sends new Idempotency-Keys', async () => {
    stack.sim.setBehaviour({ mode: 'sync', fault: 'none', fault_count: null, latency_ms: 0 });
    const workflowId = uniqueId('again');
    const keys: string[] = [];
    for (let round = 0; round < 2; round++) {
      await withRealLoop(
        { ping_interval: 60 },
        async (loop) => {
          await loop.afterRequests(1);
          const summary = await stopLoop(stack.env.client, workflowId);
          assert.equal(summary.iterations, 1);
          keys.push(
            ...loop
              .requests()
              .slice(round)
              .map((r) => r.idempotency_key ?? ''),
          );
        },
        workflowId,
      );
    }
    assert.equal(keys.length, 2);
    assert.notEqual(keys[0], keys[1], 'the second loop does not reuse the first one’s key for iteration 1');
    assert.ok(keys.every((k) => k.endsWith('/1')));
  });

  // A SIGKILLed worker's retry re-sends its X-Run-Id too: see faults.test.ts.
  const X_RUN_ID_LOOP = { ping_interval: 0.2, retry_initial_interval: 0.1, retry_max_interval: 0.2, max_cycles_per_run: 2 };

  test('X-Run-Id: one per iteration, kept by a retry and across continue-as-new, new for a loop started again on the same ID', async () => {
    const workflowId = uniqueId('x-run-id');
    stack.sim.setBehaviour({ mode: 'sync', fault: 'http500', fault_count: 1, latency_ms: 0 });
    const first = await withRealLoop(
      X_RUN_ID_LOOP,
      async (loop) => {
        const s = await waitFor(
          () => loop.status(),
          (st) => st.counters.cycles >= 3,
          'three cycles, the third after continue-as-new',
        );
        const firstRunId = s.first_run_id ?? assert.fail('get_status names the first run');
        assert.notEqual(s.run_id, firstRunId, 'the loop has continued as new');
        const prefix = lineagePrefix(workflowId, firstRunId);
        const sent = loop.requests().filter((r) => Number(r.idempotency_key?.split('/').pop()) <= 3);
        assert.deepEqual(
          sent.map((r) => [r.status, r.x_run_id]),
          [
            [500, runIdOf(prefix, 1)],
            [200, runIdOf(prefix, 1)],
            [200, runIdOf(prefix, 2)],
            [200, runIdOf(prefix, 3)],
          ],
          'the retried attempt re-sends its X-Run-Id; the next run goes on numbering under the same prefix',
        );
        const last = s.last_cycle ?? assert.fail('a last cycle');
        assert.equal(last.x_run_id, runIdOf(prefix, last.iteration), 'the cycle record shows its X-Run-Id');
        assert.equal(last.mtf_run_id, last.x_run_id, "today's app keeps a safe X-Run-Id as its run id");
        return prefix;
      },
      workflowId,
    );

    stack.sim.setBehaviour({ fault: 'none', fault_count: null });
    await withRealLoop(
      X_RUN_ID_LOOP,
      async (loop) => {
        const s = await waitFor(
          () => loop.status(),
          (st) => st.counters.cycles >= 1,
          'the new loop’s first cycle',
        );
        const prefix = lineagePrefix(workflowId, s.first_run_id ?? assert.fail('get_status names the first run'));
        assert.notEqual(prefix, first, 'a new loop on the same ID has a new prefix');
        const firstPost = loop.requests().find((r) => r.idempotency_key?.endsWith('/1') && !r.x_run_id?.startsWith(first));
        assert.equal(firstPost?.x_run_id, runIdOf(prefix, 1), 'and numbers from 1 again');
      },
      workflowId,
    );
  });
});
