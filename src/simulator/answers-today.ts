/**
 * The answer today's app gives (../shared/mtf-api.md, "The app as it answers today"): the runner's
 * own status (`completed`, `completed_with_errors`, `rejected`), `data.run` for the figures,
 * `data.symbols` with READY / INVALID / ERROR verdicts, and the orders placed. The status route
 * reads like the app's run controller: top-level `success` means the read worked; whether the run
 * has ended is in `data.run.status` and `data.run.finished_at`.
 */
import type { Answer, Generation, RunState } from './runs';
import type { PlacedOrder } from './orders';
import type { RunParams } from './params';
import { ACTIVE_CONTRACTS, verdictOf } from './verdicts';
import { NO_ORDERS_REJECTED, decideOrder, ordersPlaced } from './orders';
import { EXCHANGE_DOWN, endOf, executionSeconds, firstErrorIndex, formatTimestamp, isFinished, round, runFailed } from './runs';

const MESSAGE = 'MTF run completed';
const INTERNAL_ERROR_MESSAGE = 'Unable to run MTF cycle.';
/** error_200: the sequential path's failed run, answered with HTTP 200. */
const RUN_FAILED_MESSAGE = 'MTF validation failed: exchange timeout while loading klines (simulated)';
const LIVE_REFUSED_MESSAGE = 'Live run refused: no reliable source of open positions and orders';
const TF_KEYS = ['1m', '5m', '15m', '1h', '4h'] as const;
/** The app reports, as a READY symbol's last validated timeframe, the one above its execution timeframe. */
const PREVIOUS_TF: Record<string, string> = { '1m': 'READY', '5m': '15m', '15m': '1h', '1h': '4h' };

interface TodayRunData {
  run: Record<string, unknown>;
  symbols: Record<string, unknown>;
  errors: string[];
  workers: number;
  summary_by_tf: Record<string, string[]>;
  rejected_by: string[];
  last_validated: { symbol: string; side: string; timeframe: string | null }[];
  performance: Record<string, unknown>;
  orders_placed: unknown;
}

function emptyByTf(): Record<string, string[]> {
  return Object.fromEntries(TF_KEYS.map((tf) => [tf, [] as string[]]));
}

function performance(seconds: number, processed: number): Record<string, unknown> {
  const part = (share: number, count: number): unknown => ({ count, total_time: round(seconds * share, 3) });
  return {
    total_time: seconds,
    runner: { resolve_symbols: part(0.02, 1), sync_tables: part(0.08, 1), mtf_execution: part(0.85, processed), post_processing: part(0.05, 1) },
  };
}

/** The figures every finished run reports, in the app's order. */
function summary(run: RunState, endedAt: number, counts: { processed: number; successful: number; failed: number }, status: string): Record<string, unknown> {
  const seconds = executionSeconds(run, endedAt);
  const parallel = run.params.workers > 1;
  return {
    run_id: run.run_id,
    execution_time_seconds: seconds,
    symbols_requested: run.params.symbols.length,
    symbols_processed: counts.processed,
    symbols_successful: counts.successful,
    symbols_failed: counts.failed,
    symbols_skipped: 0,
    success_rate: counts.processed > 0 ? round((counts.successful / counts.processed) * 100, 2) : 0,
    dry_run: run.params.dry_run,
    force_run: run.params.force_run,
    current_tf: run.params.current_tf,
    timestamp: formatTimestamp(endedAt),
    status,
    polling_time_seconds: parallel ? round(seconds * 0.1, 3) : 0,
    polling_count: parallel ? counts.processed : 0,
  };
}

function runData(run: RunState, endedAt: number): TodayRunData {
  const processed = run.result === 'none_processed' ? [] : run.params.symbols;
  const failFrom = firstErrorIndex(run);
  const symbols: Record<string, unknown> = {};
  const errors: string[] = [];
  const byTf = emptyByTf();
  const rejectedBy: string[] = [];
  const lastValidated: TodayRunData['last_validated'] = [];
  const orders: PlacedOrder[] = [];
  const notEvaluated = { status: 'not_evaluated' };

  processed.forEach((symbol, index) => {
    if (index >= failFrom) {
      const error = 'Kline fetch failed: exchange timeout (simulated)';
      errors.push(`${symbol}: ${error}`);
      rejectedBy.push(symbol);
      symbols[symbol] = { symbol, status: 'ERROR', execution_tf: null, signal_side: null, reason: 'error', error, context: {}, execution: {}, trading_decision: notEvaluated };
      return;
    }
    const verdict = verdictOf(symbol, run.seed, run.ready_share);
    if (verdict.status === 'INVALID') {
      rejectedBy.push(symbol);
      byTf[verdict.blocking_tf]?.push(symbol);
      const reason = `${verdict.blocking_tf} not aligned`;
      symbols[symbol] = { symbol, status: 'INVALID', execution_tf: null, signal_side: null, reason, blocking_tf: verdict.blocking_tf, context: {}, execution: {}, trading_decision: notEvaluated };
      return;
    }
    const { execution_tf, signal_side } = verdict;
    const forced_status = Array.isArray(run.order_status) ? (run.order_status[orders.length % run.order_status.length] ?? null) : run.order_status;
    const decision = decideOrder({ run_id: run.run_id, symbol, execution_tf, side: signal_side, dry_run: run.params.dry_run, forced_status });
    orders.push({ symbol, ...decision });
    byTf[execution_tf]?.push(symbol);
    lastValidated.push({ symbol, side: signal_side, timeframe: PREVIOUS_TF[execution_tf] ?? null });
    const reason = `${signal_side} signal confirmed on ${execution_tf}`;
    symbols[symbol] = { symbol, status: 'READY', execution_tf, signal_side, reason, context: {}, execution: {}, trading_decision: decision };
  });
  // The exchange is down: the run ends before any symbol, with one error for the run.
  if (run.result === 'none_processed') errors.push(EXCHANGE_DOWN);
  const successful = orders.length;
  // The sequential path (one worker) ends its results with the synthetic `FINAL` entry, which is no contract.
  if (run.params.workers === 1 && processed.length > 0) symbols['FINAL'] = { status: 'COMPLETED', symbols_processed: processed.length, symbols_ready: successful };

  const counts = { processed: processed.length, successful, failed: processed.length - successful };
  const seconds = executionSeconds(run, endedAt);
  return {
    run: summary(run, endedAt, counts, errors.length > 0 ? 'completed_with_errors' : 'completed'),
    symbols,
    errors,
    workers: run.params.workers,
    summary_by_tf: byTf,
    rejected_by: rejectedBy.sort(),
    last_validated: lastValidated.sort((a, b) => a.symbol.localeCompare(b.symbol)),
    performance: performance(seconds, processed.length),
    orders_placed: ordersPlaced(orders),
  };
}

/** A run that failed as a whole: nothing processed, one error, run status `error`. */
function failedRunData(run: RunState, endedAt: number, message: string): TodayRunData {
  const figures = summary(run, endedAt, { processed: 0, successful: 0, failed: 0 }, 'error');
  return {
    run: { ...figures, message },
    symbols: {},
    errors: [message],
    workers: run.params.workers,
    summary_by_tf: emptyByTf(),
    rejected_by: [],
    last_validated: [],
    performance: {},
    orders_placed: ordersPlaced([]),
  };
}

/** Computed once per run, so every read carries the same figures and order ids. */
function outcomeOf(run: RunState, endedAt: number): TodayRunData {
  if (run.outcome === undefined) {
    const message = run.result === 'error' ? INTERNAL_ERROR_MESSAGE : RUN_FAILED_MESSAGE;
    run.outcome = runFailed(run) ? failedRunData(run, endedAt, message) : runData(run, endedAt);
  }
  return run.outcome as TodayRunData;
}

/** reject_live: the runner refuses a live run before it starts; nothing is traded. */
export function rejectedLiveBody(runId: string, params: RunParams, now: number): unknown {
  return {
    status: 'rejected',
    message: MESSAGE,
    data: {
      run: {
        run_id: runId,
        status: 'rejected',
        reason: 'no_reliable_open_state_source',
        message: LIVE_REFUSED_MESSAGE,
        symbols_requested: params.symbols.length,
        symbols_processed: 0,
        timestamp: formatTimestamp(now),
      },
      symbols: {},
      errors: [LIVE_REFUSED_MESSAGE],
      workers: params.workers,
      summary_by_tf: {},
      rejected_by: [],
      last_validated: [],
      performance: {},
      orders_placed: NO_ORDERS_REJECTED,
    },
  };
}

const INTERNAL_ERROR_BODY = { status: 'error', error_code: 'internal_error', message: INTERNAL_ERROR_MESSAGE };

export const TODAY_ANSWERS: Generation = {
  symbols: { fallback: ACTIVE_CONTRACTS, dedupe: true },
  finished(run: RunState, endedAt: number): Answer {
    if (run.result === 'error') return { status: 500, body: INTERNAL_ERROR_BODY };
    const data = outcomeOf(run, endedAt);
    return { status: 200, body: { status: data.run['status'], message: MESSAGE, data } };
  },
  finishedWithStatus(run: RunState, endedAt: number, status: string): unknown {
    return { status, message: MESSAGE, data: outcomeOf(run, endedAt) };
  },
  statusRead(run: RunState, now: number): unknown {
    const started_at = formatTimestamp(run.started_at);
    if (!isFinished(run, now)) return { status: 'success', data: { run: { run_id: run.run_id, status: 'running', started_at, finished_at: null } } };
    const endedAt = endOf(run, now);
    const data = outcomeOf(run, endedAt);
    return { status: 'success', data: { ...data, run: { ...data.run, started_at, finished_at: formatTimestamp(endedAt) } } };
  },
  internalErrorBody: INTERNAL_ERROR_BODY,
  wrongShapeBody: { status: 'completed', data: {} },
  invalidJsonText: '{"status":"completed","message":"MTF run completed","data":{"run":{"run_id":',
  paddedBodyStart: '{"status":"completed","message":"MTF run completed","data":{"padding":"',
};
