/**
 * The answer today's app gives (docs/mtf-api.md, "The app as it answers today"), on the path
 * the request asks for, as the app's runner takes it:
 *
 * | what                  | sequential (`workers` 1 or absent)           | parallel (`workers` > 1)                  |
 * | --------------------- | -------------------------------------------- | ----------------------------------------- |
 * | status (= run.status) | success; partial_failure (some threw, one    | completed; completed_with_errors (some    |
 * |                       | READY at least); error (some threw, none)    | contract threw)                           |
 * | `data.run`            | the validator's record: whole seconds,       | the runner's: `symbols_failed` = INVALID, |
 * |                       | `symbols_failed` = threw, `symbols_skipped`  | `dry_run`, `force_run`, `current_tf`,     |
 * |                       | = INVALID, a `results` dump, `message` null  | `polling_*`                               |
 * | a contract that threw | absent from `data.symbols`; in `data.errors` | absent; `Worker SYM: …` in `data.errors`  |
 * |                       | as `{ symbol, error, trace }`                |                                           |
 * | empty maps            | `[]` (`data.symbols`, `performance`)         | `[]` for no symbols                       |
 *
 * On both paths `orders_placed` is empty: the app dispatches each decision after the run. With
 * `order_status` set, the answer lists an order per READY contract, the shape the app's enricher
 * would fill. The status route reads like the app's run controller: top-level `success` means the
 * read worked; whether the run has ended is in `data.run.status` and `data.run.finished_at`.
 */
import type { Answer, Generation, RunState } from './runs';
import type { PlacedOrder } from './orders';
import type { RunParams } from './params';
import { ACTIVE_CONTRACTS, verdictOf, type Verdict } from './verdicts';
import { NO_ORDERS_REJECTED, decideOrder, ordersPlaced } from './orders';
import { EXCHANGE_DOWN, contractThrows, endOf, executionSeconds, formatTimestamp, isFinished, round, runFailed } from './runs';

const MESSAGE = 'MTF run completed';
const INTERNAL_ERROR_MESSAGE = 'Unable to run MTF cycle.';
/** error_200: a run that failed as a whole, answered with HTTP 200. */
const RUN_FAILED_MESSAGE = 'MTF validation failed: exchange timeout while loading klines (simulated)';
const LIVE_REFUSED_MESSAGE = 'Live run refused: no reliable source of open positions and orders';
/** What a contract that throws throws (the sequential path keeps it; the parallel path loses it). */
const THROWN_MESSAGE = 'Kline fetch failed: exchange timeout (simulated)';
/** The parallel path's word for a worker that gave back nothing (the app loses the exception's message). */
const WORKER_GAVE_NOTHING = 'no results returned';
const TF_KEYS = ['1m', '5m', '15m', '1h', '4h'] as const;

type JsonMap = Record<string, unknown>;

/** One contract the run took: its verdict, or the exception it threw. */
type Analysed = { symbol: string; verdict: Verdict } | { symbol: string; threw: string };

interface TodayRunData {
  run: JsonMap;
  /** A map, or `[]` when empty (PHP's empty map). */
  symbols: JsonMap | [];
  errors: unknown[];
  workers: number;
  summary_by_tf: Record<string, string[]>;
  rejected_by: string[];
  last_validated: { symbol: string; side: string; timeframe: string | null }[];
  performance: JsonMap | [];
  orders_placed: unknown;
}

/** A PHP stack trace as the app's validator puts it beside each error: many lines, file paths of its servers. */
function phpTrace(symbol: string): string {
  return [
    `#0 /var/www/html/src/MtfValidator/Service/Kline/KlineProvider.php(142): App\\MtfValidator\\Service\\Kline\\KlineProvider->fetch('${symbol}', '15m')`,
    '#1 /var/www/html/src/MtfValidator/Service/Timeframe/TimeframeValidator.php(88): App\\MtfValidator\\Service\\Kline\\KlineProvider->load()',
    '#2 /var/www/html/src/MtfValidator/Service/MtfCoreValidator.php(211): App\\MtfValidator\\Service\\Timeframe\\TimeframeValidator->validate()',
    '#3 /var/www/html/src/MtfValidator/Service/MtfValidatorService.php(73): App\\MtfValidator\\Service\\MtfCoreValidator->validate()',
    '#4 /var/www/html/src/MtfRunner/Service/MtfRunnerService.php(478): App\\MtfValidator\\Service\\MtfValidatorService->run()',
    '#5 /var/www/html/src/Controller/RunnerController.php(190): App\\MtfRunner\\Service\\MtfRunnerService->run()',
    '#6 /var/www/html/vendor/symfony/http-kernel/HttpKernel.php(181): App\\Controller\\RunnerController->__invoke()',
    '#7 {main}',
  ].join('\n');
}

function analyse(run: RunState): Analysed[] {
  if (run.result === 'none_processed') return [];
  return run.params.symbols.map((symbol, index) =>
    contractThrows(run, symbol, index)
      ? { symbol, threw: THROWN_MESSAGE }
      : { symbol, verdict: verdictOf(symbol, run.seed, run.ready_share) },
  );
}

/**
 * The contracts the run found READY, in the order it took them: the ones whose decision the app
 * dispatches after the run, each of which becomes a trade (lineage-trades.ts). None for a failed run.
 */
export function readyContracts(run: RunState): { symbol: string; verdict: Extract<Verdict, { status: 'READY' }> }[] {
  if (runFailed(run)) return [];
  return analyse(run).flatMap((c) => ('verdict' in c && c.verdict.status === 'READY' ? [{ symbol: c.symbol, verdict: c.verdict }] : []));
}

/** The READY contracts' orders when the behaviour lists them (`order_status`), each on its contract's entry too. */
class OrderBook {
  readonly orders: PlacedOrder[] = [];
  constructor(private readonly run: RunState) {}

  decide(symbol: string, verdict: Extract<Verdict, { status: 'READY' }>): JsonMap {
    const { order_status } = this.run;
    if (order_status === null) return {};
    const status = Array.isArray(order_status) ? (order_status[this.orders.length % order_status.length] ?? 'simulated') : order_status;
    const decision = decideOrder({
      run_id: this.run.run_id,
      symbol,
      execution_tf: verdict.execution_tf,
      side: verdict.signal_side,
      status,
    });
    this.orders.push({ symbol, ...decision });
    return { trading_decision: decision };
  }
}

function byTimeframe(): Record<string, string[]> {
  return Object.fromEntries(TF_KEYS.map((tf) => [tf, [] as string[]]));
}

function mapOrList(map: JsonMap): JsonMap | [] {
  return Object.keys(map).length === 0 ? [] : map;
}

/** What every path writes per contract it analysed; `blocking_tf` is the parallel worker's addition. */
function entryOf(symbol: string, verdict: Verdict, book: OrderBook, withBlockingTf: boolean): JsonMap {
  if (verdict.status === 'READY') {
    const { execution_tf, signal_side } = verdict;
    return {
      symbol,
      status: 'READY',
      execution_tf,
      signal_side,
      reason: `${signal_side} signal confirmed on ${execution_tf}`,
      context: {},
      execution: {},
      ...book.decide(symbol, verdict),
    };
  }
  const blocking = withBlockingTf ? { blocking_tf: verdict.blocking_tf } : {};
  return {
    symbol,
    status: 'INVALID',
    execution_tf: null,
    signal_side: null,
    reason: `${verdict.blocking_tf} not aligned`,
    ...blocking,
    context: {},
    execution: {},
  };
}

/** What the runner and its enricher add around the run record, the same on both paths. */
function runData(
  run: RunState,
  record: JsonMap,
  found: { symbols: JsonMap; errors: unknown[]; byTf: Record<string, string[]>; book: OrderBook },
  performance: JsonMap | [],
): TodayRunData {
  const entries = Object.values(found.symbols) as { status: string; symbol: string }[];
  return {
    run: record,
    symbols: mapOrList(found.symbols),
    errors: found.errors,
    workers: run.params.workers,
    summary_by_tf: found.byTf,
    rejected_by: entries
      .filter((e) => e.status !== 'READY')
      .map((e) => e.symbol)
      .sort(),
    last_validated: [],
    performance,
    orders_placed: ordersPlaced(found.book.orders),
  };
}

/** The sequential path: `MtfValidatorService::run`'s record, the runner's map of READY and INVALID contracts. */
function sequentialData(run: RunState, endedAt: number): TodayRunData {
  const book = new OrderBook(run);
  const symbols: JsonMap = {};
  const results: unknown[] = [];
  const errors: { symbol?: string; error: string; trace: string }[] = [];
  const byTf = byTimeframe();
  for (const contract of analyse(run)) {
    if ('threw' in contract) {
      errors.push({ symbol: contract.symbol, error: contract.threw, trace: phpTrace(contract.symbol) });
      continue;
    }
    const entry = entryOf(contract.symbol, contract.verdict, book, false);
    symbols[contract.symbol] = entry;
    if (contract.verdict.status === 'READY') byTf[contract.verdict.execution_tf]?.push(contract.symbol);
    // The validator's own dump of each analysed contract: it repeats data.symbols, larger.
    results.push({
      symbol: contract.symbol,
      result: {
        ...entry,
        is_tradable: contract.verdict.status === 'READY',
        evaluated_timeframes: [...TF_KEYS].reverse(),
        indicators: { rsi: 50, macd: 0, atr: 0 },
      },
    });
  }
  const threw = errors.length;
  // The exchange is down: one error for the run, no contract processed.
  if (run.result === 'none_processed') errors.push({ error: EXCHANGE_DOWN, trace: phpTrace('*') });
  const entries = Object.values(symbols) as { status: string; symbol: string }[];
  const ready = entries.filter((e) => e.status === 'READY').length;
  const skipped = entries.length - ready;
  const processed = ready + skipped + threw;
  const status = errors.length === 0 ? 'success' : ready > 0 ? 'partial_failure' : 'error';
  const record = {
    run_id: run.run_id,
    status,
    // The validator counts whole seconds.
    execution_time_seconds: Math.floor(executionSeconds(run, endedAt)),
    symbols_requested: run.params.symbols.length,
    symbols_processed: processed,
    symbols_successful: ready,
    symbols_failed: threw,
    symbols_skipped: skipped,
    success_rate: processed > 0 ? (ready / processed) * 100 : 0,
    results,
    errors,
    timestamp: formatTimestamp(endedAt),
    message: null,
  };
  return runData(run, record, { symbols, errors, byTf, book }, []);
}

function performance(seconds: number, processed: number): JsonMap {
  const part = (share: number, count: number): unknown => ({ count, total_time: round(seconds * share, 3) });
  return {
    total_time: seconds,
    runner: {
      resolve_symbols: part(0.02, 1),
      sync_tables: part(0.08, 1),
      mtf_execution: part(0.85, processed),
      post_processing: part(0.05, 1),
    },
  };
}

/** The parallel path: one worker process per contract; the runner's own figures and error strings. */
function parallelData(run: RunState, endedAt: number): TodayRunData {
  const book = new OrderBook(run);
  const symbols: JsonMap = {};
  const errors: string[] = [];
  const byTf = byTimeframe();
  for (const contract of analyse(run)) {
    if ('threw' in contract) {
      errors.push(`Worker ${contract.symbol}: ${WORKER_GAVE_NOTHING}`);
      continue;
    }
    symbols[contract.symbol] = entryOf(contract.symbol, contract.verdict, book, true);
    const { verdict } = contract;
    byTf[verdict.status === 'READY' ? verdict.execution_tf : verdict.blocking_tf]?.push(contract.symbol);
  }
  // The exchange is down: the run ends before any symbol, with one error for the run.
  if (run.result === 'none_processed') errors.push(EXCHANGE_DOWN);
  const entries = Object.values(symbols) as { status: string; symbol: string }[];
  const processed = entries.length;
  const ready = entries.filter((e) => e.status === 'READY').length;
  const seconds = executionSeconds(run, endedAt);
  const record = {
    run_id: run.run_id,
    execution_time_seconds: seconds,
    symbols_requested: run.params.symbols.length,
    symbols_processed: processed,
    symbols_successful: ready,
    symbols_failed: processed - ready,
    symbols_skipped: 0,
    success_rate: processed > 0 ? round((ready / processed) * 100, 2) : 0,
    dry_run: run.params.dry_run,
    force_run: run.params.force_run,
    current_tf: run.params.current_tf,
    timestamp: formatTimestamp(endedAt),
    status: errors.length > 0 ? 'completed_with_errors' : 'completed',
    polling_time_seconds: round(seconds * 0.1, 3),
    polling_count: processed,
  };
  return runData(run, record, { symbols, errors, byTf, book }, performance(seconds, processed));
}

/** A run that failed as a whole: nothing processed, one error, run status `error`. */
function failedRunData(run: RunState, endedAt: number, message: string): TodayRunData {
  const sequential = run.params.workers === 1;
  const errors = sequential ? [{ error: message, trace: phpTrace('*') }] : [message];
  return {
    run: {
      run_id: run.run_id,
      status: 'error',
      execution_time_seconds: executionSeconds(run, endedAt),
      symbols_requested: run.params.symbols.length,
      symbols_processed: 0,
      symbols_successful: 0,
      symbols_failed: 0,
      symbols_skipped: 0,
      success_rate: 0,
      ...(sequential && { results: [], errors }),
      timestamp: formatTimestamp(endedAt),
      message,
    },
    symbols: [],
    errors,
    workers: run.params.workers,
    summary_by_tf: byTimeframe(),
    rejected_by: [],
    last_validated: [],
    performance: [],
    orders_placed: ordersPlaced([]),
  };
}

/** Computed once per run, so every read carries the same figures and order ids. */
function outcomeOf(run: RunState, endedAt: number): TodayRunData {
  if (run.outcome === undefined) {
    const message = run.result === 'error' ? INTERNAL_ERROR_MESSAGE : RUN_FAILED_MESSAGE;
    if (runFailed(run)) run.outcome = failedRunData(run, endedAt, message);
    else run.outcome = run.params.workers > 1 ? parallelData(run, endedAt) : sequentialData(run, endedAt);
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
    if (!isFinished(run, now))
      return { status: 'success', data: { run: { run_id: run.run_id, status: 'running', started_at, finished_at: null } } };
    const endedAt = endOf(run, now);
    const data = outcomeOf(run, endedAt);
    return { status: 'success', data: { ...data, run: { ...data.run, started_at, finished_at: formatTimestamp(endedAt) } } };
  },
  internalErrorBody: INTERNAL_ERROR_BODY,
  wrongShapeBody: { status: 'completed', data: {} },
  invalidJsonText: '{"status":"completed","message":"MTF run completed","data":{"run":{"run_id":',
  paddedBodyStart: '{"status":"completed","message":"MTF run completed","data":{"padding":"',
};
