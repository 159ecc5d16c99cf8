/**
 * What steps 1 and 2 found out about one cycle, built from the run's report or from the failure
 * that ended them. Which failure means which outcome, and whether the run may have caused trades,
 * is read from the one table of error types (shared/errors.ts).
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { RetryState, TimeoutType } from '@temporalio/common';
import { attemptTimeout, type LoopConfig } from '../shared/config';
import { mtfErrorClass } from '../shared/errors';
import type { CyclePoint, CycleRecord } from '../shared/cycle-record';
import { noFindings, parseFindings, readyCount, type RunFindings } from '../shared/findings';
import type { CompletionNotice } from './requests';
import type { LateTrades, RunReport, UiDetails } from '../shared/mtf';
import type { Outcome } from '../shared/outcomes';
import { POINT_TRADES, listedAtMost, tradesOf, type CycleTrades } from '../shared/trades';
import { sendsOnce } from './policy';

/** What steps 1 and 2 found out about one cycle. */
export interface CycleResult {
  outcome: Outcome;
  /** The run's own status word as the app gave it (`partial_failure`, `completed` …); null when no answer said. */
  app_status: string | null;
  mtf_run_id: string | null;
  /** The X-Run-Id the cycle's POST carried, as the activity reported it; null when no answer said. */
  x_run_id: string | null;
  message: string | null;
  mtf_execution_seconds: number | null;
  symbols_requested: number | null;
  symbols_successful: number | null;
  /** The app's `success_rate`: today, the share of contracts found READY. */
  success_rate: number | null;
  /** `data.errors`' count, null when no answer said. */
  errors: number | null;
  findings: RunFindings;
  /** What the Temporal UI may show of the findings (the worker that read them says); null: no answer said. */
  uiDetails: UiDetails | null;
  /** The trades the run caused, as far as they were read (shared/trades.ts). */
  trades: CycleTrades;
  /** Earlier cycles' trades, read again after this cycle's answer. */
  late_trades: LateTrades[];
  /** Why the app has no lineage API, when this cycle found that out. */
  lineage_absent: string | null;
}

/** What the builders read of the loop: its config, and whether it reads trades now. */
export interface ResultContext {
  readonly config: LoopConfig;
  readonly readsTrades: boolean;
}

/**
 * A finished run's result. `xRunId`: the X-Run-Id the POST carried, null in a call recorded before
 * it was sent; `extra`: what the call read besides (late trades, an app without the lineage API).
 */
export function resultFromReport(
  report: RunReport,
  xRunId: string | null,
  loop: ResultContext,
  extra: Pick<CycleResult, 'late_trades' | 'lineage_absent'>,
): CycleResult {
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
    ...extra,
  };
}

/** An accepted run the app's `mtf_completed` callback said had finished well: the callback says no more. */
export function reportOfCallback(notice: CompletionNotice): RunReport {
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

/** The result of a cycle that a failure ended: its outcome and message, and the trades it may have caused. */
export function resultFromFailure(err: unknown, loop: ResultContext): CycleResult {
  const { config } = loop;
  const cause = err instanceof ActivityFailure ? err.cause : err;
  // A run that failed after answering may still have placed orders: the activity hands them on.
  const findings = cause instanceof ApplicationFailure ? findingsOfFailure(cause) : null;
  const failed = (outcome: Outcome, message: string): CycleResult => ({
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
  const allAttemptsFailed = err instanceof ActivityFailure && err.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED;
  if (cause instanceof ApplicationFailure) {
    const outcome = mtfErrorClass(cause.type)?.outcome ?? 'failed';
    if (outcome === 'skipped') return failed(outcome, cause.message);
    return failed(outcome, `${cause.message}${allAttemptsFailed ? ` (after ${attemptsText(config.max_attempts)})` : ''}`);
  }
  if (cause instanceof TimeoutFailure) {
    if (cause.timeoutType === TimeoutType.SCHEDULE_TO_CLOSE) {
      return failed('timed_out', `the cycle's budget of ${config.max_execution_time} s (max_execution_time) ran out`);
    }
    const what =
      cause.timeoutType === TimeoutType.HEARTBEAT
        ? 'the worker running the call was lost (no heartbeat)'
        : `the call timed out after ${attemptTimeout(config)} s`;
    if (sendsOnce(config)) return failed('failed', `live MTF run may have executed, not sent again: ${what}`);
    return failed('failed', `${what}${allAttemptsFailed ? ` on each of ${attemptsText(config.max_attempts)}` : ''}`);
  }
  return failed('failed', cause instanceof Error ? cause.message : String(cause));
}

/** Not read: `off` when the loop does not read them, `unknown` when the app has no lineage API. */
export function tradesOff(loop: ResultContext): CycleTrades {
  return tradesOf(loop.config.lineage ? 'unknown' : 'off', []);
}

/** The findings a failure's details carry (see run-answer.ts, foundDetails), read as loosely as any recorded value. */
function findingsOfFailure(failure: ApplicationFailure): { findings: RunFindings; uiDetails: UiDetails } | null {
  const details: unknown = failure.details?.[0];
  const parsed = parseFindings(typeof details === 'object' && details !== null ? (details as { findings?: unknown }).findings : undefined);
  return parsed
    ? { findings: parsed, uiDetails: (details as { ui_details?: unknown }).ui_details === 'signals' ? 'signals' : 'counts' }
    : null;
}

/**
 * A run the app refused, skipped or never received caused no trade; any other failure may have
 * come after the app ran it: its trades are read after the next cycle's answer.
 */
function tradesOfFailure(cause: unknown, loop: ResultContext): CycleTrades {
  if (!loop.readsTrades) return tradesOff(loop);
  return tradesOf(cause instanceof ApplicationFailure && mtfErrorClass(cause.type)?.ranNothing ? 'known' : 'pending', []);
}

/** The last-cycle record of a finished cycle: the result, when it ran, and the beats missed since the one before. */
export function cycleRecordOf(
  result: CycleResult,
  cycle: { iteration: number; startedAt: number; now: number; missedBeats: number },
): CycleRecord {
  return {
    iteration: cycle.iteration,
    outcome: result.outcome,
    mtf_run_id: result.mtf_run_id,
    started_at: new Date(cycle.startedAt).toISOString(),
    finished_at: new Date(cycle.now).toISOString(),
    cycle_seconds: (cycle.now - cycle.startedAt) / 1000,
    mtf_execution_seconds: result.mtf_execution_seconds,
    symbols_requested: result.symbols_requested,
    symbols_successful: result.symbols_successful,
    success_rate: result.success_rate,
    message: result.message,
    ready_share: result.success_rate,
    errors: result.errors,
    x_run_id: result.x_run_id,
    missed_beats: cycle.missedBeats,
    app_status: result.app_status,
    ...result.findings,
    trades: result.trades,
  };
}

/** The cycle's point in the recent-cycles window: small, as 120 of them are carried. */
export function cyclePointOf(record: CycleRecord, result: CycleResult): CyclePoint {
  const { iteration, outcome, finished_at, cycle_seconds } = record;
  const { findings } = result;
  return {
    iteration,
    outcome,
    finished_at,
    cycle_seconds,
    ready: readyCount(findings),
    orders: findings.orders ? { ...findings.orders.count } : null,
    protection_alert: findings.protection_alert,
    trades: listedAtMost(result.trades, POINT_TRADES),
  };
}

function attemptsText(n: number): string {
  return n === 1 ? '1 attempt' : `${n} attempts`;
}
