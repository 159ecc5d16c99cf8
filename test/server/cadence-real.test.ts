/**
 * The aligned cadence and pause / resume on a real `temporal server start-dev`, with the real
 * worker and the simulator: what the time-skipping server cannot show (it does not skip while an
 * activity runs, nor while a workflow task waits for a worker), and the real history's cost.
 * Periods are a few seconds, so beats come quickly.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { quietCycleCosts } from '../../harness/history';
import { loopStatus, startLoop } from '../../src/client/loops';
import { beatsBetween } from '../../src/shared/cadence';
import { parseLoopConfig, type LoopConfigInput } from '../../src/shared/config';
import { pauseUpdate, resumeUpdate } from '../../src/shared/messages';
import { LOOP_STATE } from '../../src/shared/search-attributes';
import type { LoopStatus } from '../../src/shared/status';
import { waitFor } from '../helpers/processes';
import { runRealLoop, withRealWorker } from '../helpers/real-loop';
import { uniqueId, notifiedEvents, withoutNotifications } from '../helpers/temporal';
import { useDevStack } from '../helpers/dev-stack';

const EventType = temporal.api.enums.v1.EventType;

const stack = useDevStack({ server: { searchAttributes: true } });

const quick = (latency_ms = 0) => stack.sim.setBehaviour({ mode: 'sync', fault: 'none', fault_count: null, latency_ms });

/** ms past the last beat of `period` s + `offset` s. */
function pastBeat(at: string | number | undefined, period: number, offset = 0): number {
  assert.ok(at !== undefined);
  const p = period * 1000;
  return ((((typeof at === 'number' ? at : Date.parse(at)) - offset * 1000) % p) + p) % p;
}

/**
 * "About a second": the dev server's timer queue may fire a timer of a few seconds up to ~1 s late
 * (a 1 min beat fires within tens of ms), and a CI machine is loaded.
 */
function assertOnBeat(iso: string | number | undefined, period: number, offset: number, what: string): void {
  const late = pastBeat(iso, period, offset);
  assert.ok(late < 1500, `${what} (${iso}) starts about a second after its beat at most; it is ${late} ms past`);
}

function historyOf(workflowId: string) {
  return stack.env.client.workflow
    .getHandle(workflowId)
    .fetchHistory()
    .then((h) => h.events ?? []);
}

describe('aligned cadence on a real dev server', () => {
  test('each cycle starts within a second after its beat, and a quiet aligned cycle costs 11 events and 2 Actions', async () => {
    quick();
    const config: LoopConfigInput = { cadence: 'aligned', align_every: 3, align_offset: 1 };
    await runRealLoop(stack.env, stack.sim, config, async (loop) => {
      const s = await loop.afterRequests(5);
      const starts = loop.requests().map((r) => r.received_at);
      assert.ok(starts.length >= 5);
      starts.forEach((at, i) => assertOnBeat(at, 3, 1, `the POST of cycle ${i + 1}`));
      assert.equal(s.counters.missed_beats, 0);
      const costs = quietCycleCosts(await historyOf(loop.workflowId));
      assert.ok(costs.length >= 3, `${costs.length} quiet cycles`);
      assert.deepEqual(
        costs.map((c) => [c.events, c.actions]),
        costs.map(() => [11, 2]),
        'one activity and one timer per cycle, as in interval cadence',
      );
    });
  });

  test('a cycle longer than the period: the beats it let pass are counted, not queued, and the next cycle starts on a beat', async () => {
    quick(4_500);
    const config: LoopConfigInput = { cadence: 'aligned', align_every: 2, align_offset: 0, max_execution_time: 30, activity_timeout: 30 };
    await runRealLoop(stack.env, stack.sim, config, async (loop) => {
      const first = (await waitFor(loop.status, (x) => x.counters.cycles >= 1, 'cycle 1 recorded')).last_cycle;
      const s = await waitFor(loop.status, (x) => x.counters.cycles >= 2, 'cycle 2 recorded');
      const second = s.last_cycle;
      assert.ok(first && second?.iteration === 2);
      // The server's timers fire a little late, so how many beats a 4.5 s run spans is 2 or 3:
      // the count must be exactly the beats between the record's own start and end.
      const during = (c: { started_at: string; finished_at: string }) =>
        beatsBetween(parseLoopConfig(config), Date.parse(c.started_at), Date.parse(c.finished_at));
      assert.ok(during(first) >= 2, 'a 4.5 s run on a 2 s beat lets at least 2 beats pass');
      assert.equal(second.missed_beats, during(first), "cycle 2's record counts the beats cycle 1 let pass");
      assert.equal(s.counters.missed_beats, during(first) + during(second), 'and cycle 2 let more pass, counted at once');
      assertOnBeat(second.started_at, 2, 0, 'cycle 2');
      const [one, two] = loop.requests().map((r) => r.received_at);
      assert.ok((two ?? 0) - (one ?? 0) >= 4_500, 'no late run was squeezed in for the missed beats');
    });
    quick();
  });

  test('a worker down past its beat: the beats it slept through are missed, and the loop waits for the next one', async () => {
    quick();
    const taskQueue = uniqueId('tq');
    const workflowId = uniqueId('loop');
    await startLoop(stack.env.client, {
      taskQueue,
      workflowId,
      config: { mtf_url: stack.sim.runUrl, cadence: 'aligned', align_every: 2, align_offset: 0 },
    });
    try {
      const first = await withRealWorker(stack.env, taskQueue, () =>
        waitFor(
          () => loopStatus(stack.env.client, workflowId),
          (s) => s.counters.cycles >= 1 && s.phase === 'pausing',
          'cycle 1',
        ),
      );
      // No worker now: the beat's timer fires on the server and nobody runs the loop. Wait (bounded)
      // for the server's own word that it fired; then the event under test is time itself passing
      // (three more periods), so this one wait is on the clock.
      const fired = await waitFor(
        () => historyOf(workflowId),
        (events) => events.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED),
        'the timer of beat 2 to fire with no worker',
      );
      const firedAt = fired.find((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED)?.eventTime;
      const firedMs = Number(firedAt?.seconds ?? 0) * 1000 + (firedAt?.nanos ?? 0) / 1e6;
      await delay(Math.max(firedMs + 6_500 - Date.now(), 0));
      const s: LoopStatus = await withRealWorker(stack.env, taskQueue, () =>
        waitFor(
          () => loopStatus(stack.env.client, workflowId),
          (x) => x.counters.cycles >= 2,
          'cycle 2 on the new worker',
        ),
      );
      assert.ok(s.counters.missed_beats >= 3, `at least the 3 beats slept through are missed, got ${s.counters.missed_beats}`);
      assert.equal(s.last_cycle?.missed_beats, s.counters.missed_beats, "cycle 2's record counts them");
      assertOnBeat(s.last_cycle?.started_at, 2, 0, 'cycle 2');
      assert.ok(Date.parse(s.last_cycle?.started_at ?? '') > Date.parse(first.next_cycle_at ?? '') + 6_000, 'beat 2 was not run late');
    } finally {
      await stack.env.client.workflow
        .getHandle(workflowId)
        .terminate('test over')
        .catch(() => undefined);
    }
  });
});

describe('pause and resume on a real dev server', () => {
  test('paused: MtfLoopState says so with one upsert, no timer starts and nothing is sent until resume, and numbering goes on', async () => {
    quick();
    await runRealLoop(stack.env, stack.sim, { ping_interval: 0.2 }, async (loop) => {
      await loop.afterRequests(2);
      const handle = stack.env.client.workflow.getHandle(loop.workflowId);
      const answer = await handle.executeUpdate(pauseUpdate, { args: ['exchange maintenance'] });
      assert.match(answer, /^(paused|pauses after iteration \d+)$/);
      const paused = await waitFor(loop.status, (s) => s.phase === 'paused', 'paused');
      const stateWhilePaused = await waitFor(
        () => handle.describe(),
        (d) => d.typedSearchAttributes.get(LOOP_STATE) === 'paused',
        'MtfLoopState paused',
      );
      assert.equal(stateWhilePaused.typedSearchAttributes.get(LOOP_STATE), 'paused');
      const sentWhilePaused = loop.requests().length;
      assert.equal(sentWhilePaused, paused.counters.cycles, 'every POST sent was recorded before the hold');
      const listPaused = async () => {
        const found: string[] = [];
        for await (const w of stack.env.client.workflow.list({ query: `MtfLoopState = 'paused' AND WorkflowId = '${loop.workflowId}'` }))
          found.push(w.workflowId);
        return found;
      };
      assert.deepEqual(
        await waitFor(listPaused, (found) => found.length > 0, 'the list of paused loops'),
        [loop.workflowId],
        'found by its state',
      );

      assert.equal(await handle.executeUpdate(resumeUpdate), 'resumed: the next cycle starts now');
      await loop.afterRequests(sentWhilePaused + 2);
      const s = await waitFor(loop.status, (x) => x.counters.cycles >= paused.counters.cycles + 2, 'two cycles after resume');
      assert.equal(s.pause, null);
      assert.equal(s.counters.cycles, s.current_iteration, 'no iteration skipped or repeated');
      const keys = loop.requests().map((r) => Number(r.idempotency_key?.split('/').pop()));
      assert.deepEqual(
        keys,
        keys.map((_k, i) => i + 1),
        'Idempotency-Keys go on where they were',
      );

      const all = await historyOf(loop.workflowId);
      const events = withoutNotifications(all);
      const accepted = events
        .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
        .map((e) => Number(e.eventId));
      const [pauseAt, resumeAt] = accepted;
      assert.ok(pauseAt && resumeAt, 'pause and resume are in history as Updates');
      const inBetween = events.filter((e) => Number(e.eventId) > pauseAt && Number(e.eventId) < resumeAt);
      assert.equal(
        inBetween.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED).length,
        0,
        'no TimerStarted between the pause and the resume',
      );
      assert.equal(inBetween.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length, 0, 'no call');
      assert.deepEqual(
        notifiedEvents(all.filter((e) => Number(e.eventId) > pauseAt)),
        ['paused', 'resumed'],
        'one notify activity each way',
      );
      const upserts = events
        .filter((e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
        .map((e) => Number(e.eventId));
      assert.equal(upserts.filter((id) => id > pauseAt && id < resumeAt).length, 1, 'one upsert on the way in');
      assert.equal(upserts.filter((id) => id > resumeAt).length, 1, 'and one on the way out');
      assert.equal((await handle.describe()).typedSearchAttributes.get(LOOP_STATE), 'running');
    });
  });
});
