/**
 * The MTF ping-pong loop. Each cycle is the seed's five steps:
 *   1. callMtfRun      POST the MTF run endpoint
 *   2. awaitCompletion a 200 is done; a 202 is polled (or completed by an `mtf_completed` callback)
 *   3. recordCycle     the outcome goes into workflow state: no activity, no history event;
 *                      a transition (failing, recovered, protection alert, …) tells a human (notifier.ts)
 *   4. awaitContinue   in `signal` mode, wait for `continue_signal`
 *   5. pause           `ping_interval`, or until the next beat (`cadence: aligned`), cut short by stop or continue
 * The `pause` update holds the loop between two cycles (pausedUntilResumed), with no timer.
 * A quiet cycle costs one activity and one timer. An MTF failure never fails the workflow.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
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
import { RetryState, TimeoutType } from '@temporalio/common';
import { ConfigError, attemptTimeout, lineageUrl, parseConfigUpdate, statusUrlTemplate } from '../shared/config';
import { parseWorkflowInput, setAsideUnknownConfig, unknownCarriedKeys, type WorkflowInput } from '../shared/carried-state';
import type { CycleRecord } from '../shared/cycle-record';
import { beatsBetween, lateStartLimitMs, nextBeat } from '../shared/cadence';
import { INVALID_CONFIG, MtfError } from '../shared/errors';
import { noFindings, orderCountsText, parseFindings, protectionAlertText, signalText, type RunFindings } from '../shared/findings';
import { tradeText, tradesFinal, tradesOf, tradesText, type CycleTrades } from '../shared/trades';
import { continueSignal, getStatusQuery, mtfCompletedSignal, pauseUpdate, resumeUpdate, stopSignal, updateConfigUpdate, type PauseRequest } from '../shared/messages';
import {
  finishedReport,
  reportOf,
  runRequestBody,
  type LineageRequest,
  type RecordedCallMtfRunResult,
  type RecordedMtfActivities,
  type RunReport,
  type UiDetails,
} from '../shared/mtf';
import type { LoopSummary } from '../shared/status';
import { LoopState, type CycleResult } from './loop-state';
import { NOTIFY_PATCH, Notifier } from './notifier';
import { awaitOptions, callOptions, sendsOnce } from './policy';
import { LoopVisibility } from './visibility';

export async function MtfPingPongWorkflow(input?: WorkflowInput): Promise<LoopSummary> {
  const info = workflowInfo();
  const { config, carried_state, unknown_config } = validateInput(input, info.continuedFromExecutionRunId !== undefined);
  const loop = new LoopState(config, { workflowId: info.workflowId, runId: info.runId, firstRunId: info.firstExecutionRunId }, carried_state, Date.now(), unknown_config);
  const shown = new LoopVisibility(loop.counters.missed_beats);
  const notifier = new Notifier(loop);
  setHandlers(loop);
  log.info(carried_state ? 'loop continued as new' : 'loop started', { iteration: loop.iteration, continue_mode: config.continue_mode });
  if (!carried_state) notifier.started();
  const unknownKeys = [...Object.keys(unknown_config), ...unknownCarriedKeys(carried_state)];
  if (unknownKeys.length > 0) log.warn('this worker does not know some keys of the loop (a newer release wrote them); they are kept as they are', { keys: unknownKeys });

  try {
    // A new aligned loop starts on its first beat; a pause carried from the last run holds first.
    if (!carried_state && config.cadence === 'aligned') await pause(loop, shown);
    if (loop.pause) await pausedUntilResumed(loop, shown, notifier);
    for (let cyclesThisRun = 0; !loop.stopRequested; cyclesThisRun++) {
      if (cyclesThisRun >= loop.config.max_cycles_per_run || workflowInfo().continueAsNewSuggested) {
        // Not while a message is being sent: the loop keeps its beat meanwhile (notifier.ts).
        if (notifier.readyToCarry()) await continueAsNewWithState(loop, shown, notifier);
        // A stop that came while it waited ends this run: a stop is not carried.
        if (loop.stopRequested) break;
      }
      const result = await callAndAwaitCompletion(loop, shown);
      recordCycle(loop, result, shown, notifier);
      if (loop.stopRequested) break;
      // In `auto` mode no call at all: each promise in workflow code costs a stack trace (bench stage 3).
      if (loop.config.continue_mode === 'signal') await awaitContinue(loop, shown);
      if (!loop.stopRequested && !loop.pause) await pause(loop, shown);
      if (loop.pause) await pausedUntilResumed(loop, shown, notifier);
    }
  } catch (err) {
    if (isCancellation(err)) {
      loop.phase = 'cancelled';
      shown.phase(loop);
      loop.lastError = `cancelled during iteration ${loop.iteration}`;
      log.warn('loop cancelled', { iteration: loop.iteration, counters: loop.counters });
    }
    throw err;
  }
  loop.phase = 'stopped';
  shown.stopped(loop);
  const summary = loop.summary(Date.now());
  log.info('loop stopped', { iteration: loop.iteration, reason: loop.stopReason, counters: loop.counters });
  await notifier.stopped();
  return summary;
}

/** Steps 1 and 2: the call and, for an accepted run, the wait, within the cycle's budget. */
async function callAndAwaitCompletion(loop: LoopState, shown: LoopVisibility): Promise<CycleResult> {
  loop.beginCycle(Date.now());
  shown.phase(loop);
  log.info('cycle started', { iteration: loop.iteration });
  try {
    const call = await callMtfRun(loop);
    const report = call.kind === 'accepted' ? await awaitCompletion(loop, call, shown) : finishedReport(call);
    return { ...resultFromReport(report, call.x_run_id ?? null, loop), late_trades: call.late_trades ?? [], lineage_absent: call.lineage_absent ?? report.lineage_absent ?? null };
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
async function awaitCompletion(loop: LoopState, accepted: Extract<RecordedCallMtfRunResult, { kind: 'accepted' }>, shown: LoopVisibility): Promise<RunReport> {
  loop.phase = 'awaiting_completion';
  shown.phase(loop);
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
  if (notice.failed) throw ApplicationFailure.create({ type: MtfError.RunFailed, message: `MTF run failed: ${notice.message ?? 'reported by callback'}` });
  return {
    outcome: 'succeeded',
    app_status: 'success',
    run_id: notice.run_id,
    message: notice.message,
    execution_time_seconds: null,
    symbols_requested: null,
    symbols_processed: null,
    symbols_successful: null,
    symbols_failed: null,
    success_rate: null,
    errors: 0,
    findings: noFindings(),
    ui_details: 'signals',
  };
}

/**
 * Step 3: record and announce the outcome: state, the workflow logger and metrics cost no event;
 * a search attribute is upserted only when the outcome or the loop's state changes.
 */
function recordCycle(loop: LoopState, result: CycleResult, shown: LoopVisibility, notifier: Notifier): void {
  recordLateTrades(loop, result, shown, notifier);
  const before = { consecutive_failures: loop.counters.consecutive_failures, last: loop.lastCycle };
  const record = loop.recordCycle(result, Date.now());
  shown.cycleFinished(loop, record, result.uiDetails);
  notifier.cycleRecorded(before, record);
  const fields = {
    iteration: record.iteration,
    outcome: record.outcome,
    app_status: record.app_status,
    mtf_run_id: record.mtf_run_id,
    x_run_id: record.x_run_id,
    cycle_seconds: record.cycle_seconds,
    ...findingsFields(record),
  };
  // An open position without its stop-loss is the one thing a trader must hear at once, whatever the outcome.
  if (record.protection_alert) log.error(`cycle finished: ${protectionAlertText(record)}`, { ...fields, message: record.message });
  else if (record.outcome === 'succeeded' || record.outcome === 'partial') log.info('cycle finished', fields);
  else log.warn('cycle finished', { ...fields, message: record.message, consecutive_failures: loop.counters.consecutive_failures });
}

/** The cycle log line's share of the findings: READY contracts and order counts, nothing when the answer said nothing. */
function findingsFields(findings: RunFindings & Pick<CycleRecord, 'trades'>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (findings.contracts || findings.signals.length > 0) {
    fields.ready = findings.signals.map(signalText);
    if (findings.signals_unlisted > 0) fields.ready_unlisted = findings.signals_unlisted;
  }
  if (findings.orders) fields.orders = orderCountsText(findings.orders.count);
  if (findings.protection_alert) fields.protection_alert = true;
  const trades = tradesText(findings.trades);
  if (trades && findings.trades?.state !== 'off') fields.trades = trades;
  if (findings.trades && findings.trades.list.length > 0) fields.trades_listed = findings.trades.list.map(tradeText);
  return fields;
}

/**
 * Step 3's share of the trades read after this cycle's answer: earlier cycles' trades go onto their
 * records, those too old to be read again are given up, and an app without the lineage API is said
 * once (the loop stops asking until its config changes).
 */
function recordLateTrades(loop: LoopState, result: CycleResult, shown: LoopVisibility, notifier: Notifier): void {
  for (const late of [...loop.attachLateTrades(result.late_trades), ...loop.giveUpLateTrades()]) {
    // Still short of the cycle's READY contracts: kept on its record, told once they are all there.
    if (!tradesFinal(late.trades)) continue;
    shown.countTrades(late.trades);
    notifier.tradesLate(late);
    log.info('trades of an earlier cycle', { iteration: late.iteration, trades: tradesText(late.trades), trades_listed: late.trades.list.map(tradeText) });
  }
  if (result.lineage_absent !== null && !loop.lineageAbsent) {
    loop.lineageAbsent = true;
    log.warn('trades unknown: the app has no lineage API', { iteration: loop.iteration, lineage_url: lineageUrl(loop.config), why: result.lineage_absent });
  }
}

/** An accepted run's own trades are read once it has finished, by the wait's activity. */
function lineageOfAccepted(loop: LoopState, xRunId: string | undefined): LineageRequest | null {
  const request = loop.lineageRequest();
  return request && xRunId ? { ...request, earlier: [], x_run_id: xRunId } : null;
}

/** Step 4: in `signal` mode, wait for `continue_signal` (kept if it came during the cycle), cut short by stop or `pause`. */
async function awaitContinue(loop: LoopState, shown: LoopVisibility): Promise<void> {
  loop.phase = 'awaiting_continue';
  shown.phase(loop);
  const timeout = loop.config.continue_timeout;
  const gate = () => loop.wakePending;
  if (timeout === null) {
    await condition(gate);
  } else if (!(await condition(gate, timeout * 1000, { summary: 'await continue_signal' }))) {
    loop.counters.continue_timeouts += 1;
    log.warn('no continue_signal in time; going on', { iteration: loop.iteration, continue_timeout: timeout });
  }
  loop.takeContinue();
}

/**
 * Step 5: the wait for the next cycle, one timer, cut short by stop, continue or `pause`:
 * `ping_interval`, or in `aligned` cadence until the first beat after now. The same commands as
 * `condition(gate, ms)` (start the timer; cancel it if cut short, even before it began), without
 * the cancellation scope and cancellation failure `condition` makes on every cycle, which the
 * sandbox pays for with a stack trace each (bench stage 3).
 */
async function pause(loop: LoopState, shown: LoopVisibility): Promise<void> {
  loop.phase = 'pausing';
  shown.phase(loop);
  const { config } = loop;
  const aligned = config.cadence === 'aligned';
  for (;;) {
    const until = aligned ? nextBeat(loop.beat, Date.now()) : Date.now() + config.ping_interval * 1000;
    loop.nextCycleAt = new Date(until).toISOString();
    const scope = new CancellationScope();
    const timerEnded = scope.run(() => sleep(until - Date.now(), { summary: aligned ? 'next beat' : 'pause' })).then(
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
      shown.beatsMissed(loop);
      log.warn(taken ? 'woke late: the beats since were missed' : 'woke too late for the beat; it is counted missed and the loop waits for the next one', {
        iteration: loop.iteration,
        late_seconds: (now - until) / 1000,
        missed_beats: missed,
      });
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
async function pausedUntilResumed(loop: LoopState, shown: LoopVisibility, notifier: Notifier): Promise<void> {
  while (loop.pause && !loop.stopRequested) {
    const held = loop.holdPause(Date.now());
    loop.phase = 'paused';
    loop.nextCycleAt = null;
    shown.paused(loop);
    log.info('loop paused', { iteration: loop.iteration, reason: held?.reason ?? null });
    notifier.paused();
    await condition(() => loop.pause === null || loop.stopRequested);
    if (loop.stopRequested) return;
    shown.resumed(loop);
    log.info('loop resumed', { iteration: loop.iteration });
    notifier.resumed(loop.nextCycleAfterResume(Date.now()));
    if (loop.config.continue_mode === 'signal') await awaitContinue(loop, shown);
    if (!loop.stopRequested && !loop.pause && loop.config.cadence === 'aligned') await pause(loop, shown);
  }
}

/** Continues as new, unless a stop comes while it waits: then it returns, and the loop stops. */
async function continueAsNewWithState(loop: LoopState, shown: LoopVisibility, notifier: Notifier): Promise<void> {
  loop.phase = 'continuing_as_new';
  shown.phase(loop);
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
  setHandler(getStatusQuery, () => loop.status());
  setHandler(
    updateConfigUpdate,
    (patch) => {
      loop.pendingConfig = parseConfigUpdate(loop.nextConfig(), patch);
      log.info('config updated; applies from the next cycle', { iteration: loop.iteration, keys: Object.keys(patch) });
      return loop.pendingConfig;
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
    if (loop.pause) return log.warn('continue_signal ignored: the loop is paused; resume it first', { iteration: loop.iteration, phase: loop.phase });
    loop.requestContinue();
    log.info('continue_signal received', { iteration: loop.iteration, phase: loop.phase });
  });
  setHandler(stopSignal, (request) => {
    if (loop.requestStop(request)) log.info('stop_signal received', { iteration: loop.iteration, phase: loop.phase, reason: loop.stopReason });
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

/** `xRunId`: the X-Run-Id the POST carried, null in a call recorded before it was sent. */
function resultFromReport(report: RunReport, xRunId: string | null, loop: LoopState): Omit<CycleResult, 'late_trades' | 'lineage_absent'> {
  return {
    // Not read (a callback ended the run, an older worker ran the call): the next cycle reads them.
    trades: report.trades ?? (loop.readsTrades ? tradesOf('pending', []) : tradesOff(loop)),
    outcome: report.outcome,
    app_status: report.app_status,
    mtf_run_id: report.run_id,
    x_run_id: xRunId,
    message: report.message,
    mtf_execution_seconds: report.execution_time_seconds,
    symbols_requested: report.symbols_requested,
    symbols_successful: report.symbols_successful,
    success_rate: report.success_rate,
    errors: report.errors,
    findings: report.findings,
    uiDetails: report.ui_details,
  };
}

function resultFromFailure(err: unknown, loop: LoopState): CycleResult {
  const { config } = loop;
  const cause = err instanceof ActivityFailure ? err.cause : err;
  // A run that failed after answering may still have placed orders: the activity hands them on.
  const findings = cause instanceof ApplicationFailure ? findingsOfFailure(cause) : null;
  const failed = (outcome: CycleResult['outcome'], message: string): CycleResult => ({
    outcome,
    app_status: null,
    message,
    mtf_run_id: null,
    x_run_id: null,
    mtf_execution_seconds: null,
    symbols_requested: null,
    symbols_successful: null,
    success_rate: null,
    errors: null,
    findings: findings?.findings ?? noFindings(),
    uiDetails: findings?.uiDetails ?? null,
    trades: tradesOfFailure(cause, loop),
    late_trades: [],
    lineage_absent: null,
  });
  if (cause instanceof ApplicationFailure) {
    if (cause.type === MtfError.KillSwitch) return failed('skipped', cause.message);
    const attempts = err instanceof ActivityFailure && err.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED ? ` (after ${attemptsText(config.max_attempts)})` : '';
    return failed('failed', `${cause.message}${attempts}`);
  }
  if (cause instanceof TimeoutFailure) {
    if (cause.timeoutType === TimeoutType.SCHEDULE_TO_CLOSE) {
      return failed('timed_out', `the cycle's budget of ${config.max_execution_time} s (max_execution_time) ran out`);
    }
    const what = cause.timeoutType === TimeoutType.HEARTBEAT ? 'the worker running the call was lost (no heartbeat)' : `the call timed out after ${attemptTimeout(config)} s`;
    if (sendsOnce(config)) return failed('failed', `live MTF run may have executed, not sent again: ${what}`);
    return failed('failed', `${what}${err instanceof ActivityFailure && err.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED ? ` on each of ${attemptsText(config.max_attempts)}` : ''}`);
  }
  return failed('failed', cause instanceof Error ? cause.message : String(cause));
}

/** The findings a failure's details carry (see run-answer.ts, foundDetails), read as loosely as any recorded value. */
function findingsOfFailure(failure: ApplicationFailure): { findings: RunFindings; uiDetails: UiDetails } | null {
  const details: unknown = failure.details?.[0];
  const parsed = parseFindings(typeof details === 'object' && details !== null ? (details as { findings?: unknown }).findings : undefined);
  return parsed ? { findings: parsed, uiDetails: (details as { ui_details?: unknown }).ui_details === 'signals' ? 'signals' : 'counts' } : null;
}

/**
 * A run the app refused, skipped or never received caused no trade; any other failure may have
 * come after the app ran it: its trades are read after the next cycle's answer.
 */
function tradesOfFailure(cause: unknown, loop: LoopState): CycleTrades {
  if (!loop.readsTrades) return tradesOff(loop);
  const noRun: string[] = [MtfError.Unreachable, MtfError.Rejected, MtfError.KillSwitch];
  return tradesOf(cause instanceof ApplicationFailure && noRun.includes(cause.type ?? '') ? 'known' : 'pending', []);
}

/** Not read: `off` when the loop does not read them, `unknown` when the app has no lineage API. */
function tradesOff(loop: LoopState): CycleTrades {
  return tradesOf(loop.config.lineage ? 'unknown' : 'off', []);
}

function attemptsText(n: number): string {
  return n === 1 ? '1 attempt' : `${n} attempts`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
