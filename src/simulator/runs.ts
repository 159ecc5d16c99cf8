/**
 * One run as the simulated app holds it, and what each generation of the app's answer must be
 * able to say about it. A run's outcome is computed once, the first time it is seen finished, so
 * that every later read of it carries the same figures and ids.
 */
import type { SimulatorBehaviour, TradeStatus } from './behaviour';
import type { RunParams } from './params';
import { hashString, mulberry32 } from './prng';

export interface RunState {
  run_id: string;
  params: RunParams;
  /** The behaviour the run was started under: a later setBehaviour does not change a running run. */
  answer: SimulatorBehaviour['answer'];
  result: SimulatorBehaviour['run_result'];
  /** Today's per-symbol verdicts follow this seed. */
  seed: number;
  order_status: SimulatorBehaviour['order_status'];
  ready_share: number;
  throw_share: number;
  throw_symbols: readonly string[];
  /** The caller's X-Run-Id as sent: today's app files every trade the run causes under it; null: no header, no trades. */
  x_run_id: string | null;
  /** How the run's trades read on the lineage API (lineage-trades.ts), fixed when it starts. */
  trades: { delay_ms: number; failed_share: number; statuses: readonly TradeStatus[] | null };
  /** The run's rank among the runs started since the seed was last set, from 1: `throw_share` draws anew per run. */
  ordinal: number;
  started_at: number;
  /** When the run ends on its own (async). */
  ends_at: number;
  /** Set by completeRun, or when a sync run answers. */
  completed_at: number | null;
  /** The generation's own record of the finished run; undefined until first seen finished. */
  outcome: unknown;
}

export function isFinished(run: RunState, now: number): boolean {
  return run.completed_at !== null || now >= run.ends_at;
}

/** When a finished run ended: when it was completed, else when it was due to end. */
export function endOf(run: RunState, now: number): number {
  return run.completed_at ?? Math.min(now, run.ends_at);
}

export interface Answer {
  status: number;
  body: unknown;
}

/** The bodies one generation of the app gives; the routes and faults are the same for both. */
export interface Generation {
  /** What an empty or absent `symbols` means, and whether repeated symbols are run once. */
  readonly symbols: { readonly fallback: readonly string[]; readonly dedupe: boolean };
  /** The answer to a sync run once it has finished. */
  finished(run: RunState, endedAt: number): Answer;
  /** A finished run's sync body with another top-level status (the unknown_status fault). */
  finishedWithStatus(run: RunState, endedAt: number, status: string): unknown;
  /** The status route's body for an accepted run, running or finished. */
  statusRead(run: RunState, now: number): unknown;
  /** The app's own answer to an internal failure (HTTP 500). */
  readonly internalErrorBody: unknown;
  /** HTTP 200 JSON that is not a run's answer. */
  readonly wrongShapeBody: unknown;
  /** A run's answer cut short: HTTP 200 JSON that does not parse. */
  readonly invalidJsonText: string;
  /** Where a dripping or oversized answer starts; padding follows, inside a JSON string. */
  readonly paddedBodyStart: string;
}

/** The message of a failed exchange, in both generations' `none_processed` runs. */
export const EXCHANGE_DOWN = 'Exchange unavailable: Bitmart API did not answer (simulated)';

/** True if the run failed as a whole (no per-symbol results). */
export function runFailed(run: RunState): boolean {
  return run.result === 'error' || run.result === 'error_200';
}

/**
 * Whether the contract at `index` throws while analysed: every one (`all_errored`), the last one
 * (`partial_success`), those named in `throw_symbols` (on every run, as a delisted contract does),
 * and `throw_share` of the others, drawn per symbol, seed and run (an exchange timeout strikes one
 * run, not the next): the same seed gives the same contracts at the same runs.
 */
export function contractThrows(run: RunState, symbol: string, index: number): boolean {
  if (run.result === 'all_errored') return true;
  if (run.result === 'partial_success' && index === run.params.symbols.length - 1) return true;
  if (run.throw_symbols.includes(symbol)) return true;
  if (run.throw_share <= 0) return false;
  const draw = mulberry32((hashString(`throw:${symbol}:${run.ordinal}`) ^ Math.imul(run.seed | 0, 0x165667b1)) >>> 0);
  return draw() < run.throw_share;
}

export function formatTimestamp(ms: number): string {
  // 'YYYY-MM-DD HH:MM:SS' in UTC, as the app writes it.
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function executionSeconds(run: RunState, endedAt: number): number {
  return round(Math.max(0, endedAt - run.started_at) / 1000, 3);
}
