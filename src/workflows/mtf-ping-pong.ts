/**
 * The MTF ping-pong loop. Each cycle is the seed's five steps:
 *   1. callMtfRun       POST the MTF run endpoint
 *   2. awaitCompletion  a 200 is done; a 202 is polled (or completed by an `mtf_completed` callback)
 *   3. finishCycle      the outcome goes into the loop's state (loop-state.ts): no activity, no
 *                       history event; its listeners show it, and a transition (failing, recovered,
 *                       protection alert, …) tells a human (notifier.ts)
 *   4. awaitContinue    in `signal` mode, wait for `continue_signal`
 *   5. waitForNextCycle `ping_interval`, or until the next beat (`cadence: aligned`), cut short by stop or continue
 * The `pause` update holds the loop between two cycles (pausedUntilResumed), with no timer.
 * A quiet cycle costs one activity and one timer. An MTF failure never fails the workflow.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { parseWorkflowInput, setAsideUnknownConfig, unknownCarriedKeys, type WorkflowInput } from '../shared/carried-state';
import { beatsBetween, lateStartLimitMs, nextBeat } from '../shared/cadence';
import { ConfigError, parseConfigUpdate, statusUrlTemplate } from '../shared/config';
import { INVALID_CONFIG, MtfError } from '../shared/errors';
import {
  continueSignal,
  getStatusQuery,
  mtfCompletedSignal,
  pauseUpdate,
  resumeUpdate,
  stopSignal,
  updateConfigUpdate,
  type PauseRequest,
} from '../shared/messages';
import {
  finishedReport,
  reportOf,
  runRequestBody,
  type LineageRequest,
  type RecordedCallMtfRunResult,
  type RecordedMtfActivities,
  type RunReport,
} from '../shared/mtf';
import type { LoopSummary } from '../shared/status';
import { reportOfCallback, resultFromFailure, resultFromReport, type CycleResult } from './cycle-result';
import { LoopLog } from './loop-log';
import { LoopState } from './loop-state';
import { statusOf, summaryOf } from './loop-status';
import { NOTIFY_PATCH, Notifier } from './notifier';
import { awaitOptions, callOptions, sendsOnce } from './policy';
import { LoopVisibility } from './visibility';

export async function MtfPingPongWorkflow(input?: WorkflowInput): Promise<LoopSummary> {
  const { loop, notifier } = startRun(input);
  try {
    // A new aligned loop starts on its first beat; a pause carried from the last run holds first.
    if (loop.startsOnABeat) await waitForNextCycle(loop);
    if (loop.pause) await pausedUntilResumed(loop);
    for (let cyclesThisRun = 0; !loop.stopRequested; cyclesThisRun++) {
      if (cyclesThisRun >= loop.config.max_cycles_per_run || workflowInfo().continueAsNewSuggested) {
        // Not while a message is being sent: the loop keeps its beat meanwhile (notifier.ts).
        if (notifier.readyToCarry()) await continueAsNewWithState(loop, notifier);
        // A stop that came while it waited ends this run: a stop is not carried.
        if (loop.stopRequested) break;
      }
      const result = await callAndAwaitCompletion(loop);
      loop.finishCycle(result, Date.now());
      if (loop.stopRequested) break;
      // In `auto` mode no call at all: each promise in workflow code costs a stack trace in the sandbox.
      if (loop.config.continue_mode === 'signal') await awaitContinue(loop);
      if (!loop.stopRequested && !loop.pause) await waitForNextCycle(loop);
      if (loop.pause) await pausedUntilResumed(loop);
    }
  } catch (err) {
    if (isCancellation(err)) loop.cancel();
    throw err;
  }
  loop.stop();
  const summary = summaryOf(loop, Date.now());
  await notifier.flushAtStop();
  return summary;
}

/** The run's state from its input, its listeners (visibility, notifier, log) and its message handlers. */
function startRun(input: WorkflowInput | undefined): { loop: LoopState; notifier: Notifier } {
  const info = workflowInfo();
  const { config, carried_state, unknown_config } = validateInput(input, info.continuedFromExecutionRunId !== undefined);
  const ids = { workflowId: info.workflowId, runId: info.runId, firstRunId: info.firstExecutionRunId };
  const loop = new LoopState(config, ids, carried_state, Date.now(), unknown_config);
  const notifier = new Notifier(loop);
  loop.listen(new LoopVisibility(loop.counters.missed_beats), notifier, new LoopLog());
  setHandlers(loop);
  loop.start();
  const unknownKeys = [...Object.keys(unknown_config), ...unknownCarriedKeys(carried_state)];
  if (unknownKeys.length > 0) {
    log.warn('this worker does not know some keys of the loop (a newer release wrote them); they are kept as they are', {
      keys: unknownKeys,
    });
  }
  return { loop, notifier };
}

/** Steps 1 and 2: the call and, for an accepted run, the wait, within the cycle's budget. */
async function callAndAwaitCompletion(loop: LoopState): Promise<CycleResult> {
  loop.beginCycle(Date.now());
  log.info('cycle started', { iteration: loop.iteration });
  try {
    const call = await callMtfRun(loop);
    const report = call.kind === 'accepted' ? await awaitCompletion(loop, call) : finishedReport(call);
    const extra = { late_trades: call.late_trades ?? [], lineage_absent: call.lineage_absent ?? report.lineage_absent ?? null };
    return resultFromReport(report, call.x_run_id ?? null, loop, extra);
  } catch (err) {
    if (isCancellation(err)) throw err;
    return resultFromFailure(err, loop);
  }
}

/** Step 1. Every attempt of one cycle carries the same Idempotency-Key. */
function callMtfRun(loop: LoopState): Promise<RecordedCallMtfRunResult> {
  const { config } = loop;
  const activities = proxyActivities<RecordedMtfActivities>(callOptions(config, budgetLeft(loop)));
  return activities.callMtfRun({
    iteration: loop.iteration,
    url: config.mtf_url,
    body: runRequestBody(config),
    status_url_template: statusUrlTemplate(config),
    idempotency_key: idempotencyKey(loop.iteration),
    send_once: sendsOnce(config),
    connect_attempts: config.max_attempts,
    connect_backoff: {
      initial: config.retry_initial_interval,
      coefficient: config.retry_backoff,
      maximum: config.retry_max_interval,
    },
    lineage: loop.lineageRequest(),
  });
}

/** Step 2 for an accepted run: poll its status, or take the app's `mtf_completed` callback, whichever comes first. */
async function awaitCompletion(loop: LoopState, accepted: Extract<RecordedCallMtfRunResult, { kind: 'accepted' }>): Promise<RunReport> {
  loop.enter('awaiting_completion');
  const activities = proxyActivities<RecordedMtfActivities>(awaitOptions(loop.config, budgetLeft(loop)));
  const scope = new CancellationScope();
  let polled = false;
  const polling = scope.run(() =>
    activities.awaitMtfRun({
      iteration: loop.iteration,
      run_id: accepted.run_id,
      status_url: accepted.status_url,
      mtf_url: loop.config.mtf_url,
      poll_interval: loop.config.poll_interval,
      lineage: lineageOfAccepted(loop, accepted.x_run_id),
    }),
  );
  polling.then(
    () => (polled = true),
    () => (polled = true),
  );
  await condition(() => polled || loop.noticeFor(accepted.run_id) !== undefined);
  const notice = loop.noticeFor(accepted.run_id);
  if (polled || !notice) return reportOf(await polling);
  scope.cancel();
  log.info('accepted MTF run completed by callback', { iteration: loop.iteration, mtf_run_id: notice.run_id });
  if (notice.failed)
    throw ApplicationFailure.create({ type: MtfError.RunFailed, message: `MTF run failed: ${notice.message ?? 'reported by callback'}` });
  return reportOfCallback(notice);
}

/** An accepted run's own trades are read once it has finished, by the wait's activity. */
function lineageOfAccepted(loop: LoopState, xRunId: string | undefined): LineageRequest | null {
  const request = loop.lineageRequest();
  return request && xRunId ? { ...request, earlier: [], x_run_id: xRunId } : null;
}

/** Step 4: in `signal` mode, wait for `continue_signal` (kept if it came during the cycle), cut short by stop or `pause`. */
async function awaitContinue(loop: LoopState): Promise<void> {
  loop.enter('awaiting_continue');
  const timeout = loop.config.continue_timeout;
  const gate = () => loop.wakePending;
  if (timeout === null) {
    await condition(gate);
  } else if (!(await condition(gate, timeout * 1000, { summary: 'await continue_signal' }))) {
    loop.countContinueTimeout();
    log.warn('no continue_signal in time; going on', { iteration: loop.iteration, continue_timeout: timeout });
  }
  loop.takeContinue();
}

/**
 * Step 5: the wait for the next cycle, one timer, cut short by stop, continue or `pause`:
 * `ping_interval`, or in `aligned` cadence until the first beat after now. The same commands as
 * `condition(gate, ms)` (start the timer; cancel it if cut short, even before it began), without
 * the cancellation scope and cancellation failure `condition` makes on every cycle, which the
 * sandbox pays for with a stack trace each. The phase is `pausing`, a word on the wire.
 */
async function waitForNextCycle(loop: LoopState): Promise<void> {
  loop.enter('pausing');
  const { config } = loop;
  const aligned = config.cadence === 'aligned';
  for (;;) {
    const until = aligned ? nextBeat(loop.beat, Date.now()) : Date.now() + config.ping_interval * 1000;
    loop.waitUntil(until);
    const scope = new CancellationScope();
    const timerEnded = scope
      .run(() => sleep(until - Date.now(), { summary: aligned ? 'next beat' : 'pause' }))
      .then(
        () => false,
        () => false,
      );
    const cut = loop.wakePending || (await Promise.race([timerEnded, loop.nextWake()]));
    if (cut) scope.cancel();
    if (loop.takeContinue()) log.info('continue_signal cut the pause short', { iteration: loop.iteration });
    if (cut || !aligned) return;
    // The timer fired, but the worker may have run it late (it was down): a run far past its beat
    // reads a moving candle, so that beat is missed too; beats after it that passed meanwhile always are.
    const now = Date.now();
    const taken = now - until <= lateStartLimitMs(config);
    const missed = beatsBetween(loop.beat, taken ? until : until - 1, now);
    if (missed > 0) {
      loop.countMissedBeats(missed);
      log.warn(
        taken
          ? 'woke late: the beats since were missed'
          : 'woke too late for the beat; it is counted missed and the loop waits for the next one',
        {
          iteration: loop.iteration,
          late_seconds: (now - until) / 1000,
          missed_beats: missed,
        },
      );
    }
    if (taken) return;
  }
}

/**
 * The `pause` update's hold, between two cycles: nothing is sent and no timer runs (a paused loop
 * bills nothing) until `resume` or stop. Then steps 4 and 5 again: in `signal` mode the loop waits
 * for a new `continue_signal` (those sent while paused were ignored); in `aligned` cadence for the
 * next beat; in `interval` cadence the next cycle starts at once.
 */
async function pausedUntilResumed(loop: LoopState): Promise<void> {
  while (loop.pause && !loop.stopRequested) {
    loop.holdPause(Date.now());
    await condition(() => loop.pause === null || loop.stopRequested);
    if (loop.stopRequested) return;
    loop.endHold(Date.now());
    if (loop.config.continue_mode === 'signal') await awaitContinue(loop);
    if (!loop.stopRequested && !loop.pause && loop.config.cadence === 'aligned') await waitForNextCycle(loop);
  }
}

/** Continues as new, unless a stop comes while it waits: then it returns, and the loop stops. */
async function continueAsNewWithState(loop: LoopState, notifier: Notifier): Promise<void> {
  loop.enter('continuing_as_new');
  // Let the message being sent finish so none is sent twice (those not yet sent go with the
  // state), and running handlers finish so no signal or update is lost between the two runs.
  await notifier.settle();
  await condition(allHandlersFinished);
  // Runs recorded before this check continued as new here, the stop lost (it now can come during a message).
  if (loop.stopRequested && patched(NOTIFY_PATCH)) return;
  log.info('continuing as new', { iteration: loop.iteration, history_length: workflowInfo().historyLength });
  await continueAsNew<typeof MtfPingPongWorkflow>(loop.nextInput());
}

function setHandlers(loop: LoopState): void {
  setHandler(getStatusQuery, () => statusOf(loop));
  setHandler(
    updateConfigUpdate,
    (patch) => {
      const next = loop.updateConfig(patch);
      log.info('config updated; applies from the next cycle', { iteration: loop.iteration, keys: Object.keys(patch) });
      return next;
    },
    {
      // Runs before anything is written to history: a bad update is refused and leaves no trace.
      validator: (patch) => {
        parseConfigUpdate(loop.nextConfig(), patch);
      },
    },
  );
  setHandler(
    pauseUpdate,
    (request) => {
      const answer = loop.requestPause(request, Date.now());
      log.info(`pause asked: ${answer}`, { iteration: loop.iteration, phase: loop.phase, reason: loop.pause?.reason ?? null });
      return answer;
    },
    { validator: (request: PauseRequest | undefined) => refuseIf(loop.pauseRefusal(request)) },
  );
  setHandler(
    resumeUpdate,
    () => {
      const answer = loop.requestResume(Date.now());
      log.info(answer, { iteration: loop.iteration });
      return answer;
    },
    { validator: () => refuseIf(loop.pause ? null : 'the loop is not paused') },
  );
  // Signal handlers never throw: a malformed payload is logged and ignored, and the state stays as it was.
  setHandler(continueSignal, () => {
    // A paused loop is held by an operator: only `resume` lets it go on.
    if (loop.pause)
      return log.warn('continue_signal ignored: the loop is paused; resume it first', { iteration: loop.iteration, phase: loop.phase });
    loop.requestContinue();
    log.info('continue_signal received', { iteration: loop.iteration, phase: loop.phase });
  });
  setHandler(stopSignal, (request) => {
    if (loop.requestStop(request))
      log.info('stop_signal received', { iteration: loop.iteration, phase: loop.phase, reason: loop.stopReason });
    else log.warn('stop_signal ignored: its payload is neither a reason string nor { reason }', { payload: safeJson(request) });
  });
  setHandler(mtfCompletedSignal, (notice) => {
    const parsed = loop.addNotice(notice);
    if (parsed) log.info('mtf_completed received', { iteration: loop.iteration, mtf_run_id: parsed.run_id, failed: parsed.failed });
    else log.warn('mtf_completed ignored: it needs a run id, or { run_id, status?, message? }', { payload: safeJson(notice) });
  });
}

/** An update's validator refusing: the caller gets the message, and history gets nothing. */
function refuseIf(why: string | null): void {
  if (why !== null) throw ApplicationFailure.nonRetryable(why, 'UpdateRefused');
}

/** A fresh start refuses unknown keys; a continued run keeps them aside (see setAsideUnknownConfig). */
function validateInput(input: WorkflowInput | undefined, continued: boolean) {
  try {
    const { known, unknown_config } = continued ? setAsideUnknownConfig(input) : { known: input, unknown_config: {} };
    const { carried_state, ...config } = parseWorkflowInput(known);
    return { config, carried_state, unknown_config };
  } catch (err) {
    // Fail the workflow at once, naming the key, instead of retrying its task forever.
    if (err instanceof ConfigError) throw ApplicationFailure.nonRetryable(err.message, INVALID_CONFIG);
    throw err;
  }
}

function idempotencyKey(iteration: number): string {
  const info = workflowInfo();
  // The first run ID is stable across continue-as-new and new when a stopped ID is started again.
  return `${info.workflowId}/${info.firstExecutionRunId}/${iteration}`;
}

function budgetLeft(loop: LoopState): number {
  return Math.max(loop.cycleDeadline() - Date.now(), 1);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
