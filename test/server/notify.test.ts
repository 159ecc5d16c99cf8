/**
 * Notifications on transitions (MTF_NOTIFY_URL), end to end: a worker process with the URL in its
 * environment, a real dev server, the real simulator and a real HTTP receiver standing in for a
 * Slack webhook. Each test asserts what the human at the other end receives, and that nothing about
 * notifications delays, fails or leaks from the loop.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { continueLoop, loopStatus, pauseLoop, resumeLoop, startLoop, stopLoop, updateLoop } from '../../src/client/loops';
import { loopsSnapshot } from '../../src/dashboard/snapshot';
import type { LoopConfigInput } from '../../src/shared/config';
import type { Notification } from '../../src/shared/notifications';
import type { LoopStatus } from '../../src/shared/status';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { STOP_FLUSH_MS } from '../../src/workflows/notifier';
import { parseLines, sample, scrape } from '../helpers/observe';
import { freePort, spawnNode, type Followed } from '../../harness/processes';
import { describeRun, runToEnd, waitFor } from '../helpers/processes';
import { createDevServerEnv, uniqueId } from '../helpers/temporal';
import { deferred } from '../helpers/loop-harness';
import { WebhookReceiver, type Answer } from '../helpers/webhook-receiver';

const WORKER = join(__dirname, '..', '..', 'src', 'worker', 'main.js');
const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
/** The webhook's path, as Slack's carries its key: recognisable, so a leak anywhere is found by a text search. */
const SECRET_PATH = '/services/T0SECRET/B0SECRET/hook-SECRET-4c1d9e';
const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

let env: TestWorkflowEnvironment;
const cleanups: (() => Promise<unknown>)[] = [];

before(async () => {
  env = await createDevServerEnv();
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await env?.teardown();
});

interface Rig {
  sim: Simulator;
  receiver: WebhookReceiver;
  worker: Followed;
  taskQueue: string;
  metricsPort: number;
}

/** A simulator, a receiver that answers as `answer` says, and a worker process posting to it. */
async function rig(answer: Answer, workerEnv: NodeJS.ProcessEnv = {}): Promise<Rig> {
  const [sim, receiver, metricsPort] = await Promise.all([startSimulator(), WebhookReceiver.start(answer, SECRET_PATH), freePort()]);
  cleanups.push(
    () => sim.close(),
    () => receiver.close(),
  );
  const taskQueue = uniqueId('notify-tq');
  const worker = spawnNode(WORKER, [], {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: env.namespace ?? 'default',
    TASK_QUEUE_NAME: taskQueue,
    METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
    HEALTH_ADDRESS: 'off',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    MTF_NOTIFY_URL: receiver.url,
    ...workerEnv,
  });
  cleanups.push(() => worker.stop('SIGKILL'));
  await worker.waitForLine((l) => l.includes('"worker started"'), 'the worker to start');
  return { sim, receiver, worker, taskQueue, metricsPort };
}

async function start(r: Rig, config: LoopConfigInput): Promise<string> {
  const workflowId = uniqueId('notify-loop');
  await startLoop(env.client, { taskQueue: r.taskQueue, workflowId, config: { mtf_url: r.sim.runUrl, ...config } });
  return workflowId;
}

async function historyOf(workflowId: string): Promise<HistoryEvent[]> {
  return (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

function activityName(e: HistoryEvent): string | null | undefined {
  return e.activityTaskScheduledEventAttributes?.activityType?.name;
}

/** The real `mtf-ping-pong` binary against the test's server and the rig's task queue. */
async function cli(r: Rig, ...args: string[]): Promise<string> {
  return cliWith(r, {}, ...args);
}

async function cliWith(r: Rig, extraEnv: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const ran = await runToEnd(process.execPath, [CLI, ...args], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      TASK_QUEUE_NAME: r.taskQueue,
      MTF_URL: '',
      ...extraEnv,
    },
    timeoutMs: 30_000,
  });
  assert.equal(ran.code, 0, describeRun(ran, args.join(' ')));
  return ran.stdout;
}

/** The Slack texts received, in order. */
function texts(receiver: WebhookReceiver): string[] {
  return receiver.bodies<{ text: string }>().map((b) => b.text);
}

void describe('notifications on transitions', () => {
  test('each transition gives exactly one Slack message, a protection alert the loudest; quiet cycles none; the URL leaks nowhere', async () => {
    const r = await rig(() => 200);
    const id = await start(r, { continue_mode: 'signal', max_attempts: 1, ping_interval: 0.1 });
    const status = () => loopStatus(env.client, id);
    /** Signal mode: the loop waits after each cycle, so every transition is checked at a known point. */
    const cycle = async (n: number, behaviour: Parameters<Simulator['setBehaviour']>[0]): Promise<LoopStatus> => {
      r.sim.setBehaviour(behaviour);
      if (n > 1) await continueLoop(env.client, id);
      return waitFor(status, (s) => s.counters.cycles === n && s.phase === 'awaiting_continue', `cycle ${n}`);
    };
    const quiet = { fault: 'none', kill_switch_on: true, order_status: null, ready_share: 0.4 } as const;
    await cycle(1, quiet);
    await cycle(2, quiet);
    await r.receiver.waitFor((p) => p.length === 1, 'the started message');
    for (const n of [3, 4, 5]) await cycle(n, { ...quiet, fault: 'http500', fault_count: null });
    await cycle(6, quiet);
    await cycle(7, { ...quiet, kill_switch_on: false });
    await cycle(8, { ...quiet, kill_switch_on: false });
    await cycle(9, { ...quiet, ready_share: 1, order_status: 'critical_unprotected_position' });
    await updateLoop(env.client, id, { dry_run: false, confirm_live: true });
    const live = await cycle(10, { ...quiet, ready_share: 1, order_status: 'submitted' });
    assert.equal(live.last_cycle?.orders?.count.submitted, 5, 'the live cycle submitted an order per READY contract');
    await cycle(11, { ...quiet, ready_share: 0 });
    assert.equal(await pauseLoop(env.client, id, 'exchange maintenance'), 'paused');
    await waitFor(status, (s) => s.phase === 'paused', 'the pause to hold');
    await resumeLoop(env.client, id);
    await waitFor(status, (s) => s.phase === 'awaiting_continue' && !s.pause, 'the resume');
    const summary = await stopLoop(env.client, id, 'end of the test');
    assert.equal(summary.iterations, 11);

    const got = texts(r.receiver);
    const events = [
      'started',
      'FAILING',
      'recovered',
      'skipped by the app',
      'PROTECTION ALERT',
      'LIVE orders placed',
      'paused',
      'resumed',
      'stopped',
    ];
    assert.equal(got.length, events.length, `one message per transition, none for the quiet cycles 1, 2, 4, 8 and 11:\n${got.join('\n')}`);
    events.forEach((word, i) => assert.ok(got[i]?.includes(word), `message ${i + 1} is "${word}": ${got[i]}`));
    const [started, failing, recovered, skipped, alert, orders, paused, resumed, stopped] = got as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    assert.match(
      started,
      new RegExp(
        `^▶️ ${id}: started before its first cycle: dry run, every 0.1 s, waits for continue_signal, BTCUSDT, ETHUSDT, ADAUSDT, SOLUSDT, DOTUSDT$`,
      ),
    );
    assert.match(failing, new RegExp(`^🔴 ${id}: FAILING: 3 cycles in a row failed, iteration 5 failed: .*HTTP 500`));
    assert.match(recovered, /recovered: iteration 6 succeeded after 3 failed cycles; ready \w+USDT/);
    assert.match(skipped, /skipped by the app, iteration 7: .*kill switch/i);
    assert.match(
      alert,
      new RegExp(
        `^<!channel> 🚨 ${id}: PROTECTION ALERT: a position may be open without its stop-loss: \\w+USDT critical_unprotected_position .*\\(iteration 9, `,
      ),
    );
    assert.match(orders, /LIVE orders placed, iteration 10: 5 submitted \(\w+USDT submitted.* and 2 more\); ready /);
    assert.match(paused, /paused after iteration 11: exchange maintenance$/);
    assert.match(resumed, /resumed after iteration 11: the next cycle starts on continue_signal$/);
    assert.match(stopped, /stopped after iteration 11: end of the test; 11 cycles \(.*3 failed, 2 skipped\)$/);
    assert.ok(
      r.receiver.posts.every((p) => p.path === SECRET_PATH && p.contentType === 'application/json'),
      'each message went to the webhook as JSON',
    );

    const finalStatus = await status();
    assert.deepEqual(finalStatus.notifications, { sent: 9, failed: 0, no_endpoint: 0, waiting: 0, last_failure: null });
    assert.match(await cli(r, 'status', id), /^ {2}notifications +9 sent$/m);
    const history = await historyOf(id);
    const notifies = history.filter((e) => activityName(e) === 'notify');
    assert.equal(notifies.length, 9, 'one activity per message');
    const markers = history.filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED);
    assert.equal(markers.length, 1, 'the patch is marked once');

    // The URL is the worker's alone: not in history, status, logs, metrics or the dashboard's data.
    const metrics = await scrape(r.metricsPort);
    assert.equal(sample(metrics, 'mtf_notifications_total', { event: 'protection_alert', result: 'sent', taskQueue: r.taskQueue }), 1);
    const dashboard = JSON.stringify(await loopsSnapshot(env.client));
    assert.ok(dashboard.includes(id));
    const everything = [
      r.worker.stdout(),
      r.worker.stderr(),
      metrics,
      JSON.stringify(history),
      JSON.stringify(finalStatus),
      JSON.stringify(summary),
      dashboard,
    ];
    everything.forEach((text, i) => assert.ok(!text.includes('SECRET'), `the webhook URL leaked into output #${i}`));
    assert.ok(r.worker.stdout().includes('"notifications":"on (slack)"'), 'the worker says notifications are on, not where they go');
  });

  test('a receiver that answers 500 then 200 is retried and counted, the loop on its beat; the JSON format carries the fields, the group among them; a quiet cycle costs 11 events and 2 Actions', async () => {
    // The retry is answered only once the loop has run three cycles: it went on while the message waited.
    const retryAnswer = deferred<number>();
    const r = await rig((i) => (i === 0 ? 500 : i === 1 ? retryAnswer.promise : 200), {
      MTF_NOTIFY_FORMAT: 'json',
      MTF_NOTIFY_TIMEOUT: '9',
    });
    const id = await start(r, { ping_interval: 0.2, group: 'json-test' });
    const status = () => loopStatus(env.client, id);
    const [first, second] = await r.receiver.waitFor((p) => p.length === 2, 'the retry of the started message');
    assert.equal(first?.body, second?.body, 'the retry posts the same message');
    const meanwhile = await waitFor(status, (s) => s.counters.cycles >= 3, 'three cycles while the retry waits for its answer');
    assert.equal(meanwhile.notifications?.sent, 0);
    retryAnswer.resolve(200);
    // Four more cycles once the message is through: all of them quiet.
    const settled = await waitFor(status, (s) => s.notifications?.sent === 1, 'the message to be counted sent');
    assert.deepEqual([first?.answered, second?.answered], [500, 200]);
    await waitFor(status, (s) => s.counters.cycles >= settled.counters.cycles + 4, 'four quiet cycles after it');
    r.sim.setBehaviour({ ready_share: 1, order_status: 'critical_unprotected_position' });
    await r.receiver.waitFor((p) => p.length === 3, 'the protection alert');
    await stopLoop(env.client, id, 'json test');

    const history = await historyOf(id);
    const scheduled = history.flatMap((e, i) => (activityName(e) === 'callMtfRun' ? [i] : []));
    const byId = new Map(history.map((e) => [String(e.eventId), e]));
    const notifyDone = history.findIndex((e) => {
      const scheduled = byId.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
      return (
        e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && scheduled !== undefined && activityName(scheduled) === 'notify'
      );
    });
    assert.ok(scheduled.filter((i) => i < notifyDone).length >= 3, 'the loop ran its cycles while the message was retried');
    const quiet = scheduled.filter((i) => i > notifyDone).slice(0, 5);
    const perCycle = quiet.slice(1).map((at, i) => at - (quiet[i] ?? 0));
    assert.deepEqual(
      perCycle,
      perCycle.map(() => 11),
      `events per quiet cycle with notifications on: ${perCycle.join(', ')}`,
    );
    const between = history.slice(quiet[0], quiet.at(-1)).map((e) => e.eventType);
    const actions = between.filter((t) => t === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED || t === EventType.EVENT_TYPE_TIMER_STARTED);
    assert.equal(actions.length, 2 * perCycle.length, 'two billed Actions per quiet cycle: the call and the timer');

    const bodies = r.receiver.bodies<Notification>();
    for (const body of bodies)
      assert.deepEqual(Object.keys(body).sort(), [
        'at',
        'event',
        'fleet',
        'group',
        'iteration',
        'loop',
        'message',
        'orders',
        'outcome',
        'severity',
        'signals',
        'trades',
      ]);
    const [startedMsg, alertMsg, stoppedMsg] = [bodies[0], bodies[2], bodies[3]];
    assert.deepEqual(
      [startedMsg?.event, startedMsg?.iteration, startedMsg?.outcome, startedMsg?.loop, startedMsg?.severity],
      ['started', 0, null, id, 'info'],
    );
    assert.deepEqual([startedMsg?.fleet, startedMsg?.group], [null, 'json-test']);
    assert.ok(startedMsg?.message.startsWith(`▶️ [json-test] ${id}: started`), startedMsg?.message);
    assert.equal(alertMsg?.event, 'protection_alert');
    assert.equal(alertMsg?.severity, 'critical');
    assert.equal(alertMsg?.signals.length, 5);
    assert.ok(
      alertMsg?.signals.every((s) => /USDT$/.test(s.symbol) && s.timeframe && s.side),
      JSON.stringify(alertMsg?.signals),
    );
    assert.equal(alertMsg?.orders?.count.protection_failed, 5);
    assert.ok(!alertMsg?.message.startsWith('<!channel>'), 'the mention is Slack’s only');
    assert.equal(stoppedMsg?.event, 'stopped');
    assert.ok(Number.isFinite(Date.parse(stoppedMsg?.at ?? '')));

    const metrics = await scrape(r.metricsPort);
    assert.equal(sample(metrics, 'mtf_notification_attempt_failures_total', { taskQueue: r.taskQueue }), 1, 'the 500 is counted');
    assert.equal(sample(metrics, 'mtf_notifications_total', { event: 'started', result: 'sent', taskQueue: r.taskQueue }), 1);
    const retried = parseLines(r.worker.stdout()).find((l) => l.msg === 'notification failed; Temporal retries it');
    assert.equal(retried?.error, 'notification endpoint answered HTTP 500');
  });

  test('a receiver that never answers: the loop goes on, the failure is counted and logged, and stop completes within its bound', async () => {
    const r = await rig(() => 'hang', { MTF_NOTIFY_TIMEOUT: '0.3' });
    const id = await start(r, { ping_interval: 0.2 });
    const status = () => loopStatus(env.client, id);
    // Three tries of the started message, 0.3 s each, 2 s and 4 s apart: the loop runs all along.
    const given = await waitFor(status, (s) => (s.notifications?.failed ?? 0) === 1, 'the started message to be given up', 30_000);
    assert.ok(given.counters.cycles >= 4, `cycles went on meanwhile: ${given.counters.cycles}`);
    assert.equal(given.counters.succeeded, given.counters.cycles, 'no cycle failed for it');
    assert.equal(given.notifications?.last_failure, 'started, iteration 0: notification endpoint did not answer within 0.3 s');
    assert.equal(r.receiver.posts.length, 3, 'three tries');
    await stopLoop(env.client, id, 'deaf receiver');

    const history = await historyOf(id);
    const stopAt = history.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)?.eventTime;
    const endAt = history.at(-1)?.eventTime;
    assert.equal(history.at(-1)?.eventType, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    const waited = (Number(endAt?.seconds) - Number(stopAt?.seconds)) * 1000;
    // The stopped message is given up after its three tries (about 7 s): the stop ends then, well before its bound.
    assert.ok(waited < STOP_FLUSH_MS - 10_000, `stop completed ${waited} ms after the signal, when its last message was given up`);
    const failures = history
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)
      .map((e) => e.activityTaskFailedEventAttributes?.failure?.message);
    assert.deepEqual(
      failures,
      ['notification endpoint did not answer within 0.3 s', 'notification endpoint did not answer within 0.3 s'],
      'the started and stopped messages, each given up, in words without the URL',
    );
    const final = await status();
    assert.equal(final.notifications?.failed, 2);
    const shown = await cli(r, 'status', id);
    assert.match(shown, /^ {2}notifications +0 sent, 2 FAILED$/m);
    assert.match(shown, /^ {2}notify error +stopped, iteration \d+: notification endpoint did not answer within 0\.3 s$/m);
    const metrics = await scrape(r.metricsPort);
    assert.equal(sample(metrics, 'mtf_notifications_total', { event: 'stopped', result: 'failed', taskQueue: r.taskQueue }), 1);
    assert.equal(sample(metrics, 'mtf_notification_attempt_failures_total', { taskQueue: r.taskQueue }), 6);
    assert.ok(parseLines(r.worker.stdout()).some((l) => l.msg === 'notification not sent; the loop goes on' && l.workflow_id === id));
    for (const text of [JSON.stringify(history), r.worker.stdout(), r.worker.stderr(), metrics])
      assert.ok(!text.includes('SECRET'), 'the URL leaks nowhere');
  });

  test('a loop started with --notify off sends nothing and schedules no notify activity', async () => {
    const r = await rig(() => 200);
    const id = uniqueId('notify-off');
    r.sim.setBehaviour({ fault: 'http500', fault_count: null });
    await cliWith(r, { MTF_MAX_ATTEMPTS: '1' }, 'start', '--id', id, '--url', r.sim.runUrl, '--interval', '0.1', '--notify', 'off');
    assert.equal((await loopStatus(env.client, id)).config.notify, false);
    assert.match(await cli(r, 'status', id), /^ {2}notifications +off for this loop \(notify: false\)$/m);
    await waitFor(
      () => loopStatus(env.client, id),
      (s) => s.counters.failed >= 4,
      'the loop to be failing',
    );
    await stopLoop(env.client, id, 'quiet please');
    assert.equal(r.receiver.posts.length, 0);
    assert.equal((await historyOf(id)).filter((e) => activityName(e) === 'notify').length, 0);
  });
});
