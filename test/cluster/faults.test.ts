/**
 * Faults of a production-shaped Temporal under a running loop (cluster.ts: the real server on
 * PostgreSQL, its services as separate processes): SIGKILL of the history, matching and frontend
 * services in the middle of an MTF call, each started again; PostgreSQL restarted under a call;
 * the history service down while the loop waits, with what `status` says then; and the worker
 * killed while a second one polls the same task queue. After each, the loop's counters are
 * reconciled with the Idempotency-Keys the simulator received: no cycle lost, none run twice.
 * Each fault's figures (how long the service was down, how long the loop waited for its next
 * cycle) are printed, and written for docs/performance.md's cluster block.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import type { RecordedRequest } from '../../src/simulator/server';
import type { LoopStatus, LoopSummary } from '../../src/shared/status';
import { projectRoot } from '../../src/toolchain/binaries';
import type { Followed } from '../../harness/processes';
import { describeRun, waitFor } from '../helpers/processes';
import { requestsOf } from '../../harness/requests';
import { assertExact, iterationOf, reconcile, startRig, type Rig } from './rig';

const LOOP = 'cluster-faults';
/** Each call takes this long, so a fault made on its arrival finds it in flight. */
const CALL_LATENCY_MS = 500;
/** Bounds each wait on the loop: the slowest recovery seen on 2 cores is about 15 s. */
const RECOVERY_MS = 90_000;

interface FaultFigures {
  fault: string;
  /** The iteration whose call was in flight when the fault was made (between calls: the last one done). */
  iteration: number;
  /** From the fault to the restart's readiness. */
  downMs: number;
  /** From the fault to the next cycle's request at the app. */
  waitedMs: number;
  /** Once settled: the cycles the loop counted (all succeeded), and what the app's log holds for it. */
  counted: number;
  appIterations: number;
  appRequests: number;
}
const figures: FaultFigures[] = [];
const FIGURES_FILE = join(projectRoot(), 'dist', 'test-figures', 'cluster-faults.json');

/** Reconciles the settled loop with the app's log, and keeps the figures for the report. */
function settle(
  settled: LoopStatus,
  fault: string,
  timing: Omit<FaultFigures, 'fault' | 'counted' | 'appIterations' | 'appRequests'>,
): FaultFigures {
  const r = reconcile(rig.sim, LOOP);
  assertExact(settled, r, fault);
  const result = { fault, ...timing, counted: settled.counters.cycles, appIterations: r.iterations, appRequests: r.requests };
  figures.push(result);
  return result;
}

let rig: Rig;
let first: Followed;
before(async () => {
  rig = await startRig({ taskQueue: 'cluster-faults', behaviour: { latency_ms: CALL_LATENCY_MS } });
  first = await rig.startWorker('faults-a');
});
after(async () => {
  // For docs/performance.md's cluster block (scripts/performance-doc.mjs cluster, run by .ci/run).
  mkdirSync(dirname(FIGURES_FILE), { recursive: true });
  writeFileSync(FIGURES_FILE, `${JSON.stringify({ finished_at: new Date().toISOString(), figures }, null, 2)}\n`);
  for (const f of figures) {
    console.log(
      `fault: ${f.fault}; at iteration ${f.iteration}; down ${f.downMs} ms; next cycle ${f.waitedMs} ms after the fault; ${f.counted} cycles counted, ${f.appIterations} keys and ${f.appRequests} requests at the app`,
    );
  }
  await rig?.close();
});

function until(check: (s: LoopStatus) => boolean, what: string): Promise<LoopStatus> {
  return waitFor(() => rig.status(LOOP), check, what, RECOVERY_MS);
}

/** The n-th run request (1-based) once it has reached the simulator. */
async function request(n: number): Promise<RecordedRequest> {
  const all = await rig.sim.waitForRunRequests(n, RECOVERY_MS);
  return all[n - 1] as RecordedRequest;
}

/**
 * Makes a fault while a call is in flight: `down` when the next request reaches the app, `up` once
 * the app has answered it (so the worker's report of the call meets the fault), then waits for two
 * more cycles and reconciles.
 */
async function underFault(fault: string, down: () => Promise<void>, up: () => Promise<void>): Promise<FaultFigures> {
  const seen = requestsOf(rig.sim, LOOP).length;
  const inFlight = await request(seen + 1);
  const faultAt = Date.now();
  await down();
  await waitFor(
    () => Promise.resolve(inFlight.status),
    (status) => status !== null,
    `the app to answer iteration ${iterationOf(inFlight.idempotency_key ?? '')}`,
    RECOVERY_MS,
  );
  await up();
  const upAt = Date.now();
  const next = await request(seen + 2);
  const iteration = iterationOf(inFlight.idempotency_key ?? '');
  const settled = await until((s) => s.counters.cycles >= iteration + 2, `two cycles after the ${fault}`);
  return settle(settled, fault, { iteration, downMs: upAt - faultAt, waitedMs: next.received_at - faultAt });
}

void describe('faults of the real server under a running loop', () => {
  test('the loop runs on the first worker', async () => {
    const started = await rig.cli('start', '--id', LOOP, '--url', rig.sim.runUrl, '--interval', '1s', '--notify', 'off');
    assert.equal(started.code, 0, describeRun(started));
    const s = await until((st) => st.counters.succeeded >= 3, 'three cycles');
    assertExact(s, reconcile(rig.sim, LOOP), 'before any fault');
  });

  test('SIGKILL of the history service mid-call, then its restart: the loop goes on, nothing lost or run twice', async () => {
    await underFault(
      'history SIGKILL',
      () => rig.cluster.kill('history'),
      () => rig.cluster.start('history'),
    );
  });

  test('SIGKILL of the matching service mid-call, then its restart: same', async () => {
    await underFault(
      'matching SIGKILL',
      () => rig.cluster.kill('matching'),
      () => rig.cluster.start('matching'),
    );
  });

  test('SIGKILL of the frontend mid-call, then its restart: same', async () => {
    await underFault(
      'frontend SIGKILL',
      () => rig.cluster.kill('frontend'),
      () => rig.cluster.start('frontend'),
    );
  });

  test('PostgreSQL restarted under a call (fast shutdown, started again): the loop resumes once it is back', async () => {
    await underFault(
      'PostgreSQL restart',
      () => rig.cluster.postgres.stop('fast'),
      () => rig.cluster.postgres.start(),
    );
  });

  test('PostgreSQL crashed under a call (immediate shutdown, WAL recovery on start): same', async () => {
    await underFault(
      'PostgreSQL crash',
      () => rig.cluster.postgres.stop('immediate'),
      () => rig.cluster.postgres.start(),
    );
  });

  test('the history service down while the loop waits: status says it is the server (exit 3), not the worker, health fails naming history; the loop goes on', async () => {
    const cycles = (await rig.status(LOOP)).counters.cycles;
    // Between calls: the loop waits on its timer, which the history service holds.
    const pausing = await until((s) => s.phase === 'pausing' && s.counters.cycles > cycles, 'the loop pausing after a cycle');
    const killedAt = Date.now();
    await rig.cluster.kill('history');
    const status = await rig.cli('status', LOOP);
    assert.equal(status.code, 3, describeRun(status));
    assert.match(
      status.stderr,
      new RegExp(
        `cannot reach Temporal at ${rig.cluster.address.replace(/\./g, '\\.')} \\(namespace default\\): loop ${LOOP} did not answer get_status within 10s`,
      ),
    );
    assert.match(
      status.stderr,
      /the Temporal server did not answer for the loop either \(DescribeWorkflowExecution: .*\): a server fault, its history service down or overloaded; 1 worker\(s\) poll its task queue \(cluster-faults\), so the worker is not the cause/,
    );
    const health = await rig.cli('health', '--temporal-only');
    assert.equal(health.code, 1, describeRun(health));
    assert.match(
      health.stdout,
      /^temporal +FAIL +127\.0\.0\.1:\d+ namespace default: the frontend answers, but its history service did not \(DescribeWorkflowExecution: /m,
    );
    const seen = requestsOf(rig.sim, LOOP).length;
    await rig.cluster.start('history');
    const downMs = Date.now() - killedAt;
    const next = await request(seen + 1);
    const settled = await until((s) => s.counters.cycles >= iterationOf(next.idempotency_key ?? '') + 1, 'a cycle after the restart');
    settle(settled, 'history SIGKILL between calls (status asked meanwhile)', {
      iteration: pausing.counters.cycles,
      downMs,
      waitedMs: next.received_at - killedAt,
    });
  });

  test('the history service down longer than the worker retries its report of a call: the retry finds the answer on the worker, nothing is sent twice', async () => {
    const seen = requestsOf(rig.sim, LOOP).length;
    const inFlight = await request(seen + 1);
    const faultAt = Date.now();
    const after = (text: string) => (line: string) =>
      line.includes(text) && Date.parse((JSON.parse(line) as { time: string }).time) >= faultAt;
    await rig.cluster.kill('history');
    // The SDK retries the report for about 10 s, then drops it: the call stays open on the server.
    await first.waitForLine(after('Network error while completing activity'), 'the worker to give up reporting the call', RECOVERY_MS);
    await rig.cluster.start('history');
    const upAt = Date.now();
    // Past its heartbeat timeout the server retries the call, on this worker, which has the answer.
    await first.waitForLine(after('the answer is returned, the run is not sent again'), 'the retry to find the answer', RECOVERY_MS);
    const next = await request(seen + 2);
    const iteration = iterationOf(inFlight.idempotency_key ?? '');
    const settled = await until((s) => s.counters.cycles >= iteration + 2, 'two cycles after the long history outage');
    settle(settled, 'history SIGKILL mid-call, down until the worker dropped its report', {
      iteration,
      downMs: upAt - faultAt,
      waitedMs: next.received_at - faultAt,
    });
  });

  test('a second worker on the same task queue while the first is killed: the loop moves over', async () => {
    const second = await rig.startWorker('faults-b');
    const cycles = (await rig.status(LOOP)).counters.cycles;
    // Between calls, so no call is cut: the loop's next workflow task waits on the killed worker's
    // sticky queue until its schedule-to-start timeout, then goes to the second worker.
    const pausing = await until((s) => s.phase === 'pausing' && s.counters.cycles > cycles, 'the loop pausing after a cycle');
    const seen = requestsOf(rig.sim, LOOP).length;
    const killedAt = Date.now();
    await first.stop('SIGKILL');
    const next = await request(seen + 1);
    const settled = await until((s) => s.counters.cycles >= iterationOf(next.idempotency_key ?? '') + 1, 'a cycle on the second worker');
    settle(settled, 'worker SIGKILL, a second worker polling', {
      iteration: pausing.counters.cycles,
      downMs: 0,
      waitedMs: next.received_at - killedAt,
    });
    const history = (await rig.client.workflow.getHandle(LOOP).fetchHistory()).events ?? [];
    const started = history.filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
    assert.equal(started.at(-1)?.activityTaskStartedEventAttributes?.identity, 'faults-b', 'the last call ran on the second worker');
    assert.equal(second.child.exitCode, null, 'the second worker still runs');
  });

  test('stop: the summary counts every cycle the app answered, once', async () => {
    const stopped = await rig.cli('stop', LOOP, '--json');
    assert.equal(stopped.code, 0, describeRun(stopped));
    const end = JSON.parse(stopped.stdout) as { how: string; summary: LoopSummary };
    assert.equal(end.how, 'stopped');
    const r = reconcile(rig.sim, LOOP);
    assert.deepEqual([r.duplicated, r.lost], [[], []]);
    assert.equal(end.summary.counters.succeeded, r.iterations, 'every cycle the app ran is counted, once');
    assert.equal(end.summary.iterations, r.iterations);
    assert.equal(end.summary.counters.failed + end.summary.counters.timed_out, 0);
  });
});
