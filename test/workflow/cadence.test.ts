/**
 * A trader's clock: cycles on beats (`cadence: aligned`), missed beats, and the `pause` / `resume`
 * Updates, on the time-skipping test server with scripted activities. (The test server does not
 * skip time while an activity runs, nor while a workflow task waits for a worker: a cycle longer
 * than the period and a worker down past its beat are tested on a real dev server in
 * test/server/cadence-real.test.ts.)
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { beatsBetween, cadenceText, cadenceWarnings, lateStartLimitMs, loopBeat, nextBeat, spreadMs } from '../../src/shared/cadence';
import { parseLoopConfig, type LoopConfigInput } from '../../src/shared/config';
import { parseWorkflowInput } from '../../src/shared/carried-state';
import { continueSignal, pauseUpdate, resumeUpdate, stopSignal, updateConfigUpdate } from '../../src/shared/messages';
import { emptyCounters, type LoopStatus, type LoopSummary } from '../../src/shared/status';
import { LoopState } from '../../src/workflows/loop-state';
import { heldActivities, scriptedActivities, succeed, withLoop } from '../helpers/loop-harness';
import { createTimeSkippingEnv, withoutNotifications } from '../helpers/temporal';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const MINUTE = 60_000;

/** How far past its beat (period, offset in seconds) a time falls, ms. */
function pastBeat(iso: string | null | undefined, period: number, offset: number): number {
  assert.ok(iso, 'a time is known');
  const ms = Date.parse(iso) - offset * 1000;
  return ((ms % (period * 1000)) + period * 1000) % (period * 1000);
}

function assertOnBeat(iso: string | null | undefined, period: number, offset: number, what: string): void {
  const late = pastBeat(iso, period, offset);
  assert.ok(late < 1000, `${what} (${iso}) starts within a second after a boundary of ${period} s + ${offset} s; it is ${late} ms past`);
}

const aligned = (align_every: number, align_offset = 2): LoopConfigInput => ({ cadence: 'aligned', align_every, align_offset });

function eventsOf(handle: WorkflowHandle) {
  return handle.fetchHistory().then((history) => history.events ?? []);
}

const timersStarted = (events: HistoryEvent[]) => events.filter((e) => e.timerStartedEventAttributes);
const updatesAccepted = (events: HistoryEvent[]) => events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);

describe('beats: n x period + offset from midnight UTC', () => {
  const config = parseLoopConfig(aligned(60, 2));
  const at = (iso: string) => Date.parse(iso);

  test('the next beat is the first boundary + offset strictly after the time given', () => {
    assert.equal(new Date(nextBeat(config, at('2026-12-02T10:15:30Z'))).toISOString(), '2026-12-02T10:16:02.000Z');
    assert.equal(
      new Date(nextBeat(config, at('2026-12-02T10:15:01Z'))).toISOString(),
      '2026-12-02T10:15:02.000Z',
      'before this minute’s offset: this minute',
    );
    assert.equal(
      new Date(nextBeat(config, at('2026-12-02T10:15:02Z'))).toISOString(),
      '2026-12-02T10:16:02.000Z',
      'on the beat: the next one',
    );
    const fourHours = parseLoopConfig(aligned(14_400, 5));
    assert.equal(
      new Date(nextBeat(fourHours, at('2026-12-02T10:15:30Z'))).toISOString(),
      '2026-12-02T12:00:05.000Z',
      '4h candles close at 0, 4, 8, 12, 16, 20 h UTC',
    );
    assert.equal(new Date(nextBeat(fourHours, at('2026-12-02T23:59:59Z'))).toISOString(), '2026-12-03T00:00:05.000Z', 'across midnight');
  });

  test('beats between two times: those that passed without a cycle', () => {
    assert.equal(
      beatsBetween(config, at('2026-12-02T10:15:02.300Z'), at('2026-12-02T10:15:40Z')),
      0,
      'a cycle that ends before the next beat misses none',
    );
    assert.equal(
      beatsBetween(config, at('2026-12-02T10:15:02.300Z'), at('2026-12-02T10:17:40Z')),
      2,
      ':16:02 and :17:02 passed during a 2.5 min cycle',
    );
    assert.equal(beatsBetween(config, at('2026-12-02T10:15:02Z'), at('2026-12-02T10:16:02Z')), 1, 'the end counts, the start does not');
  });

  test('a late wake still counts as on its beat up to half a period, at least 3 s (server timer latency), at most a minute', () => {
    assert.deepEqual(
      [5, 60, 300, 3600].map((every) => lateStartLimitMs(parseLoopConfig(aligned(every, 0)))),
      [3_000, 30_000, 60_000, 60_000],
    );
  });

  test('the clock in words, and the warning for a budget longer than the period', () => {
    assert.equal(cadenceText(parseLoopConfig({})), 'every 30 s');
    assert.equal(cadenceText(config), 'every 1m at :02');
    assert.equal(cadenceText(parseLoopConfig(aligned(300, 2))), 'every 5m at :00:02');
    assert.equal(cadenceText(parseLoopConfig(aligned(900, 90))), 'every 15m at :01:30');
    assert.equal(cadenceText(parseLoopConfig(aligned(14_400, 5))), 'every 4h at 00:00:05 UTC');
    assert.equal(cadenceText(parseLoopConfig(aligned(5, 1))), 'every 5s at +1s');
    assert.deepEqual(cadenceWarnings(config), [
      'the cycle budget (420 s) is longer than the period (60 s): a long cycle misses beats, which are counted, not queued',
    ]);
    assert.deepEqual(cadenceWarnings(parseLoopConfig({ ...aligned(900), max_execution_time: 420 })), []);
    assert.deepEqual(cadenceWarnings(parseLoopConfig({})), [], 'no beat, no warning');
  });
});

describe('align_spread: each loop its own point after the offset', () => {
  const ids = Array.from({ length: 1000 }, (_v, i) => `mtf-ping-pong-${i + 1}`);

  test('a point in [0, spread), the same for the same workflow ID, none without a spread', () => {
    const points = ids.map((id) => spreadMs(id, 25));
    assert.ok(points.every((ms) => Number.isInteger(ms) && ms >= 0 && ms < 25_000));
    assert.deepEqual(
      ids.map((id) => spreadMs(id, 25)),
      points,
      'the same ID, the same point: replay and restarts keep it',
    );
    assert.equal(spreadMs('mtf-ping-pong', 0), 0);
    assert.deepEqual(
      loopBeat(parseLoopConfig(aligned(60, 2)), 'mtf-ping-pong'),
      { align_every: 60, align_offset: 2 },
      'no spread: the beats of the config',
    );
    const beat = loopBeat(parseLoopConfig({ ...aligned(60, 2), align_spread: 10 }), 'mtf-ping-pong');
    assert.equal(beat.align_offset, 2 + spreadMs('mtf-ping-pong', 10) / 1000);
  });

  test('1,000 loops with consecutive IDs fill the span: every tenth of it holds 5 % to 15 % of them', () => {
    const tenths = new Array<number>(10).fill(0);
    for (const id of ids) tenths[Math.floor(spreadMs(id, 25) / 2_500)]! += 1;
    assert.ok(
      tenths.every((n) => n >= 50 && n <= 150),
      `loops per tenth of the spread: ${tenths.join(', ')}`,
    );
  });

  test('the clock in words says the spread, and the loop its own point', () => {
    const config = parseLoopConfig({ ...aligned(60, 2), align_spread: 10 });
    assert.equal(cadenceText(config), 'every 1m at :02 + up to 10 s');
    const match = /^every 1m at :02 \+ up to 10 s: this loop at :(\d\d(?:\.\d{1,3})?)$/.exec(cadenceText(config, 'mtf-ping-pong'));
    assert.ok(match, cadenceText(config, 'mtf-ping-pong'));
    assert.equal(Number(match[1]), 2 + spreadMs('mtf-ping-pong', 10) / 1000);
  });
});

describe('LoopState: a pause through continue-as-new', () => {
  test('a pause asked during a cycle is carried to the next run, and so is one in force', () => {
    const ids = { workflowId: 'w', runId: 'r', firstRunId: 'r' };
    const loop = new LoopState(parseLoopConfig({}), ids, undefined, 0);
    loop.beginCycle(1000);
    assert.equal(loop.requestPause('maintenance', 2000), 'pauses after iteration 1');
    assert.deepEqual(loop.nextInput().carried_state?.pause, {
      reason: 'maintenance',
      requested_at: '1970-01-01T00:00:02.000Z',
      since: null,
    });
    loop.holdPause(3000);
    const next = new LoopState(parseLoopConfig({}), ids, parseWorkflowInput(loop.nextInput()).carried_state, 4000);
    assert.deepEqual(next.pause, { reason: 'maintenance', requested_at: '1970-01-01T00:00:02.000Z', since: '1970-01-01T00:00:03.000Z' });
    assert.equal(next.requestPause(undefined, 5000), 'already paused since 1970-01-01T00:00:03.000Z');
  });
});

// A fresh test server per test, as in workflow.test.ts.
let env: TestWorkflowEnvironment;
beforeEach(async () => {
  env = await createTimeSkippingEnv();
});
afterEach(async () => {
  await env?.teardown();
});

describe('aligned cadence in skipped time', () => {
  for (const [period, offset] of [
    [60, 2],
    [300, 2],
    [900, 0],
    [3600, 30],
    [5, 1],
  ] as const) {
    test(`every ${period} s at +${offset} s: the first cycle waits for the first beat, then one cycle per beat, one timer each`, async () => {
      const { activities, calls } = scriptedActivities(succeed);
      await withLoop(env, activities, aligned(period, offset), async ({ handle, status, waitForStatus }) => {
        const waiting = await waitForStatus((s) => s.phase === 'pausing', 'the wait for the first beat');
        assert.equal(waiting.current_iteration, 0, 'nothing is sent before the first beat');
        assertOnBeat(waiting.next_cycle_at, period, offset, 'next_cycle_at');
        assert.ok(Date.parse(waiting.next_cycle_at ?? '') - Date.parse(waiting.started_at) <= period * 1000);
        await env.sleep(period * 1000 * 3);
        const s = await status();
        assert.ok(s.current_iteration >= 3, `three beats passed, iteration ${s.current_iteration}`);
        const starts = calls.length;
        assert.equal(starts, s.current_iteration);
        assertOnBeat(s.last_cycle?.started_at, period, offset, 'the last cycle');
        assertOnBeat(s.next_cycle_at, period, offset, 'the next cycle');
        assert.equal(
          Date.parse(s.next_cycle_at ?? '') - Date.parse(s.last_cycle?.started_at ?? '') <= period * 1000,
          true,
          'the next beat is the one after',
        );
        assert.equal(s.counters.missed_beats, 0, 'quick cycles miss no beat');
        assert.equal(s.last_cycle?.missed_beats, 0);
        const events = withoutNotifications(await eventsOf(handle));
        assert.equal(
          timersStarted(events).length,
          s.current_iteration + 1,
          'one timer per cycle (the first beat included), and the one running',
        );
        assert.equal(events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes).length, 0, 'no upsert');
      });
    });
  }

  test('align_spread: the loop keeps its own point after the offset, one timer per cycle as without', async () => {
    const { activities, calls } = scriptedActivities(succeed);
    await withLoop(env, activities, { ...aligned(60, 2), align_spread: 30 }, async ({ handle, status, waitForStatus }) => {
      const offset = 2 + spreadMs(handle.workflowId, 30) / 1000;
      const waiting = await waitForStatus((s) => s.phase === 'pausing', 'the wait for the first beat');
      assertOnBeat(waiting.next_cycle_at, 60, offset, 'next_cycle_at');
      assert.equal(pastBeat(waiting.next_cycle_at, 60, offset), 0, 'to the millisecond');
      await env.sleep(3 * MINUTE);
      const s = await status();
      assert.ok(s.current_iteration >= 3 && calls.length === s.current_iteration, `three beats passed, iteration ${s.current_iteration}`);
      assertOnBeat(s.last_cycle?.started_at, 60, offset, 'the last cycle');
      assert.equal(s.counters.missed_beats, 0);
      const events = withoutNotifications(await eventsOf(handle));
      assert.equal(timersStarted(events).length, s.current_iteration + 1, 'one timer per cycle, as without a spread');
    });
  });

  test('signal mode with alignment: waits for continue_signal, then for the next beat; beats while gated are not missed', async () => {
    const { activities } = scriptedActivities(succeed);
    await withLoop(env, activities, { continue_mode: 'signal', ...aligned(60) }, async ({ handle, status, waitForStatus }) => {
      await env.sleep(MINUTE + 1000);
      const gated = await waitForStatus((s) => s.phase === 'awaiting_continue', 'the gate after cycle 1');
      assertOnBeat(gated.last_cycle?.started_at, 60, 2, 'cycle 1');
      await env.sleep(150_000);
      assert.equal((await status()).current_iteration, 1, 'gated for 2.5 min');
      await handle.signal(continueSignal);
      const waiting = await waitForStatus((s) => s.phase === 'pausing', 'the wait for the beat after the continue');
      assertOnBeat(waiting.next_cycle_at, 60, 2, 'the beat after the continue');
      await env.sleep(MINUTE);
      const s = await waitForStatus((x) => x.current_iteration === 2 && x.phase === 'awaiting_continue', 'cycle 2');
      assertOnBeat(s.last_cycle?.started_at, 60, 2, 'cycle 2');
      assert.equal(s.counters.missed_beats, 0, 'the operator held the loop: no beat was missed');
    });
  });

  test('a continue_signal mid-wait starts a cycle at once; the wait after it is for the next beat', async () => {
    const { activities } = scriptedActivities(succeed);
    await withLoop(env, activities, aligned(900), async ({ handle, waitForStatus }) => {
      const waiting = await waitForStatus((s) => s.phase === 'pausing', 'the wait for the first beat');
      await handle.signal(continueSignal);
      const s = await waitForStatus((x) => x.current_iteration === 1 && x.phase === 'pausing', 'cycle 1, started by the signal');
      assert.ok(Date.parse(s.last_cycle?.started_at ?? '') < Date.parse(waiting.next_cycle_at ?? ''), 'it did not wait for the beat');
      assertOnBeat(s.next_cycle_at, 900, 2, 'the next cycle');
    });
  });

  test('update_config switching to aligned applies from the next cycle: that cycle is the last on the interval', async () => {
    const { activities } = scriptedActivities(succeed);
    await withLoop(env, activities, {}, async ({ handle, status, waitForStatus }) => {
      await waitForStatus((s) => s.phase === 'pausing', 'the pause after cycle 1');
      await handle.executeUpdate(updateConfigUpdate, { args: [aligned(300)] });
      await env.sleep(31_000);
      const second = await waitForStatus((s) => s.current_iteration === 2 && s.phase === 'pausing', 'cycle 2, on the interval');
      assert.equal(second.config.cadence, 'aligned', 'in force from cycle 2');
      assertOnBeat(second.next_cycle_at, 300, 2, 'cycle 3');
      await env.sleep(300_000);
      assertOnBeat((await status()).last_cycle?.started_at, 300, 2, 'cycle 3');
    });
  });
});

describe('pause and resume in skipped time', () => {
  test('between cycles: paused at once, no cycle and no timer until resume, then the next cycle at once (interval)', async () => {
    const { activities, calls } = scriptedActivities(succeed);
    await withLoop(env, activities, {}, async ({ handle, status, waitForStatus }) => {
      await waitForStatus((s) => s.phase === 'pausing', 'the pause after cycle 1');
      assert.equal(await handle.executeUpdate(pauseUpdate, { args: ['exchange maintenance'] }), 'paused');
      const paused = await waitForStatus((s) => s.phase === 'paused', 'paused');
      assert.equal(paused.pause?.reason, 'exchange maintenance');
      assert.ok(paused.pause?.since);
      assert.equal(paused.next_cycle_at, null);
      await env.sleep(3_600_000);
      assert.equal((await status()).current_iteration, 1, 'an hour paused: nothing sent');
      await handle.signal(continueSignal);
      assert.equal((await status()).phase, 'paused', 'continue_signal does not resume');
      assert.equal(await handle.executeUpdate(resumeUpdate), 'resumed: the next cycle starts now');
      const s = await waitForStatus((x) => x.current_iteration === 2 && x.phase === 'pausing', 'cycle 2');
      assert.equal(s.pause, null);
      assert.ok(Date.parse(s.last_cycle?.started_at ?? '') - Date.parse(paused.pause?.since ?? '') >= 3_600_000);
      assert.equal(calls.length, 2);
      const events = await eventsOf(handle);
      const [pauseAt, resumeAt] = updatesAccepted(events).map((e) => Number(e.eventId));
      assert.ok(pauseAt && resumeAt);
      const timerIds = timersStarted(events).map((e) => Number(e.eventId));
      assert.equal(timerIds.filter((id) => id > pauseAt && id < resumeAt).length, 0, 'no TimerStarted while paused');
      assert.ok(
        events.some((e) => e.timerCanceledEventAttributes && Number(e.eventId) > pauseAt),
        'the running pause was cut',
      );
      assert.equal(s.counters.continue_timeouts, 0);
    });
  });

  test('mid-cycle in aligned cadence: the cycle is recorded first; resume waits for the next beat', async () => {
    const { activities, started, release } = heldActivities();
    await withLoop(env, activities, aligned(60), async ({ handle, status, waitForStatus }) => {
      // Started by a continue_signal, not by skipping to the beat: the test server would wait in
      // real time for the rest of a skip once the held call runs.
      await waitForStatus((s) => s.phase === 'pausing', 'the wait for the first beat');
      await handle.signal(continueSignal);
      await started;
      assert.equal(await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'new release' }] }), 'pauses after iteration 1');
      const asked = await status();
      assert.equal(asked.phase, 'calling_mtf');
      assert.deepEqual([asked.pause?.reason, asked.pause?.since], ['new release', null]);
      release();
      const paused = await waitForStatus((s) => s.phase === 'paused', 'paused once cycle 1 is recorded');
      assert.equal(paused.counters.succeeded, 1);
      assert.ok(paused.pause?.since);
      await env.sleep(10 * MINUTE);
      const answer = await handle.executeUpdate(resumeUpdate);
      const beat = /^resumed: the next cycle starts at the next beat, (\S+)$/.exec(answer)?.[1];
      assertOnBeat(beat, 60, 2, "resume's answer");
      const waiting = await waitForStatus((s) => s.phase === 'pausing', 'the wait for the beat');
      assert.equal(waiting.next_cycle_at, beat);
      assert.equal(waiting.counters.missed_beats, 0, 'beats while paused are not missed');
      await env.sleep(MINUTE);
      const s = await waitForStatus((x) => x.current_iteration === 2, 'cycle 2');
      assert.equal(s.last_cycle?.started_at.slice(0, 19), beat?.slice(0, 19));
      assert.equal(s.last_cycle?.missed_beats, 0);
    });
  });

  test('signal mode: continue_signal while paused is ignored; after resume the loop waits for a new one', async () => {
    const { activities, calls } = scriptedActivities(succeed);
    await withLoop(env, activities, { continue_mode: 'signal' }, async ({ handle, status, waitForStatus }) => {
      await waitForStatus((s) => s.phase === 'awaiting_continue', 'the gate');
      assert.equal(await handle.executeUpdate(pauseUpdate, { args: [undefined] }), 'paused');
      await waitForStatus((s) => s.phase === 'paused', 'paused');
      await handle.signal(continueSignal);
      assert.equal(await handle.executeUpdate(resumeUpdate), 'resumed: the next cycle starts on continue_signal');
      const gated = await waitForStatus((s) => s.phase === 'awaiting_continue', 'the gate again');
      assert.equal(gated.continue_pending, false, 'the signal sent while paused was dropped');
      await env.sleep(10 * MINUTE);
      assert.equal((await status()).current_iteration, 1);
      await handle.signal(continueSignal);
      await env.sleep(31_000);
      await waitForStatus((s) => s.current_iteration === 2, 'cycle 2');
      assert.equal(calls.length, 2);
    });
  });

  test('while paused, update_config is taken (for the next cycle) and stop_signal ends the loop', async () => {
    const { activities, calls } = scriptedActivities(succeed);
    await withLoop(env, activities, {}, async ({ handle, waitForStatus }) => {
      await waitForStatus((s) => s.phase === 'pausing', 'the pause after cycle 1');
      await handle.executeUpdate(pauseUpdate, { args: ['night'] });
      await waitForStatus((s) => s.phase === 'paused', 'paused');
      const next = await handle.executeUpdate(updateConfigUpdate, { args: [{ symbols: ['BTCUSDT'] }] });
      assert.deepEqual(next.symbols, ['BTCUSDT']);
      const held = await waitForStatus((s) => s.pending_config !== null, 'the pending config');
      assert.equal(held.phase, 'paused', 'an update does not resume');
      await handle.signal(stopSignal, 'done for today');
      const summary = (await handle.result()) as LoopSummary;
      assert.deepEqual([summary.iterations, summary.stop_reason], [1, 'done for today']);
      assert.equal(calls.length, 1);
    });
  });

  test('refused without a trace: resume of a running loop, a malformed pause, a pause of a stopping loop', async () => {
    const { activities, started, release } = heldActivities({ onlyFirst: false });
    await withLoop(env, activities, {}, async ({ handle }) => {
      const refused = async (run: () => Promise<unknown>, message: RegExp) =>
        assert.rejects(run, (err: unknown) => err instanceof WorkflowUpdateFailedError && message.test(err.cause?.message ?? ''));
      await refused(() => handle.executeUpdate(resumeUpdate), /^the loop is not paused$/);
      await refused(
        () => handle.executeUpdate(pauseUpdate, { args: [{ reason: 5 } as never] }),
        /pause takes nothing, a reason string, or \{ "reason": "…" \}/,
      );
      await started;
      await handle.signal(stopSignal);
      await refused(() => handle.executeUpdate(pauseUpdate, { args: [undefined] }), /the loop is stopping/);
      assert.equal(updatesAccepted(await eventsOf(handle)).length, 0, 'a refused update leaves no event');
      release();
      await handle.result();
    });
  });

  test('a loop continued as new with a pause in its carried state holds before its first cycle', async () => {
    const { activities, calls } = scriptedActivities(succeed);
    const pause = { reason: 'carried', requested_at: '2026-01-01T00:00:00.000Z', since: '2026-01-01T00:00:01.000Z' };
    const carried_state = {
      iteration: 41,
      counters: { ...emptyCounters(), cycles: 41, succeeded: 41 },
      last_cycle: null,
      last_error: null,
      continue_pending: false,
      started_at: '2026-01-01T00:00:00.000Z',
      pause,
    };
    await withLoop(env, activities, { carried_state }, async ({ handle, status, waitForStatus }) => {
      const held: LoopStatus = await waitForStatus((s) => s.phase === 'paused', 'held');
      assert.deepEqual(held.pause, pause, 'since when is kept');
      await env.sleep(10 * MINUTE);
      assert.equal((await status()).current_iteration, 41);
      await handle.executeUpdate(resumeUpdate);
      const s = await waitForStatus((x) => x.counters.cycles === 42, 'cycle 42 recorded');
      assert.equal(s.last_cycle?.iteration, 42, 'numbering goes on');
      assert.match(calls[0]?.input.idempotency_key ?? '', /\/42$/);
    });
  });
});
