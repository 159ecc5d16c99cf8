/**
 * What a test (or the `simulator` command) can ask of the simulator, and the defaults: the
 * simulator answers like a healthy app until told otherwise.
 */

/** The answers the simulator can give instead of the app's own, each a way a deployment fails a client (faults.ts). */
export const SIMULATOR_FAULTS = [
  'none',
  'kill_switch_off',
  'http500',
  'http422',
  'html200',
  'html502',
  'html503',
  'html504',
  'html504_after_run',
  'invalid_json',
  'wrong_shape',
  'unknown_status',
  'oversized',
  'cut_off',
  'hang',
  'slow_drip',
] as const;
export type SimulatorFault = (typeof SIMULATOR_FAULTS)[number];

/** The faults `error_rate` picks from, in this order. */
export const RANDOM_FAULTS: readonly SimulatorFault[] = ['http500', 'html502', 'html503', 'html504', 'kill_switch_off'];

/**
 * How a run ends. `success`: every symbol processed (those `throw_share` / `throw_symbols` pick
 * still throw); `partial_success`: the last symbol throws too; `all_errored`: every symbol throws;
 * `none_processed`: the exchange is down, no symbol is processed; `error`: the run fails (sync:
 * HTTP 500); `error_200`: the run fails but the answer is an HTTP 200 whose status is `error`.
 * The status word the answer gives follows from what happened, in the path's own words.
 */
export type SimulatorRunResult = 'success' | 'partial_success' | 'all_errored' | 'none_processed' | 'error' | 'error_200';

export const RUN_RESULTS: readonly SimulatorRunResult[] = [
  'success',
  'partial_success',
  'all_errored',
  'none_processed',
  'error',
  'error_200',
];

/** What the `simulator` command and `npm start` give `lineage_delay`: the app's other process takes a second or so. */
export const DEMO_LINEAGE_DELAY = 1;

/** Which generation of the app's answer to serve (docs/mtf-api.md describes both). */
export type SimulatorAnswer = 'today' | 'seed';

export const ANSWER_GENERATIONS: readonly SimulatorAnswer[] = ['today', 'seed'];

/** Order statuses today's app reports; `order_status` may also name another one, to test a client's fallback. */
export const KNOWN_ORDER_STATUSES: readonly string[] = [
  'simulated',
  'submitted',
  'submitted_protected',
  'entry_submitted',
  'failed_unprotected_closed',
  'critical_unprotected_position',
];

/**
 * What the app's lineage API can say of one trade's order intent (its `status`), plus `none`: the
 * trade entry was skipped before any order intent, and the app lists only its lifecycle event
 * (an "unmatched" item, no lineage).
 */
export type TradeStatus = 'DRAFT' | 'VALIDATED' | 'READY_TO_SEND' | 'SENT' | 'FAILED' | 'CANCELLED' | 'none';

export const TRADE_STATUSES: readonly TradeStatus[] = ['DRAFT', 'VALIDATED', 'READY_TO_SEND', 'SENT', 'FAILED', 'CANCELLED', 'none'];

/** Whether today's app serves its lineage read API: `absent` answers the route as an older release would (nginx's HTML 404). */
export type LineageMode = 'on' | 'absent';

export const LINEAGE_MODES: readonly LineageMode[] = ['on', 'absent'];

/** The share of READY contracts when a test does not say: high, so that five symbols hold both verdicts. */
export const DEFAULT_READY_SHARE = 0.4;

export interface SimulatorBehaviour {
  /** 'today': the app's current answer (data.run, data.symbols...); 'seed': the seed-era answer (data.summary, data.results). */
  answer: SimulatorAnswer;
  /** sync: POST answers 200 when the run has finished; async: POST answers 202 with a run id. */
  mode: 'sync' | 'async';
  /** sync: time before the answer; async: time from acceptance until the run ends. */
  latency_ms: number;
  /** Applied to /api/mtf/run requests. */
  fault: SimulatorFault;
  /** The fault applies to this many run requests, then the server behaves normally; null = always. */
  fault_count: number | null;
  /** 0..1: this fraction of run requests without an explicit fault get a random fault (seeded). */
  error_rate: number;
  /** Seed of the error_rate PRNG and of the throw_share draws (setting it restarts both sequences) and, today, of the per-symbol verdicts. */
  seed: number;
  /** How a run ends. */
  run_result: SimulatorRunResult;
  /** async: whether the 202 body carries data.status_url. */
  include_status_url: boolean;
  /** The global kill switch (true = trading allowed). */
  kill_switch_on: boolean;
  /** today: a live (dry_run false) run is refused with status `rejected` (no reliable open-state source). */
  reject_live: boolean;
  /**
   * today: the answer lists an order per READY contract with this status, or a list's statuses in
   * turn (the READY contracts in the order the run takes them, the list repeated): the shape the
   * app's enricher would fill. null = no order listed, as the app answers today (it dispatches
   * each decision after the run, so `orders_placed` is always empty).
   */
  order_status: string | string[] | null;
  /** today: the share of contracts that come out READY, 0..1 (the app's own runs see about 0.02). */
  ready_share: number;
  /** today: the app's active contracts, run when a request names none; null = ACTIVE_CONTRACTS (12). */
  active_contracts: string[] | null;
  /** The share of contracts that throw while analysed, 0..1, drawn per symbol, seed and run (see contractThrows). */
  throw_share: number;
  /** These contracts throw on every run, as a delisted contract does. */
  throw_symbols: string[];
  /** today: whether `GET /api/lineage/v1/search` exists ('on') or answers like an older release ('absent'). */
  lineage: LineageMode;
  /**
   * today: seconds from a run's answer (an accepted run: its end) until its trades are listed; 404
   * lineage_not_found before. 0 by default, so a test's loop waits for nothing it did not ask for;
   * the `simulator` command and `npm start` use {@link DEMO_LINEAGE_DELAY}.
   */
  lineage_delay: number;
  /**
   * today: the share of trades skipped at entry (a FAILED order intent, one `symbol_skipped`
   * event), drawn per symbol, seed and run; the others are SENT. A quarter of the skipped ones
   * were skipped before any order intent: the app lists them as unmatched items.
   */
  trade_failed_share: number;
  /** today: the trades take these statuses in turn (the READY contracts in the run's order, the list repeated) instead of the draw; null = drawn. */
  trade_statuses: TradeStatus[] | null;
}

export const DEFAULT_BEHAVIOUR: SimulatorBehaviour = {
  answer: 'today',
  mode: 'sync',
  latency_ms: 0,
  fault: 'none',
  fault_count: null,
  error_rate: 0,
  seed: 1,
  run_result: 'success',
  include_status_url: true,
  kill_switch_on: true,
  reject_live: false,
  order_status: null,
  ready_share: DEFAULT_READY_SHARE,
  active_contracts: null,
  throw_share: 0,
  throw_symbols: [],
  lineage: 'on',
  lineage_delay: 0,
  trade_failed_share: 0.2,
  trade_statuses: null,
};

/** Throws on a behaviour the simulator cannot serve, naming the field. */
export function validateBehaviour(b: SimulatorBehaviour): void {
  if (!ANSWER_GENERATIONS.includes(b.answer)) throw new Error(`invalid answer: ${String(b.answer)} (expected 'today' or 'seed')`);
  if (b.mode !== 'sync' && b.mode !== 'async') throw new Error(`invalid mode: ${String(b.mode)}`);
  if (!Number.isFinite(b.latency_ms) || b.latency_ms < 0) throw new Error(`invalid latency_ms: ${b.latency_ms}`);
  if (!SIMULATOR_FAULTS.includes(b.fault)) throw new Error(`invalid fault: ${String(b.fault)}`);
  if (b.fault_count !== null && (!Number.isInteger(b.fault_count) || b.fault_count < 0)) {
    throw new Error(`invalid fault_count: ${b.fault_count}`);
  }
  if (!(b.error_rate >= 0 && b.error_rate <= 1)) throw new Error(`invalid error_rate: ${b.error_rate}`);
  if (!Number.isFinite(b.seed)) throw new Error(`invalid seed: ${b.seed}`);
  if (!RUN_RESULTS.includes(b.run_result)) {
    throw new Error(`invalid run_result: ${String(b.run_result)} (expected one of ${RUN_RESULTS.join(', ')})`);
  }
  if (typeof b.reject_live !== 'boolean') throw new Error(`invalid reject_live: ${String(b.reject_live)} (expected true or false)`);
  const statuses = Array.isArray(b.order_status) ? b.order_status : [b.order_status];
  const badStatus = (s: unknown) => typeof s !== 'string' || s.trim() === '';
  if (b.order_status !== null && (statuses.length === 0 || statuses.some(badStatus))) {
    throw new Error(
      `invalid order_status: ${JSON.stringify(b.order_status)} (expected a non-empty string, a non-empty list of them, or null)`,
    );
  }
  if (!(typeof b.ready_share === 'number' && b.ready_share >= 0 && b.ready_share <= 1))
    throw new Error(`invalid ready_share: ${String(b.ready_share)} (expected 0..1)`);
  const contracts = b.active_contracts;
  if (
    contracts !== null &&
    (!Array.isArray(contracts) || contracts.length === 0 || contracts.some((c) => typeof c !== 'string' || c.trim() === ''))
  ) {
    throw new Error(`invalid active_contracts: ${JSON.stringify(contracts)} (expected a non-empty list of symbols, or null)`);
  }
  if (!(typeof b.throw_share === 'number' && b.throw_share >= 0 && b.throw_share <= 1))
    throw new Error(`invalid throw_share: ${String(b.throw_share)} (expected 0..1)`);
  if (!Array.isArray(b.throw_symbols) || b.throw_symbols.some((c) => typeof c !== 'string' || c.trim() === '')) {
    throw new Error(`invalid throw_symbols: ${JSON.stringify(b.throw_symbols)} (expected a list of symbols)`);
  }
  if (!LINEAGE_MODES.includes(b.lineage)) throw new Error(`invalid lineage: ${JSON.stringify(b.lineage)} (expected 'on' or 'absent')`);
  if (!(typeof b.lineage_delay === 'number' && Number.isFinite(b.lineage_delay) && b.lineage_delay >= 0)) {
    throw new Error(`invalid lineage_delay: ${JSON.stringify(b.lineage_delay)} (expected seconds, 0 or more)`);
  }
  if (!(typeof b.trade_failed_share === 'number' && b.trade_failed_share >= 0 && b.trade_failed_share <= 1)) {
    throw new Error(`invalid trade_failed_share: ${JSON.stringify(b.trade_failed_share)} (expected 0..1)`);
  }
  const tradeStatuses: unknown = b.trade_statuses;
  if (
    tradeStatuses !== null &&
    (!Array.isArray(tradeStatuses) || tradeStatuses.length === 0 || tradeStatuses.some((s) => !TRADE_STATUSES.includes(s as TradeStatus)))
  ) {
    throw new Error(
      `invalid trade_statuses: ${JSON.stringify(tradeStatuses)} (expected a non-empty list of ${TRADE_STATUSES.join(', ')}, or null)`,
    );
  }
}

/**
 * The fault for one run request: the explicit one while fault_count lasts, else (error_rate) maybe
 * a random one. Returns the behaviour to keep, with fault_count consumed.
 */
export function pickFault(b: SimulatorBehaviour, random: () => number): { fault: SimulatorFault; next: SimulatorBehaviour } {
  if (b.fault !== 'none' && (b.fault_count === null || b.fault_count > 0)) {
    return { fault: b.fault, next: b.fault_count === null ? b : { ...b, fault_count: b.fault_count - 1 } };
  }
  // One draw per run request decides; a second picks which fault: same seed, same sequence.
  if (b.error_rate > 0 && random() < b.error_rate) {
    const index = Math.floor(random() * RANDOM_FAULTS.length);
    return { fault: RANDOM_FAULTS[index] ?? 'http500', next: b };
  }
  return { fault: 'none', next: b };
}
