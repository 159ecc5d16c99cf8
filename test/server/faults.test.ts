/**
 * Faults that need real processes: a worker SIGKILLed in the middle of a call, a second worker
 * carrying every loop on, and the Temporal server restarted on its SQLite file. Everything is
 * real: `temporal server start-dev` with a database file, worker processes (dist/src/worker/main.js),
 * the simulator over loopback. Each scenario reconciles the loop's counters, the simulator's
 * request log and the history.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { lineagePrefix, runIdOf } from '../../src/lib/run-id';
import { spawnDevServer, stopDevServer, waitUntilReady, type DevServer } from '../../src/cli/dev-processes';
import { connectClient, temporalTarget, type TemporalTarget } from '../../src/client/connection';
import { loopStatus, startLoop, stopLoop } from '../../src/client/loops';
import type { LoopConfigInput } from '../../src/shared/config';
import type { LoopStatus } from '../../src/shared/status';
import { startSimulator, type RecordedRequest, type Simulator } from '../../src/simulator/server';
import { HEARTBEAT_TIMEOUT_MS } from '../../src/workflows/policy';
import { freePortPair, spawnNode, type Followed } from '../../harness/processes';
import { waitFor } from '../helpers/processes';
import { uniqueId, withoutNotifications } from '../helpers/temporal';

const WORKER = join(__dirname, '..', '..', 'src', 'worker', 'main.js');
const EventType = temporal.api.enums.v1.EventType;

/** A dev server on a SQLite file in a temp folder, restartable on the same port and file. */
class Stack {
  server: DevServer;
  readonly target: TemporalTarget;
  client!: Client;
  private constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {
    this.target = temporalTarget({ address: `127.0.0.1:${port}` }, {});
    this.server = spawnDevServer(dataDir, { host: '127.0.0.1', port });
  }

  static async start(): Promise<Stack> {
    const stack = new Stack(mkdtempSync(join(tmpdir(), 'mtf-faults-')), await freePortPair());
    assert.ok(await waitUntilReady(stack.server, stack.target), 'the dev server starts');
    stack.client = await connectClient(stack.target);
    return stack;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    await stopDevServer(this.server);
    this.server = spawnDevServer(this.dataDir, { host: '127.0.0.1', port: this.port });
    assert.ok(await waitUntilReady(this.server, this.target), 'the dev server starts again on its database');
  }

  async close(): Promise<void> {
    await stopDevServer(this.server);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

let stack: Stack;
const workers = new Set<Followed>();
const simulators: Simulator[] = [];

before(async () => {
  stack = await Stack.start();
});
after(async () => {
  await Promise.all([...workers].map((w) => w.stop('SIGKILL')));
  await Promise.all(simulators.map((s) => s.close()));
  await stack?.close();
});

async function simulator(): Promise<Simulator> {
  const sim = await startSimulator();
  simulators.push(sim);
  return sim;
}

/** A worker process on `taskQueue`; metrics and probes off (their default ports are not ours). */
async function worker(on: Stack, taskQueue: string): Promise<Followed> {
  const w = spawnNode(WORKER, [], {
    TEMPORAL_ADDRESS: on.address,
    TASK_QUEUE_NAME: taskQueue,
    METRICS_ADDRESS: 'off',
    HEALTH_ADDRESS: 'off',
    LOG_FORMAT: 'json',
  });
  workers.add(w);
  await w.waitForLine((l) => l.includes('"worker started"'), 'a worker to start');
  return w;
}

/** The loop's run requests, by iteration (from the Idempotency-Key `<id>/<first run>/<iteration>`). */
function requestsByIteration(sim: Simulator, workflowId: string): Map<number, RecordedRequest[]> {
  const byIteration = new Map<number, RecordedRequest[]>();
  for (const r of sim.runRequests()) {
    const key = r.idempotency_key ?? '';
    if (!key.startsWith(`${workflowId}/`)) continue;
    const iteration = Number(key.slice(key.lastIndexOf('/') + 1));
    byIteration.set(iteration, [...(byIteration.get(iteration) ?? []), r]);
  }
  return byIteration;
}

function status(
  client: Client,
  workflowId: string,
  check: (s: LoopStatus) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<LoopStatus> {
  return waitFor(() => loopStatus(client, workflowId), check, what, timeoutMs);
}

async function history(client: Client, workflowId: string) {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

const quick: LoopConfigInput = { retry_initial_interval: 0.2, retry_max_interval: 1 };

void describe('a worker SIGKILLed in the middle of a slow MTF call', { concurrency: true }, () => {
  test('dry run: another worker takes over within the heartbeat timeout, re-sends the same Idempotency-Key, and the cycle is recorded once', async (t) => {
    const sim = await simulator();
    sim.setBehaviour({ mode: 'sync', fault: 'hang', fault_count: 1, latency_ms: 0 });
    const taskQueue = uniqueId('kill-dry-tq');
    const workflowId = uniqueId('kill-dry');
    const first = await worker(stack, taskQueue);
    await startLoop(stack.client, { taskQueue, workflowId, config: { ...quick, mtf_url: sim.runUrl, ping_interval: 3600 } });
    await sim.waitForRunRequests(1, 30_000);
    const killedAt = Date.now();
    await first.stop('SIGKILL');
    await worker(stack, taskQueue);

    await sim.waitForRunRequests(2, HEARTBEAT_TIMEOUT_MS + 30_000);
    const takeover = Date.now() - killedAt;
    const s = await status(stack.client, workflowId, (st) => st.counters.cycles === 1, 'the cycle to be recorded');
    assert.ok(
      takeover < HEARTBEAT_TIMEOUT_MS + 10_000,
      `taken over in ${takeover} ms: the heartbeat timeout, not the 120 s attempt timeout`,
    );
    t.diagnostic(`SIGKILL to the retried POST on the other worker: ${takeover} ms (heartbeat timeout ${HEARTBEAT_TIMEOUT_MS} ms)`);
    assert.deepEqual([s.counters.succeeded, s.counters.failed, s.current_iteration], [1, 0, 1]);

    const sent = requestsByIteration(sim, workflowId);
    assert.deepEqual([...sent.keys()], [1]);
    assert.deepEqual(
      sent.get(1)?.map((r) => r.status),
      [null, 200],
      'the first POST died with its worker; the retry carried the same key',
    );
    const xRunId = runIdOf(lineagePrefix(workflowId, s.first_run_id ?? ''), 1);
    assert.deepEqual(
      sent.get(1)?.map((r) => r.x_run_id),
      [xRunId, xRunId],
      'and the same X-Run-Id',
    );
    assert.equal(s.last_cycle?.x_run_id, xRunId);
    const events = withoutNotifications(await history(stack.client, workflowId));
    assert.equal(events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length, 1, 'one call in history');
    const started = events.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
    assert.equal(started?.activityTaskStartedEventAttributes?.attempt, 2);
    assert.match(started?.activityTaskStartedEventAttributes?.lastFailure?.message ?? '', /heartbeat/i);
    await stopLoop(stack.client, workflowId);
  });

  test('live run: no second POST is sent; the cycle fails with its "may have executed" message and the loop goes on', async () => {
    const sim = await simulator();
    sim.setBehaviour({ mode: 'sync', fault: 'hang', fault_count: 1, latency_ms: 0 });
    const taskQueue = uniqueId('kill-live-tq');
    const workflowId = uniqueId('kill-live');
    const first = await worker(stack, taskQueue);
    await startLoop(stack.client, {
      taskQueue,
      workflowId,
      config: { ...quick, mtf_url: sim.runUrl, ping_interval: 0.5, dry_run: false, confirm_live: true },
    });
    await sim.waitForRunRequests(1, 30_000);
    await first.stop('SIGKILL');
    await worker(stack, taskQueue);

    const s = await status(
      stack.client,
      workflowId,
      (st) => st.counters.cycles >= 2,
      'the lost cycle and the next one',
      HEARTBEAT_TIMEOUT_MS + 30_000,
    );
    assert.equal(s.counters.failed, 1);
    assert.ok(s.counters.succeeded >= 1);
    assert.match(
      s.last_error ?? '',
      /^iteration 1: live MTF run may have executed, not sent again: the worker running the call was lost \(no heartbeat\)/,
    );
    const sent = requestsByIteration(sim, workflowId);
    assert.deepEqual(
      sent.get(1)?.map((r) => r.status),
      [null],
      'the live run was POSTed once, never again',
    );
    assert.deepEqual(
      sent.get(2)?.map((r) => r.status),
      [200],
      'the next cycle has its own key',
    );
    assert.equal(s.counters.cycles, sent.size, 'one recorded cycle per iteration the app saw');
    await stopLoop(stack.client, workflowId);
  });

  test('two workers on one task queue, one SIGKILLed: the other carries every loop on, no cycle run twice', async () => {
    const sim = await simulator();
    const taskQueue = uniqueId('pair-tq');
    const [doomed] = await Promise.all([worker(stack, taskQueue), worker(stack, taskQueue)]);
    const ids = Array.from({ length: 6 }, (_, i) => uniqueId(`pair-${i}`));
    await Promise.all(
      ids.map((workflowId) =>
        startLoop(stack.client, { taskQueue, workflowId, config: { ...quick, mtf_url: sim.runUrl, ping_interval: 0.3 } }),
      ),
    );
    const before = await Promise.all(ids.map((id) => status(stack.client, id, (s) => s.counters.cycles >= 2, `${id} to run`)));
    await doomed?.stop('SIGKILL');
    await Promise.all(
      ids.map((id, i) =>
        status(
          stack.client,
          id,
          (s) => s.counters.cycles >= (before[i]?.counters.cycles ?? 0) + 3,
          `${id} to go on after the kill`,
          HEARTBEAT_TIMEOUT_MS + 30_000,
        ),
      ),
    );

    for (const id of ids) {
      const summary = await stopLoop(stack.client, id);
      const sent = requestsByIteration(sim, id);
      assert.deepEqual(
        [...sent.keys()],
        Array.from({ length: summary.iterations }, (_, i) => i + 1),
        `${id}: every iteration reached the app, in order`,
      );
      assert.equal(summary.counters.cycles, summary.iterations);
      assert.equal(summary.counters.succeeded, summary.iterations, `${id}: every cycle succeeded`);
      // A call in flight on the killed worker is re-sent with its key by the survivor (a dry run).
      // The kill can land after the app answered and before the worker recorded it, so that one
      // key may have two 200s (seen once on a loaded machine: [200,200]); any other key reached the
      // app once, and at most one key per loop (the one in flight) was sent more than once.
      const resent = [...sent].filter(([, requests]) => requests.length > 1);
      assert.ok(resent.length <= 1, `${id}: only the call in flight at the kill is re-sent: ${JSON.stringify(resent)}`);
      for (const [iteration, requests] of sent) {
        const answered = requests.filter((r) => r.status === 200).length;
        assert.ok(
          requests.length === 1 ? answered === 1 : answered >= 1 && requests.length <= 2,
          `${id} iteration ${iteration} answered once, or re-sent once after the kill: ${JSON.stringify(requests.map((r) => r.status))}`,
        );
      }
    }
  });
});

void describe('the Temporal server restarted on its database mid-loop', () => {
  test('the loop resumes where it was: counters exact, no cycle skipped or doubled', async () => {
    const own = await Stack.start();
    try {
      const sim = await simulator();
      const taskQueue = uniqueId('restart-tq');
      const workflowId = uniqueId('restart');
      await worker(own, taskQueue);
      await startLoop(own.client, { taskQueue, workflowId, config: { ...quick, mtf_url: sim.runUrl, ping_interval: 0.3 } });
      const before = await status(own.client, workflowId, (s) => s.counters.cycles >= 3, 'three cycles');

      await own.restart();
      const afterRestart = await status(
        own.client,
        workflowId,
        (s) => s.counters.cycles >= before.counters.cycles + 3,
        'three more cycles after the restart',
      );
      assert.equal(afterRestart.run_id, before.run_id, 'the same run goes on');
      assert.equal(afterRestart.started_at, before.started_at);

      const summary = await stopLoop(own.client, workflowId);
      const sent = requestsByIteration(sim, workflowId);
      assert.deepEqual(
        [...sent.keys()],
        Array.from({ length: summary.iterations }, (_, i) => i + 1),
        'iterations continuous across the restart',
      );
      assert.deepEqual([summary.counters.cycles, summary.counters.succeeded], [summary.iterations, summary.iterations]);
      for (const [iteration, requests] of sent)
        assert.equal(requests.filter((r) => r.status === 200).length, 1, `iteration ${iteration} answered once`);
      const events = withoutNotifications(await history(own.client, workflowId));
      const completed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).length;
      assert.equal(completed, summary.iterations, 'one completed call per cycle in history');
    } finally {
      await own.close();
    }
  });
});
