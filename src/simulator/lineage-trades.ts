/**
 * The trades a run causes, as today's app records them after the run: each READY contract's
 * decision is dispatched, becomes an order intent (or is skipped), and leaves lifecycle events,
 * all filed under the caller's X-Run-Id. The simulator decides a run's trades once, when the run
 * is answered, so every read of the lineage API lists the same ids; only the times wait for the
 * run's end, which an accepted run reaches on its own.
 */
import type { TradeStatus } from './behaviour';
import type { RunState } from './runs';
import { readyContracts } from './answers-today';
import { hashString, mulberry32 } from './prng';
import { endOf, isFinished } from './runs';

/** Of the trades skipped at entry, this share was skipped before any order intent: the app lists those unmatched. */
const SKIPPED_BEFORE_INTENT_SHARE = 0.25;

export type EventType = 'symbol_skipped' | 'order_submitted' | 'order_expired' | 'position_opened' | 'position_closed';

export interface TradeEvent {
  id: number;
  event_type: EventType;
  reason_code: string | null;
  /** When it happened, as a share of the lineage delay after the run's end: every event is past once the trade is listed. */
  at: number;
}

export interface Trade {
  status: TradeStatus;
  symbol: string;
  side: 'LONG' | 'SHORT';
  decision_key: string;
  internal_trade_id: string;
  internal_position_id: string | null;
  /** null for an unmatched trade (`none`): it never got a lineage record. */
  lineage_id: number | null;
  order_intent_id: number | null;
  client_order_id: string | null;
  exchange_order_id: string | null;
  events: TradeEvent[];
}

export interface RunTrades {
  readonly run: RunState;
  /** The X-Run-Id as the caller sent it. */
  readonly orchestration_run_id: string;
  /** Its canonical form: the app's run id. */
  readonly correlation_run_id: string;
  readonly trades: readonly Trade[];
}

/**
 * A trade's status: the behaviour's list in turn when it names one, else drawn per symbol, seed
 * and run (like `contractThrows`), so the same seed gives the same trades at the same runs.
 */
function statusOf(run: RunState, symbol: string, index: number): TradeStatus {
  const { statuses, failed_share } = run.trades;
  if (statuses !== null) return statuses[index % statuses.length] ?? 'SENT';
  const draw = mulberry32((hashString(`trade:${symbol}:${run.ordinal}`) ^ Math.imul(run.seed | 0, 0x165667b1)) >>> 0);
  if (draw() >= failed_share) return 'SENT';
  return draw() < SKIPPED_BEFORE_INTENT_SHARE ? 'none' : 'FAILED';
}

/** What each status leaves behind: a sent order opens a position, a cancelled one expires, a skipped entry says why. */
const EVENTS_OF: Record<TradeStatus, readonly Omit<TradeEvent, 'id'>[]> = {
  SENT: [
    { event_type: 'order_submitted', reason_code: null, at: 0.5 },
    { event_type: 'position_opened', reason_code: null, at: 1 },
  ],
  CANCELLED: [
    { event_type: 'order_submitted', reason_code: null, at: 0.5 },
    { event_type: 'order_expired', reason_code: null, at: 1 },
  ],
  FAILED: [{ event_type: 'symbol_skipped', reason_code: 'skipped_out_of_zone', at: 0.5 }],
  none: [{ event_type: 'symbol_skipped', reason_code: 'skipped_out_of_zone', at: 0.5 }],
  DRAFT: [],
  VALIDATED: [],
  READY_TO_SEND: [],
};

/** Reached the exchange: the app's fake exchange gives dry runs an order id too. */
const reachedExchange = (status: TradeStatus): boolean => status === 'SENT' || status === 'CANCELLED';

/** Stable per trade id (the ids below are unique, so these are too, and a second simulator repeats them). */
function clientOrderId(tradeId: string): string {
  const hex = (salt: string) => hashString(`${salt}:${tradeId}`).toString(16).padStart(8, '0');
  return `MTF${hex('client')}${hex('order')}`.toUpperCase();
}

function exchangeOrderId(tradeId: string): string {
  const draw = mulberry32(hashString(`exchange:${tradeId}`));
  return String(100_000_000_000 + Math.floor(draw() * 281_000_000_000_000));
}

/**
 * Every trade the simulated app has recorded, with the counters behind its numeric ids. A run's
 * trades are numbered by the book's own count of runs, not by the run's ordinal, which restarts
 * when a test sets the seed again: ids must never repeat.
 */
export class TradeBook {
  private readonly entries: RunTrades[] = [];
  private runs = 0;
  private lineageIds = 0;
  private intentIds = 0;
  private eventIds = 0;

  /** Files the run's READY contracts as trades; runs without an X-Run-Id, of the seed-era app, or with none READY make none. */
  record(run: RunState): void {
    if (run.answer !== 'today' || run.x_run_id === null) return;
    const ready = readyContracts(run);
    if (ready.length === 0) return;
    this.runs += 1;
    const n = this.runs;
    const trades = ready.map(({ symbol, verdict }, index): Trade => {
      const status = statusOf(run, symbol, index);
      const internal_trade_id = `T-${n}-${symbol}`;
      const matched = status !== 'none';
      const reached = reachedExchange(status);
      return {
        status,
        symbol,
        side: verdict.signal_side,
        decision_key: `${run.run_id}:${symbol}:${verdict.execution_tf}:${verdict.signal_side}`,
        internal_trade_id,
        internal_position_id: status === 'SENT' ? `P-${n}-${symbol}` : null,
        lineage_id: matched ? (this.lineageIds += 1) : null,
        order_intent_id: matched ? (this.intentIds += 1) : null,
        client_order_id: matched ? clientOrderId(internal_trade_id) : null,
        exchange_order_id: reached ? exchangeOrderId(internal_trade_id) : null,
        events: EVENTS_OF[status].map((event) => ({ id: (this.eventIds += 1), ...event })),
      };
    });
    this.entries.push({ run, orchestration_run_id: run.x_run_id, correlation_run_id: run.run_id, trades });
  }

  /** The runs whose trades the app lists by now: ended, and the lineage delay past. */
  listed(now: number): RunTrades[] {
    return this.entries.filter(({ run }) => isFinished(run, now) && endOf(run, now) + run.trades.delay_ms <= now);
  }
}
