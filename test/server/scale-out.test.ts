/**
 * Scale-out: two worker processes (dist/src/worker/main.js, as a container runs it) on one task
 * queue, with distinct WORKER_IDENTITY, against one real `temporal server start-dev`, share 50 loops
 * on a 1 s beat calling the simulator over loopback. Every loop makes progress, both workers run
 * calls (the `identity` of the ActivityTaskStarted events in the histories), and no cycle reaches
 * the app twice: each Idempotency-Key `<workflow id>/<first run id>/<iteration>` is answered 200
 * exactly once. Then one worker gets SIGTERM while one of its calls is in flight: it waits for the
 * answer, reports the call completed and exits 0, and the survivor carries every loop on (the
 * leaver's loops after their sticky queue's schedule-to-start timeout, 10 s by default); no call is
 * retried.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { startLoop } from '../../src/client/loops';
import { type RecordedRequest } from '../../src/simulator/server';
import { spawnNode, type Followed } from '../../harness/processes';
import { uniqueId, withoutNotifications } from '../helpers/temporal';
import { useDevStack } from '../helpers/dev-stack';

const WORKER = join(__dirname, '..', '..', 'src', 'worker', 'main.js');
const EventType = temporal.api.enums.v1.EventType;
const LOOPS = 50;
/** Each call takes this long, so a SIGTERM finds calls in flight on the worker it stops. */
const CALL_LATENCY_MS = 250;
/** Bounds of the event-based waits below; the whole file takes ~25 s on 2 cores. */
const PROGRESS_TIMEOUT_MS = 30_000;
const IDENTITIES = ['scale-out-a', 'scale-out-b'] as const;

const workers = new Map<string, Followed>();
const stack = useDevStack({
  started: async () => {
    await Promise.all(IDENTITIES.map(startWorker));
  },
  simulator: { behaviour: { latency_ms: CALL_LATENCY_MS } },
  beforeClose: async () => {
    await Promise.all(
      [...loops.keys()].map((id) =>
        stack.env.client.workflow
          .getHandle(id)
          .terminate('test over')
          .catch(() => undefined),
      ),
    );
    await Promise.all([...workers.values()].map((w) => w.stop('SIGKILL')));
  },
});
const taskQueue = uniqueId('scale-out-tq');
/** workflow ID -> first run ID, as startLoop returned them. */
const loops = new Map<string, string>();
/** worker identity -> the loops all of whose calls it ran in the first test (eager activities follow the workflow's sticky worker). */
const pinned = new Map<string, Set<string>>();

function startWorker(identity: string): Promise<string> {
  const worker = spawnNode(WORKER, [], {
    TEMPORAL_ADDRESS: stack.env.address,
    TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
    TASK_QUEUE_NAME: taskQueue,
    WORKER_IDENTITY: identity,
    METRICS_ADDRESS: 'off',
    HEALTH_ADDRESS: 'off',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  });
  workers.set(identity, worker);
  return worker.waitForLine((l) => l.includes('"worker started"'), `worker ${identity} to start`);
}

/** Iteration of a key `<workflow id>/<first run id>/<iteration>`. */
function iterationOf(key: string): number {
  return Number(key.slice(key.lastIndexOf('/') + 1));
}

/** Workflow ID of a key `<workflow id>/<first run id>/<iteration>`. */
function loopOf(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

/** Waits, waking on each run request the simulator receives, for one that `match` accepts. */
async function untilRequest(
  match: (r: RecordedRequest) => boolean,
  what: string,
  timeoutMs = PROGRESS_TIMEOUT_MS,
): Promise<RecordedRequest> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = stack.sim.runRequests().find(match);
    if (found) return found;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await stack.sim.waitForRunRequests(stack.sim.runRequests().length + 1, left).catch(() => undefined);
  }
}

/** Per loop: the distinct iterations whose run request reached the simulator (answered or not yet). */
function iterationsSeen(): Map<string, Set<number>> {
  const seen = new Map<string, Set<number>>([...loops.keys()].map((id) => [id, new Set<number>()]));
  for (const r of stack.sim.runRequests()) {
    const key = r.idempotency_key ?? '';
    seen.get(loopOf(key))?.add(iterationOf(key));
  }
  return seen;
}

/**
 * Waits, waking on each run request the simulator receives, until `check` holds; fails after
 * `timeoutMs` naming the loops that lag.
 */
async function untilEveryLoop(
  check: (id: string, iterations: Set<number>) => boolean,
  what: string,
  timeoutMs = PROGRESS_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const lagging = () => [...iterationsSeen()].filter(([id, iterations]) => !check(id, iterations));
  while (lagging().length > 0) {
    const left = deadline - Date.now();
    if (left <= 0) {
      const late = lagging().map(([id, iterations]) => `${id}: ${iterations.size}`);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${late.length} loops lag (${late.slice(0, 5).join(', ')}...)`);
    }
    await stack.sim.waitForRunRequests(stack.sim.runRequests().length + 1, left).catch(() => undefined);
  }
}

interface StartedCall {
  workflowId: string;
  /** The worker that polled the call. */
  identity: string;
  /** The worker that reported it completed, if it has. */
  completedBy: string | undefined;
  attempt: number;
  at: number;
}

/** Every call started so far, from the histories: which worker polled it, and when. */
async function startedCalls(): Promise<StartedCall[]> {
  const histories = await Promise.all(
    [...loops.keys()].map(async (workflowId) => ({
      workflowId,
      events: withoutNotifications((await stack.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []),
    })),
  );
  return histories.flatMap(({ workflowId, events }) => {
    const completedBy = new Map(
      events
        .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
        .map((e) => [
          Number(e.activityTaskCompletedEventAttributes?.startedEventId),
          e.activityTaskCompletedEventAttributes?.identity ?? '',
        ]),
    );
    return events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
      .map((e) => ({
        workflowId,
        identity: e.activityTaskStartedEventAttributes?.identity ?? '',
        completedBy: completedBy.get(Number(e.eventId)),
        attempt: e.activityTaskStartedEventAttributes?.attempt ?? 0,
        at: Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6),
      }));
  });
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

void describe(`${LOOPS} loops on two worker processes sharing one task queue`, () => {
  test('every loop makes progress and both workers run calls', async (t) => {
    const startedAt = Date.now();
    const started = await Promise.all(
      Array.from({ length: LOOPS }, (_, i) =>
        startLoop(stack.env.client, {
          taskQueue,
          workflowId: uniqueId(`scale-out-${i}`),
          config: { mtf_url: stack.sim.runUrl, ping_interval: 1 },
        }),
      ),
    );
    for (const loop of started) loops.set(loop.workflowId, loop.runId);

    await untilEveryLoop((_, iterations) => iterations.size >= 3, `every loop's 3rd run request`);
    t.diagnostic(
      `${LOOPS} loops started and at 3 cycles each in ${Date.now() - startedAt} ms (${stack.sim.runRequests().length} run requests)`,
    );

    const calls = await startedCalls();
    const byWorker = countBy(calls, (c) => c.identity);
    t.diagnostic(`calls started per worker: ${JSON.stringify(byWorker)}`);
    assert.deepEqual(Object.keys(byWorker).sort(), [...IDENTITIES], 'only our two workers ran calls');
    for (const identity of IDENTITIES) {
      assert.ok(
        (byWorker[identity] ?? 0) >= calls.length / 10,
        `${identity} ran at least a tenth of the ${calls.length} calls: ${byWorker[identity]}`,
      );
    }
    for (const identity of IDENTITIES) {
      const own = [...loops.keys()].filter((id) => calls.filter((c) => c.workflowId === id).every((c) => c.identity === identity));
      pinned.set(identity, new Set(own));
    }
    t.diagnostic(`loops whose calls all ran on one worker: ${IDENTITIES.map((i) => `${i} ${pinned.get(i)!.size}`).join(', ')} of ${LOOPS}`);
  });

  test('one worker SIGTERMed in the middle of a call finishes it and exits 0; the survivor carries every loop on', async (t) => {
    const [survivor, leaving] = IDENTITIES;
    const itsLoops = pinned.get(leaving) ?? new Set<string>();
    // The moment one of its calls is in flight (sent, not answered yet), SIGTERM it.
    const call = await untilRequest(
      (r) => r.status === null && itsLoops.has(loopOf(r.idempotency_key ?? '')),
      `a call of a loop on ${leaving} in flight`,
    );
    const stoppedAt = Date.now();
    assert.equal(
      await workers.get(leaving)!.stop('SIGTERM'),
      0,
      `${leaving} exits 0 on SIGTERM\nstderr: ${workers.get(leaving)!.stderr()}`,
    );
    const exitedAt = Date.now();
    t.diagnostic(`${leaving}: SIGTERM during the call ${call.idempotency_key} to exit in ${exitedAt - stoppedAt} ms`);
    assert.equal(call.status, 200, 'the call in flight was answered to the worker, which waited for it');
    assert.equal(
      workers
        .get(leaving)!
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"worker stopped"')).length,
      1,
      `${leaving} logged "worker stopped"`,
    );

    const atExit = new Map([...iterationsSeen()].map(([id, iterations]) => [id, Math.max(0, ...iterations)]));
    await untilEveryLoop((id, iterations) => Math.max(0, ...iterations) >= atExit.get(id)! + 1, 'every loop to call again after the exit');
    // Per loop, how long after the exit its first call came: the leaver's loops move at once, but a
    // loop whose workflow task went to the leaver's sticky queue during its shutdown waits for that
    // queue's schedule-to-start timeout (10 s by default) before the survivor gets it.
    const resumedIn = [...loops.keys()].map((id) => {
      const first = stack.sim
        .runRequests()
        .find((r) => loopOf(r.idempotency_key ?? '') === id && iterationOf(r.idempotency_key ?? '') > atExit.get(id)!);
      return (first?.received_at ?? Date.now()) - exitedAt;
    });
    const late = resumedIn.filter((ms) => ms > 5_000);
    t.diagnostic(
      `after ${leaving} exited, every loop called again within ${Math.max(...resumedIn)} ms: ${LOOPS - late.length} within 5 s, ` +
        `${late.length} later (${late.map((ms) => `${ms} ms`).join(', ') || 'none'})`,
    );
    await untilEveryLoop(
      (id, iterations) => Math.max(0, ...iterations) >= atExit.get(id)! + 3,
      'every loop to run 3 more cycles after the exit',
    );
    t.diagnostic(`every loop 3 cycles on ${Date.now() - exitedAt} ms after ${leaving} exited`);

    const calls = await startedCalls();
    const afterExit = calls.filter((c) => c.at > exitedAt);
    assert.ok(afterExit.length >= 2 * LOOPS, `${afterExit.length} calls started after the exit`);
    assert.deepEqual(
      countBy(afterExit, (c) => c.identity),
      { [survivor]: afterExit.length },
      `only ${survivor} started calls after ${leaving} exited`,
    );
    const abandoned = calls.filter((c) => c.identity === leaving && c.completedBy !== leaving);
    assert.deepEqual(abandoned, [], `every call ${leaving} started, ${leaving} completed`);
    assert.deepEqual(
      calls.filter((c) => c.attempt !== 1),
      [],
      'no call was retried',
    );
  });

  test('no cycle ran twice: every Idempotency-Key was answered 200 exactly once, iterations without gaps', async () => {
    // End the loops first, then let the calls still in flight be answered.
    await Promise.all([...loops.keys()].map((id) => stack.env.client.workflow.getHandle(id).terminate('test over')));
    const requests = stack.sim.runRequests();
    const answered = requests.filter((r) => r.status === 200);
    assert.ok(answered.length >= LOOPS * 6, `${answered.length} run requests answered 200`);
    const timesAnswered = countBy(answered, (r) => r.idempotency_key ?? 'none');
    const twice = Object.entries(timesAnswered).filter(([, n]) => n !== 1);
    assert.deepEqual(twice, [], 'no key answered 200 more than once');
    assert.equal(requests.filter((r) => r.status !== 200 && r.status !== null).length, 0, 'no other answer than 200');

    for (const [workflowId, runId] of loops) {
      const keys = requests.map((r) => r.idempotency_key ?? '').filter((k) => k.startsWith(`${workflowId}/`));
      const iterations = keys.map(iterationOf).sort((a, b) => a - b);
      assert.ok(
        keys.every((k) => k === `${workflowId}/${runId}/${iterationOf(k)}`),
        `${workflowId}: keys are <id>/<first run id>/<iteration>`,
      );
      assert.deepEqual(
        iterations,
        Array.from({ length: iterations.length }, (_, i) => i + 1),
        `${workflowId}: iterations 1..N, each sent once`,
      );
    }
  });
});
