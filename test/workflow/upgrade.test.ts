/**
 * Upgrade safety: a worker of this release takes over a continued run that a newer release wrote,
 * with config keys and carried state it does not know. The loop goes on, numbering and counters
 * intact, and hands the unknown keys on, as they are, at its own continue-as-new; a fresh start
 * with an unknown key still fails at once, naming it.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { emptyCounters } from '../../src/shared/status';
import { WORKFLOW_TYPE, getStatusQuery } from '../../src/shared/messages';
import type { LoopStatus } from '../../src/shared/status';
import { pollUntil, scriptedActivities, succeed } from '../helpers/loop-harness';
import { createTimeSkippingEnv, uniqueId } from '../helpers/temporal';

const EventType = temporal.api.enums.v1.EventType;

let env: TestWorkflowEnvironment;
beforeEach(async () => {
  env = await createTimeSkippingEnv();
});
afterEach(async () => {
  await env?.teardown();
});

/** What a later release writes: a config key and state this release does not have. */
function newerInput() {
  return {
    ping_interval: 30,
    max_cycles_per_run: 1,
    a_future_knob: 300,
    carried_state: {
      iteration: 41,
      counters: { ...emptyCounters(), cycles: 41, succeeded: 41, a_future_count: 3 },
      last_cycle: null,
      last_error: null,
      continue_pending: false,
      started_at: '2026-11-01T00:00:00.000Z',
      recent_cycles: [],
      a_future_state: { since: null },
    },
  };
}

async function startedInput(workflowId: string, runId: string): Promise<Record<string, unknown>> {
  const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
  const started = history.events?.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
  const payload = started?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  assert.ok(payload, 'the run has an input');
  return defaultPayloadConverter.fromPayload(payload);
}

/** A worker of this release, with the stand-in for a newer one beside its workflows. */
function workerOf(taskQueue: string, activities: ReturnType<typeof scriptedActivities>['activities']): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    activities,
    workflowsPath: require.resolve('../workflows/newer-release'),
  });
}

void describe('a continued run written by a newer release', () => {
  test('runs on this worker, keeps its numbering, and hands the unknown keys on as they are', async () => {
    const { activities, calls } = scriptedActivities(succeed);
    const taskQueue = uniqueId('tq');
    const worker = await workerOf(taskQueue, activities);
    await worker.runUntil(async () => {
      const workflowId = uniqueId('loop');
      await env.client.workflow.start('NewerReleaseLoop', { taskQueue, workflowId, args: [newerInput()] });
      const handle = env.client.workflow.getHandle(workflowId);
      const status = () => handle.query(getStatusQuery);
      // Each run holds one cycle, waits its 30 s and continues as new on this worker. The test server
      // skips time only while a client awaits (env.sleep here), and a query sent while a run hands over
      // to the next one waits there for a minute and more: so watch the calls the activities record,
      // skipping one interval per look, and ask the status once the second call has run.
      await pollUntil(
        async () => (calls.length >= 2 ? calls.length : env.sleep(30_000).then(() => calls.length)),
        (n) => n >= 2,
        'a second call on this worker',
        50,
      );
      const s = await pollUntil(status, (st: LoopStatus) => st.counters.cycles >= 43, 'two cycles on this worker');
      assert.equal(s.last_cycle?.iteration, s.counters.cycles, 'numbering goes on from the newer run');
      assert.equal(s.counters.succeeded, s.counters.cycles);
      assert.equal((s.counters as unknown as Record<string, unknown>).a_future_count, 3, 'a counter it does not know is kept');
      const keys = calls.map((c) => Number(c.input.idempotency_key.split('/').pop()));
      assert.deepEqual(
        keys,
        keys.map((_key, i) => 42 + i),
        'the first cycle on this worker is 42, then one by one',
      );
      // A run this worker continued as new itself still hands on what it did not know.
      const { runId } = await handle.describe();
      const input = await startedInput(workflowId, runId);
      assert.equal((input.carried_state as { iteration: number }).iteration >= 42, true, 'a run this worker wrote');
      assert.equal(input.a_future_knob, 300);
      const carried = input.carried_state as Record<string, unknown>;
      assert.deepEqual(carried.a_future_state, { since: null });
      assert.equal((carried.counters as Record<string, unknown>).a_future_count, 3);
      await handle.terminate('test over');
    });
  });

  test('a fresh start with a key this release does not know still fails at once, naming it', async () => {
    const { activities, calls } = scriptedActivities(succeed);
    const taskQueue = uniqueId('tq');
    const worker = await workerOf(taskQueue, activities);
    await worker.runUntil(async () => {
      const config: Record<string, unknown> = newerInput();
      delete config.carried_state;
      const handle = await env.client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId: uniqueId('loop'), args: [config] });
      await assert.rejects(
        handle.result(),
        (err: unknown) => err instanceof WorkflowFailedError && /a_future_knob: unknown key/.test(String(err.cause?.message)),
      );
      assert.equal(calls.length, 0);
    });
  });
});
