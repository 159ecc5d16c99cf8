/** A real loop on a dev server: a worker in this process on a fresh task queue, the simulator over loopback. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { boundedStatus, startLoop } from '../../src/client/loops';
import type { LoopConfigInput } from '../../src/shared/config';
import type { LoopStatus } from '../../src/shared/status';
import type { RecordedRequest, Simulator } from '../../src/simulator/server';
import { createMtfWorker } from '../../src/worker/worker';
import { uniqueId } from './temporal';

export interface RealLoop {
  workflowId: string;
  taskQueue: string;
  status(): Promise<LoopStatus>;
  /**
   * Waits for this loop's n-th run request to reach the simulator, then reads the status: a cycle
   * is recorded before the pause that leads to the next request, so n requests mean the cycles
   * before the n-th are in the status.
   */
  afterRequests(n: number): Promise<LoopStatus>;
  /** The run requests this loop sent, in order. */
  requests(): RecordedRequest[];
}

/** Runs `body` while a real worker (the real activities) polls `taskQueue`, then stops the worker. */
export async function withRealWorker<T>(env: TestWorkflowEnvironment, taskQueue: string, body: () => Promise<T>): Promise<T> {
  const worker = await createMtfWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    identity: 'integration-test-worker',
    activities: createActivities({ token: 'test-token', identity: 'integration-test-worker' }),
    stickyQueueScheduleToStartTimeoutMs: 1_000,
    // A test ends its loop before its worker: nothing is left for a long grace time to wait for.
    shutdownGraceTimeMs: 2_000,
  });
  return worker.runUntil(body);
}

export interface RunningWorker {
  taskQueue: string;
  /** Shuts the worker down (when it still runs) and waits for it to end. */
  stop(): Promise<void>;
}

/**
 * A real worker (the real activities) polling a fresh task queue until `stop()`: for the loops of a
 * whole file, started in its dev stack's `started` hook and stopped in its `beforeClose`.
 */
export async function startRealWorker(env: TestWorkflowEnvironment, identity: string): Promise<RunningWorker> {
  const taskQueue = uniqueId('tq');
  const worker = await createMtfWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    identity,
    activities: createActivities({ token: 'test-token' }),
  });
  const done = worker.run();
  return {
    taskQueue,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/** Terminates the loops a test started, one by one; a loop already closed (or never started) is passed over. */
export async function terminateLoops(env: TestWorkflowEnvironment, workflowIds: Iterable<string>, reason = 'test over'): Promise<void> {
  for (const id of workflowIds)
    await env.client.workflow
      .getHandle(id)
      .terminate(reason)
      .catch(() => undefined);
}

/** A worker answers get_status in milliseconds; ten seconds is a worker that will not. */
const STATUS_TIMEOUT_MS = 10_000;

/** Starts a worker and a loop on a fresh task queue, runs `body`, then ends the loop and the worker. */
export async function runRealLoop<T>(
  env: TestWorkflowEnvironment,
  sim: Simulator,
  config: LoopConfigInput,
  body: (loop: RealLoop) => Promise<T>,
  workflowId = uniqueId('loop'),
): Promise<T> {
  const taskQueue = uniqueId('tq');
  return withRealWorker(env, taskQueue, async () => {
    const before = sim.runRequests().length;
    await startLoop(env.client, { taskQueue, workflowId, config: { mtf_url: sim.runUrl, ...config } });
    // Bounded: a query the worker does not answer (seen once in a full run under load) is a failed
    // read that waitFor retries and reports, not a wait that holds the test, its worker and CI.
    const status = () => boundedStatus(env.client, workflowId, STATUS_TIMEOUT_MS);
    const loop: RealLoop = {
      workflowId,
      taskQueue,
      status,
      afterRequests: async (n) => {
        await sim.waitForRunRequests(before + n, 30_000);
        return status();
      },
      requests: () => sim.runRequests().filter((r) => r.idempotency_key?.startsWith(`${workflowId}/`)),
    };
    try {
      return await body(loop);
    } finally {
      await terminateLoops(env, [workflowId]);
    }
  });
}
