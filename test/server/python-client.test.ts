/**
 * The original service's client, unchanged in what it sends: a Python script on the Temporal
 * Python SDK (test/python/original_client.py) starts a loop with its six-field dataclass, an
 * execution timeout and the original's test values (max_execution_time 60, ping_interval 10),
 * reads `get_status`, sends `continue_signal`, then `stop_signal`, and reads the summary. A real
 * dev server, the real worker in this process, the simulator.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { toolchainPythonPath } from '../../src/toolchain/binaries';
import { runToEnd } from '../helpers/processes';
import { withRealWorker } from '../helpers/real-loop';
import { uniqueId } from '../helpers/temporal';
import { useDevStack } from '../helpers/dev-stack';

const SCRIPT = join(__dirname, '..', '..', '..', 'test', 'python', 'original_client.py');

const stack = useDevStack();

interface Step {
  step: string;
  [key: string]: unknown;
}

test("the original's Python client starts its test configuration (max_execution_time 60), queries, signals and stops a loop", async () => {
  const taskQueue = uniqueId('py-tq');
  const workflowId = uniqueId('py-loop');
  const ran = await withRealWorker(stack.env, taskQueue, () =>
    runToEnd(toolchainPythonPath(), [SCRIPT], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: stack.env.address,
        TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
        TASK_QUEUE_NAME: taskQueue,
        WORKFLOW_ID: workflowId,
        MTF_URL: stack.sim.runUrl,
      },
      timeoutMs: 60_000,
    }),
  );
  assert.equal(ran.code, 0, `the script failed\nstdout: ${ran.stdout}\nstderr: ${ran.stderr}`);
  const steps = ran.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Step);
  assert.deepEqual(
    steps.map((s) => s.step),
    ['started', 'status', 'continued', 'stopped'],
  );
  const status = steps[1]?.status as {
    is_running: boolean;
    workflow_id: string;
    config: { max_execution_time: number; ping_interval: number; activity_timeout: number };
  };
  assert.equal(status.is_running, true);
  assert.equal(status.workflow_id, workflowId);
  assert.deepEqual(
    [status.config.max_execution_time, status.config.ping_interval, status.config.activity_timeout],
    [60, 10, 120],
    "the original's values, the attempt timeout left at its default",
  );
  // continue_signal cut the 10 s pause short: the second cycle came at once.
  assert.equal((steps[2]?.status as { current_iteration: number }).current_iteration, 2);
  const summary = steps[3]?.summary as { stop_reason: string; iterations: number; counters: { succeeded: number } };
  assert.equal(summary.stop_reason, 'original client done');
  assert.equal(summary.iterations, 2);
  assert.equal(summary.counters.succeeded, 2);
  const posts = stack.sim.runRequests().filter((r) => r.idempotency_key?.startsWith(`${workflowId}/`));
  assert.equal(posts.length, 2, 'one POST per cycle');
  assert.deepEqual((posts[0]?.body as { symbols?: unknown }).symbols, ['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT']);
});
