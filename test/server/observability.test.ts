/**
 * What an operator sees: the worker's JSON logs, its Prometheus metrics, its health probes and
 * the loop's search attributes. The worker runs as its own process (the SDK runtime, with its
 * Prometheus exporter, is installed once per process), against a real dev server and the real
 * simulator; each assertion is something an operator would read or scrape.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { spawnDevServer, stopDevServer, waitUntilReady } from '../../src/cli/dev-processes';
import { temporalTarget } from '../../src/client/connection';
import { continueLoop, loopStatus, startLoop, stopLoop } from '../../src/client/loops';
import { loopsSnapshot } from '../../src/dashboard/snapshot';
import { createLogger } from '../../src/observability/logger';
import { DRY_RUN, LAST_OUTCOME, LOOP_STATE } from '../../src/shared/search-attributes';
import type { LoopStatus } from '../../src/shared/status';
import { startSimulator } from '../../src/simulator/server';
import { startWorker } from '../../src/worker/main';
import { parseLines, sample, scrape } from '../helpers/observe';
import { freePort, freePortPair, spawnNode, type Followed } from '../../harness/processes';
import { waitFor } from '../helpers/processes';
import { createDevServerEnv, uniqueId, withoutNotifications } from '../helpers/temporal';
import { useDevStack } from '../helpers/dev-stack';

const WORKER = join(__dirname, '..', '..', 'src', 'worker', 'main.js');
/** Recognisable, so a leak anywhere is found by a plain text search. */
const TOKEN = 'tok-SECRET-7f3a9c1e-do-not-log';
const EventType = temporal.api.enums.v1.EventType;

const stack = useDevStack({
  beforeClose: async () => {
    await Promise.all([...workers].map((w) => w.stop('SIGKILL')));
  },
});
const workers = new Set<Followed>();

function spawnWorker(extraEnv: NodeJS.ProcessEnv): Followed {
  const worker = spawnNode(WORKER, [], { LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...extraEnv });
  workers.add(worker);
  return worker;
}

/** Every PromQL expression of the Grafana dashboard in deploy/grafana. */
function grafanaExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'deploy', 'grafana', 'mtf-ping-pong.json'), 'utf8')) as {
    panels: { targets: { expr: string }[] }[];
    templating: { list: { query: unknown }[] };
  };
  const variables = dashboard.templating.list
    .map((v) => v.query)
    .filter((q): q is string => typeof q === 'string' && q.startsWith('label_values'));
  return [...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...variables];
}

/** A counter that appears only once an aligned loop misses a beat: the test of that checks the dashboard's use of it. */
const MISSED_BEATS = 'mtf_missed_beats_total';
/** Counters of a worker with MTF_NOTIFY_URL: test/server/notify.test.ts scrapes both from one. */
const ELSEWHERE = new Set([MISSED_BEATS, 'mtf_notifications_total', 'mtf_notification_attempt_failures_total']);

void describe('a worker process', () => {
  test('counts each cycle once across a worker restart and continue-as-new, logs JSON with the expected events, and never the token (nor do metrics, history, status or the dashboard)', async () => {
    const [metricsPort, healthPort] = await Promise.all([freePort(), freePort()]);
    const taskQueue = uniqueId('obs-tq');
    const workflowId = uniqueId('obs-loop');
    const workerEnv = {
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
      TASK_QUEUE_NAME: taskQueue,
      METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      HEALTH_ADDRESS: `127.0.0.1:${healthPort}`,
      MTF_API_TOKEN: TOKEN,
    };
    const status = () => loopStatus(stack.env.client, workflowId);
    /** Signal mode: the loop stops after each cycle until it is told to go on, so counts are exact at every read. */
    const cycleDone = (n: number) =>
      waitFor(status, (s) => s.counters.cycles === n && s.phase === 'awaiting_continue', `cycle ${n} to be recorded`);

    const first = spawnWorker(workerEnv);
    await first.waitForLine((l) => l.includes('"worker started"'), 'the first worker to start');
    // The first attempt of the first cycle meets a 500: a retry, and a failure line, to log and count.
    stack.sim.setBehaviour({ mode: 'sync', fault: 'http500', fault_count: 1, latency_ms: 0, order_status: 'simulated' });
    const started = await startLoop(stack.env.client, {
      taskQueue,
      workflowId,
      config: {
        mtf_url: stack.sim.runUrl,
        continue_mode: 'signal',
        ping_interval: 0.1,
        max_cycles_per_run: 3,
        retry_initial_interval: 0.1,
      },
    });
    assert.equal(started.searchAttributes, true);
    await cycleDone(1);
    for (let n = 2; n <= 4; n++) {
      await continueLoop(stack.env.client, workflowId);
      await cycleDone(n);
    }
    const beforeRestart = await status();
    assert.notEqual(beforeRestart.run_id, started.runId, 'the loop continued as new after 3 cycles');
    const loop = { workflow_id: workflowId };
    const firstMetrics = await scrape(metricsPort);
    assert.equal(sample(firstMetrics, 'mtf_cycles_finished_total', { outcome: 'succeeded', taskQueue }), 4);
    assert.equal(sample(firstMetrics, 'mtf_loop_cycles', { ...loop, outcome: 'succeeded' }), 4);
    assert.equal(sample(firstMetrics, 'mtf_loop_cycles', { ...loop, outcome: 'failed' }), 0);
    assert.equal(sample(firstMetrics, 'mtf_loop_iteration', loop), 4);
    assert.equal(sample(firstMetrics, 'mtf_loop_phase', { ...loop, phase: 'awaiting_continue' }), 1);
    const phasesAtOne = firstMetrics
      .split('\n')
      .filter((l) => l.startsWith('mtf_loop_phase{') && l.includes(`workflow_id="${workflowId}"`) && l.endsWith(' 1'));
    assert.equal(phasesAtOne.length, 1, `one phase at a time, continue-as-new included:\n${phasesAtOne.join('\n')}`);
    assert.equal(sample(firstMetrics, 'mtf_loop_success_ratio', loop), 1);
    assert.equal(sample(firstMetrics, 'mtf_loop_live', loop), 0);
    assert.equal(sample(firstMetrics, 'mtf_http_responses_total', { status_class: '5xx', taskQueue }), 1);
    assert.equal(sample(firstMetrics, 'mtf_http_responses_total', { status_class: '2xx', taskQueue }), 4);
    assert.equal(sample(firstMetrics, 'mtf_call_retries_total', { taskQueue }), 1);
    assert.equal(sample(firstMetrics, 'mtf_cycle_duration_seconds_count', { outcome: 'succeeded', taskQueue }), 4);
    assert.ok(
      (sample(firstMetrics, 'temporal_activity_schedule_to_start_latency_count', { task_queue: taskQueue }) ?? 0) >= 5,
      'the SDK’s own metrics are served beside ours',
    );

    // The shipped Grafana dashboard plots exactly what a worker serves.
    const used = new Set(grafanaExpressions().flatMap((expr) => [...expr.matchAll(/\b(?:mtf|temporal)_\w+/g)].map((m) => m[0])));
    assert.ok(used.size >= 8, `the dashboard queries: ${[...used].join(', ')}`);
    for (const name of [...used].filter((n) => !ELSEWHERE.has(n)))
      assert.match(firstMetrics, new RegExp(`^${name}[{ ]`, 'm'), `the dashboard's ${name} is scraped from the worker`);

    assert.equal(await first.stop('SIGTERM'), 0, 'the worker shuts down cleanly on SIGTERM');
    // The second worker reads the same token from a file, as a mounted secret.
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'mtf-token-')), 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const second = spawnWorker({ ...workerEnv, MTF_API_TOKEN: '', MTF_API_TOKEN_FILE: tokenFile });
    await second.waitForLine((l) => l.includes('"worker started"'), 'the second worker to start');
    await continueLoop(stack.env.client, workflowId);
    const fifth = await cycleDone(5);
    const secondMetrics = await scrape(metricsPort);
    // The new worker replayed four cycles and counted none of them; the loop's gauges carry on exactly.
    assert.equal(sample(secondMetrics, 'mtf_cycles_finished_total', { outcome: 'succeeded', taskQueue }), 1);
    assert.equal(sample(secondMetrics, 'mtf_loop_cycles', { ...loop, outcome: 'succeeded' }), fifth.counters.succeeded);
    assert.equal(fifth.counters.succeeded, 5);
    assert.equal(sample(secondMetrics, 'mtf_loop_iteration', loop), 5);

    const summary = await stopLoop(stack.env.client, workflowId, 'observability test');
    assert.equal(summary.iterations, 5);
    await second.waitForLine((l) => l.includes('"loop stopped"'), 'the stop to be logged');
    const finalStatus = JSON.stringify(await status()); // a closed loop's query needs a worker to answer it
    const dashboard = JSON.stringify(await loopsSnapshot(stack.env.client));
    assert.ok(dashboard.includes(workflowId), 'the dashboard lists the loop');
    assert.equal(await second.stop('SIGTERM'), 0);

    const lines = [...parseLines(first.stdout()), ...parseLines(second.stdout())];
    for (const line of lines) {
      assert.ok(
        typeof line.level === 'string' && typeof line.time === 'string' && typeof line.msg === 'string',
        `level, time and msg: ${JSON.stringify(line)}`,
      );
    }
    const ours = lines.filter((l) => l.workflow_id === workflowId);
    const events = new Set(ours.map((l) => l.msg));
    for (const event of [
      'loop started',
      'cycle started',
      'MTF run answered',
      'MTF call failed',
      'MTF call retried by Temporal; the previous attempt failed',
      'cycle finished',
      'continue_signal received',
      'continuing as new',
      'loop continued as new',
      'stop_signal received',
      'loop stopped',
    ]) {
      assert.ok(events.has(event), `the log has "${event}"; it has: ${[...events].join(' | ')}`);
    }
    assert.equal(lines.filter((l) => l.msg === 'worker started').length, 2);
    assert.equal(lines.filter((l) => l.msg === 'worker stopped').length, 2);
    const answered = ours.filter((l) => l.msg === 'MTF run answered');
    assert.equal(answered.length, 5, 'one line per answered call');
    for (const line of answered) {
      for (const key of ['iteration', 'attempt', 'http_status', 'latency_ms', 'mtf_run_id', 'idempotency_key'])
        assert.ok(line[key] !== undefined, `"${key}" in ${JSON.stringify(line)}`);
    }
    const failed = ours.find((l) => l.msg === 'MTF call failed');
    assert.equal(failed?.http_status, 500);
    assert.equal(failed?.iteration, 1);
    assert.deepEqual(
      ours.filter((l) => l.msg === 'cycle finished').map((l) => [l.iteration, l.outcome]),
      [1, 2, 3, 4, 5].map((i) => [i, 'succeeded']),
      'each cycle is logged once, replays included',
    );

    // The token reached the app, and nothing else: not the logs, the metrics, the history or the status.
    const sent = stack.sim.runRequests().filter((r) => r.idempotency_key?.startsWith(`${workflowId}/`));
    assert.equal(sent.length, 6, 'one 500, then five cycles');
    assert.ok(
      sent.every((r) => r.authorization === `Bearer ${TOKEN}`),
      'both workers, from env and from file, sent the token to the app',
    );
    const history = JSON.stringify(await stack.env.client.workflow.getHandle(workflowId).fetchHistory());
    const everything = [
      first.stdout(),
      first.stderr(),
      second.stdout(),
      second.stderr(),
      firstMetrics,
      secondMetrics,
      history,
      finalStatus,
      JSON.stringify(summary),
      dashboard,
    ];
    everything.forEach((text, i) => assert.ok(!text.includes(TOKEN), `the token leaked into output #${i}`));
  });

  test('an aligned loop whose cycles outlast its period counts the beats they let pass in mtf_missed_beats_total, as its status does', async () => {
    const metricsPort = await freePort();
    const taskQueue = uniqueId('beats-tq');
    const workflowId = uniqueId('beats-loop');
    // Each run takes 4 s on a 3 s beat: every cycle lets a beat or two pass. Not a 1 s beat: on a busy
    // machine a timer fires more than half a period late and misses a beat before the first cycle,
    // which the metric does not count (visibility.ts takes its first announcement as the baseline).
    const slow = await startSimulator({ behaviour: { latency_ms: 4000 } });
    const worker = spawnWorker({
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default',
      TASK_QUEUE_NAME: taskQueue,
      METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      HEALTH_ADDRESS: 'off',
    });
    try {
      await worker.waitForLine((l) => l.includes('"worker started"'), 'the worker to start');
      await startLoop(stack.env.client, {
        taskQueue,
        workflowId,
        config: { mtf_url: slow.runUrl, cadence: 'aligned', align_every: 3, align_offset: 0, max_execution_time: 10 },
      });
      const status = () => loopStatus(stack.env.client, workflowId);
      // The status read on both sides of the scrape: a cycle recorded in between is sampled again.
      const read = async () => ({ before: await status(), metrics: await scrape(metricsPort), after: await status() });
      const seen = await waitFor(
        read,
        (r) => r.before.counters.missed_beats >= 2 && r.before.counters.missed_beats === r.after.counters.missed_beats,
        'two missed beats, stable across a scrape',
        60_000,
      );
      assert.equal(
        sample(seen.metrics, MISSED_BEATS, { taskQueue }),
        seen.before.counters.missed_beats,
        `the counter is the loop’s own count: ${JSON.stringify({ counters: seen.before.counters, last: seen.before.last_cycle, points: seen.before.recent_cycles, metrics: seen.metrics.split('\n').filter((l) => l.startsWith(MISSED_BEATS)) })}`,
      );
      assert.ok(
        grafanaExpressions().some((expr) => expr.includes(`increase(${MISSED_BEATS}[`)),
        'the Grafana dashboard plots it',
      );
      await stack.env.client.workflow.getHandle(workflowId).terminate('test over');
      assert.equal(await worker.stop('SIGTERM'), 0);
    } finally {
      await stack.env.client.workflow
        .getHandle(workflowId)
        .terminate()
        .catch(() => undefined);
      await slow.close();
    }
  });

  test('/readyz turns unready when Temporal goes away and ready when it returns; /healthz stays up', async () => {
    const [temporalPort, healthPort] = await Promise.all([freePortPair(), freePort()]);
    const dataDir = mkdtempSync(join(tmpdir(), 'mtf-ready-'));
    const address = { host: '127.0.0.1', port: temporalPort };
    const target = temporalTarget({ address: `127.0.0.1:${temporalPort}` }, {});
    let server = spawnDevServer(dataDir, address);
    try {
      assert.ok(await waitUntilReady(server, target), 'the dev server starts');
      const worker = spawnWorker({
        TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
        METRICS_ADDRESS: 'off',
        HEALTH_ADDRESS: `127.0.0.1:${healthPort}`,
        TASK_QUEUE_NAME: uniqueId('ready-tq'),
      });
      const probe = async (path: string) => (await fetch(`http://127.0.0.1:${healthPort}${path}`)).status;
      await waitFor(
        () => probe('/readyz'),
        (code) => code === 200,
        'ready',
      );

      await stopDevServer(server);
      await waitFor(
        () => probe('/readyz'),
        (code) => code === 503,
        'unready with Temporal gone',
      );
      assert.equal(await probe('/healthz'), 200, 'the process is alive all along');

      server = spawnDevServer(dataDir, address);
      assert.ok(await waitUntilReady(server, target), 'the dev server starts again on the same port and database');
      await waitFor(
        () => probe('/readyz'),
        (code) => code === 200,
        'ready again',
        60_000,
      );
      assert.equal(await probe('/nope'), 404);
      assert.equal(await worker.stop('SIGTERM'), 0);
    } finally {
      await stopDevServer(server);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

void describe('search attributes on a namespace without them', () => {
  let bare: TestWorkflowEnvironment;
  before(async () => {
    bare = await createDevServerEnv({ searchAttributes: false });
  });
  after(async () => {
    await bare?.teardown();
  });

  test('the worker says how to register them and runs the loop without them; with REQUIRE_SEARCH_ATTRIBUTES it refuses to start', async () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'json', write: (line) => lines.push(line) });
    const target = { ...temporalTarget({ address: bare.address }, {}), taskQueue: uniqueId('bare-tq') };
    const settings = { identity: 'bare-test-worker', token: null, requireSearchAttributes: false, healthAddress: null };
    const running = await startWorker(target, settings, logger);
    try {
      const warning = parseLines(lines.join('')).find((l) => l.level === 'warn' && /not registered/.test(l.msg));
      assert.ok(warning, `a warning line: ${lines.join('')}`);
      assert.match(
        warning.msg,
        /temporal operator search-attribute create --namespace default --name MtfLoopState --name MtfLastOutcome --name MtfDryRun --name MtfFleet --name MtfGroup --type Keyword --type Keyword --type Bool --type Keyword --type Keyword/,
      );

      const workflowId = uniqueId('bare-loop');
      const startedAt = stack.sim.runRequests().length;
      stack.sim.setBehaviour({ mode: 'sync', fault: 'none', fault_count: null, latency_ms: 0 });
      const started = await startLoop(bare.client, {
        taskQueue: target.taskQueue,
        workflowId,
        config: { mtf_url: stack.sim.runUrl, ping_interval: 0.1 },
      });
      assert.equal(started.searchAttributes, false);
      const s: LoopStatus = await waitFor(
        () => loopStatus(bare.client, workflowId),
        (st) => st.counters.succeeded >= 2,
        'two cycles without search attributes',
      );
      assert.ok(stack.sim.runRequests().length - startedAt >= 2);
      const history = await bare.client.workflow.getHandle(workflowId).fetchHistory();
      // TemporalChangeVersion, the SDK's own upsert beside the notifications' patch marker, is a system attribute: always there.
      assert.equal(
        withoutNotifications(history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
          .length,
        0,
        'no upsert that would stall the loop',
      );
      const described = await bare.client.workflow.getHandle(workflowId).describe();
      for (const key of [LOOP_STATE, LAST_OUTCOME, DRY_RUN]) assert.equal(described.typedSearchAttributes.get(key), undefined);
      assert.equal(s.is_running, true);
      await stopLoop(bare.client, workflowId);
    } finally {
      running.worker.shutdown();
      await running.done;
    }

    await assert.rejects(
      startWorker(target, { ...settings, requireSearchAttributes: true }, logger),
      /lacks the search attributes MtfLoopState, MtfLastOutcome, MtfDryRun, MtfFleet, MtfGroup \(or has them with another type\); register them with: temporal operator search-attribute create/,
    );
  });
});
