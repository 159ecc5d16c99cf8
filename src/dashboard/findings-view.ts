/**
 * What the last cycle found, in the words every other view uses (src/shared/findings.ts): the
 * server writes the texts, the page only places them, so the dashboard cannot drift from the
 * CLI, the logs and the Temporal UI.
 */
import {
  PROTECTION_ALERT_STATUSES,
  contractsText,
  orderCountsText,
  orderText,
  protectionAlertText,
  signalCount,
  signalText,
} from '../shared/findings';
import type { CycleRecord } from '../shared/cycle-record';
import { tradeText, tradesText } from '../shared/trades';

export interface OrderView {
  /** `BTCUSDT critical_unprotected_position (exchange order 123)`. */
  text: string;
  /** A position that lost its stop-loss (critical_unprotected_position, failed_unprotected_closed). */
  alert: boolean;
}

export interface FindingsView {
  iteration: number;
  /** The app's `success_rate` under what it measures today: the share of contracts found READY, percent. */
  ready_share: number | null;
  /** `2 READY · 2 INVALID · 1 errored, of 5 requested`; null when the answer listed no per-contract verdicts. */
  contracts: string | null;
  /** Each READY contract as `BTCUSDT 5m LONG`; [] when the run found none; null when nobody knows. */
  signals: string[] | null;
  signals_unlisted: number;
  /** `5 orders · 2 submitted · 2 pending · 1 PROTECTION FAILED`, the listed ones and the rest counted; null when the answer had none. */
  orders: { counts: string; list: OrderView[]; unlisted: number } | null;
  /** The trades the run caused (`2 · 1 SENT · 1 FAILED`, `pending …`), each by name, the rest counted; null when not read. */
  trades: { counts: string; list: TradeView[]; unlisted: number } | null;
  /** The protection alert's line, naming the orders; null when there is none. */
  alert: string | null;
}

export interface TradeView {
  /** `BTCUSDT LONG SENT (position_opened)`. */
  text: string;
  /** Its order did not go out (FAILED, CANCELLED). */
  failed: boolean;
}

/** Known when a signal is listed or counted, or when the answer gave verdicts (then none is "none"). */
function signalsOf(cycle: CycleRecord): string[] | null {
  if (signalCount(cycle) === 0 && cycle.contracts === null) return null;
  return cycle.signals.map(signalText);
}

function ordersOf(cycle: CycleRecord): FindingsView['orders'] {
  const { orders } = cycle;
  if (!orders) return null;
  const total = `${orders.count.total} order${orders.count.total === 1 ? '' : 's'}`;
  return {
    counts: `${total} · ${orderCountsText(orders.count)}`,
    list: orders.list.map((order) => ({ text: orderText(order), alert: PROTECTION_ALERT_STATUSES.includes(order.status) })),
    unlisted: orders.unlisted,
  };
}

function tradesOf(cycle: CycleRecord): FindingsView['trades'] {
  const { trades } = cycle;
  const counts = trades && trades.state !== 'off' ? tradesText(trades) : null;
  if (!trades || counts === null) return null;
  return {
    counts,
    list: trades.list.map((trade) => ({ text: tradeText(trade), failed: trade.status === 'FAILED' || trade.status === 'CANCELLED' })),
    unlisted: trades.unlisted,
  };
}

/** The last cycle's findings as the page shows them; null before the first cycle. */
export function findingsView(cycle: CycleRecord | null): FindingsView | null {
  if (!cycle) return null;
  return {
    iteration: cycle.iteration,
    ready_share: cycle.ready_share,
    contracts: contractsText(cycle),
    signals: signalsOf(cycle),
    signals_unlisted: cycle.signals_unlisted,
    orders: ordersOf(cycle),
    trades: tradesOf(cycle),
    alert: cycle.protection_alert ? protectionAlertText(cycle) : null,
  };
}
