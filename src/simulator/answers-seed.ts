/**
 * The seed-era answer (docs/mtf-api.md, first half): `success` / `partial_success` with
 * `data.summary` and `data.results`, `{ status: 'running' }` on the status route.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Answer, Generation, RunState } from './runs';
import { EXCHANGE_DOWN, contractThrows, endOf, executionSeconds, formatTimestamp, isFinished, round, runFailed } from './runs';

export const DEFAULT_SYMBOLS: readonly string[] = ['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT'];
const TIMEFRAMES = ['4h', '1h', '15m', '5m', '1m'] as const;

function failedResult(symbol: string): { error: string; result: unknown } {
  const error = `Timeframe 1h invalid for ${symbol}: no confirmation`;
  return {
    error,
    result: {
      status: 'error',
      signal_side: null,
      order_plan_id: null,
      error,
      steps: {
        '4h': { status: 'valid', signal_side: 'LONG' },
        '1h': { status: 'invalid', reason: 'no_confirmation' },
        '15m': {},
        '5m': {},
        '1m': {},
      },
      consistency: { status: 'INCONSISTENT' },
      filters: { status: 'skipped' },
    },
  };
}

function successfulResult(run: RunState, index: number): unknown {
  const side = index % 2 === 0 ? 'LONG' : 'SHORT';
  const steps: Record<string, unknown> = {};
  for (const tf of TIMEFRAMES) steps[tf] = { status: 'valid', signal_side: side };
  return {
    status: 'success',
    signal_side: side,
    order_plan_id: run.params.dry_run ? null : `op_${randomBytes(8).toString('hex')}`,
    steps,
    consistency: { status: 'CONSISTENT' },
    filters: { status: 'passed' },
  };
}

/** The documented body of a finished run: `success`, or `partial_success` when `errors` is not empty. */
function runBody(run: RunState, endedAt: number): unknown {
  const { params } = run;
  const processed = run.result === 'none_processed' ? [] : params.symbols;
  const results: Record<string, unknown> = {};
  const errors: { symbol: string | null; error: string }[] = [];
  let failed = 0;
  processed.forEach((symbol, index) => {
    if (contractThrows(run, symbol, index)) {
      const { error, result } = failedResult(symbol);
      failed += 1;
      errors.push({ symbol, error });
      results[symbol] = result;
    } else {
      results[symbol] = successfulResult(run, index);
    }
  });
  // The exchange is down: the run ends before any symbol, with one error for the run.
  if (run.result === 'none_processed') errors.push({ symbol: null, error: EXCHANGE_DOWN });
  const requested = params.symbols.length;
  const successful = processed.length - failed;
  return {
    status: errors.length > 0 ? 'partial_success' : 'success',
    message: 'MTF run completed',
    data: {
      summary: {
        run_id: run.run_id,
        execution_time_seconds: executionSeconds(run, endedAt),
        symbols_requested: requested,
        symbols_processed: processed.length,
        symbols_successful: successful,
        symbols_failed: failed,
        symbols_skipped: 0,
        success_rate: requested === 0 ? 0 : round((successful / requested) * 100, 2),
        dry_run: params.dry_run,
        force_run: params.force_run,
        timestamp: formatTimestamp(endedAt),
      },
      results,
      errors,
      workers: params.workers,
    },
  };
}

function finalBody(run: RunState, endedAt: number): unknown {
  if (run.outcome === undefined) {
    run.outcome = runFailed(run)
      ? { status: 'error', message: 'MTF run failed: simulated internal error', data: { run_id: run.run_id } }
      : runBody(run, endedAt);
  }
  return run.outcome;
}

export const SEED_ANSWERS: Generation = {
  symbols: { fallback: DEFAULT_SYMBOLS, dedupe: false },
  finished(run: RunState, endedAt: number): Answer {
    return { status: run.result === 'error' ? 500 : 200, body: finalBody(run, endedAt) };
  },
  finishedWithStatus(run: RunState, endedAt: number, status: string): unknown {
    return { ...(finalBody(run, endedAt) as Record<string, unknown>), status };
  },
  statusRead(run: RunState, now: number): unknown {
    if (!isFinished(run, now)) return { status: 'running', data: { run_id: run.run_id } };
    return finalBody(run, endOf(run, now));
  },
  internalErrorBody: { status: 'error', message: 'MTF run failed: Internal Server Error (simulated)' },
  wrongShapeBody: { status: 'success', data: {} },
  invalidJsonText: '{"status":"success","message":"MTF run completed","data":{"summary":{"run_id":',
  paddedBodyStart: '{"status":"success","message":"MTF run completed","data":{"padding":"',
};

const KILL_SWITCH_MESSAGE = 'Global kill switch is OFF. Use force_run=true to override.';

/** The seed-era 403: both generations give it, as an app that still checks the switch up front would. */
export function killSwitchRefusal(): unknown {
  return { status: 'error', message: KILL_SWITCH_MESSAGE, data: { run_id: randomUUID(), global_switch: false } };
}
