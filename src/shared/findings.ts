/**
 * What a run found, the way a trader reads it: the READY contracts (timeframe, side), the counts
 * of per-contract verdicts, the orders the run placed, and whether one of them lost its stop-loss
 * protection. The activity reads it from either answer generation (src/activities/run-findings.ts)
 * and hands the workflow only this: it is bounded, so a 150-contract answer adds a few hundred
 * bytes to history, not the app's tens of KiB. Every view (status, CLI, dashboard, Temporal UI,
 * logs, metrics) shows it through the texts below. Imported by workflow code: plain TypeScript.
 */
import * as s from './schema';
import { fallsShort, type Outcome } from './outcomes';

/** Signals listed per cycle; the rest are counted in `signals_unlisted`. */
export const MAX_SIGNALS = 50;
/** Orders listed per cycle (protection alerts first); the rest are counted in `orders.unlisted`. */
export const MAX_ORDERS = 20;
/** Per-contract errors kept per cycle, and the length each is cut to. */
export const MAX_SYMBOL_ERRORS = 5;
export const MAX_ERROR_CHARS = 200;

/** Order statuses that mean a position went without its stop-loss: a trader must hear at once. */
export const PROTECTION_ALERT_STATUSES: readonly string[] = ['critical_unprotected_position', 'failed_unprotected_closed'];

const count = () => s.number('must be a number', s.int('must be a whole number'), s.min(0, 'must be at least 0'));
const text = () => s.string('must be a string');
// Written by the workflow itself: keys a newer release adds are kept (see config.ts, `keep`).
const keep = { unknownKeys: 'keep' } as const;

export const signalSchema = s.object({ symbol: text(), timeframe: text().nullable(), side: text().nullable() }, keep);
/** A READY contract: `execution_tf` and `signal_side` (null where a seed-era answer has none). */
export type Signal = s.Output<typeof signalSchema>;

export const contractCountsSchema = s.object({ ready: count(), invalid: count(), error: count(), other: count() }, keep);
/** Per-contract verdicts counted: READY / SUCCESS / VALID, INVALID, ERROR, anything else. */
export type ContractCounts = s.Output<typeof contractCountsSchema>;

export const orderCountsSchema = s.object(
  { total: count(), submitted: count(), pending: count(), protection_failed: count(), simulated: count() },
  keep,
);
/** `orders_placed.count` as the app gives it. */
export type OrderCounts = s.Output<typeof orderCountsSchema>;

export const placedOrderSchema = s.object({ symbol: text(), status: text(), exchange_order_id: text().nullable() }, keep);
export type PlacedOrder = s.Output<typeof placedOrderSchema>;

export const ordersSchema = s.object(
  { count: orderCountsSchema, list: s.list(placedOrderSchema, 'must be a list'), unlisted: count() },
  keep,
);
/** The orders a run placed: the app's counts, at most MAX_ORDERS listed (alerts first), the rest counted. */
export type Orders = s.Output<typeof ordersSchema>;

/**
 * The findings' keys as a cycle record carries them, each with the default a record written
 * before this release reads as ("nothing known"), so carried state of running loops stays readable.
 */
export const findingsShape = {
  signals: s.list(signalSchema, 'must be a list').default([]),
  signals_unlisted: count().default(0),
  /** Null when the answer listed no per-contract verdicts (a callback, an older release's record). */
  contracts: contractCountsSchema.nullable().default(null),
  symbol_errors: s.list(text(), 'must be a list').default([]),
  /** Null when the answer had no `orders_placed` (the seed era has none). */
  orders: ordersSchema.nullable().default(null),
  protection_alert: s.boolean('must be true or false').default(false),
};

export interface RunFindings {
  signals: Signal[];
  signals_unlisted: number;
  contracts: ContractCounts | null;
  symbol_errors: string[];
  orders: Orders | null;
  protection_alert: boolean;
}

/** What a cycle found when no answer said anything (a failure, a callback, an older release's result). */
export function noFindings(): RunFindings {
  return { signals: [], signals_unlisted: 0, contracts: null, symbol_errors: [], orders: null, protection_alert: false };
}

/** READY contracts in all, listed or not. */
export function signalCount(findings: Pick<RunFindings, 'signals' | 'signals_unlisted'>): number {
  return findings.signals.length + findings.signals_unlisted;
}

/** READY contracts by the verdict counts, else by the signals listed; null when the answer said nothing of them. */
export function readyCount(findings: Pick<RunFindings, 'contracts' | 'signals' | 'signals_unlisted'>): number | null {
  if (findings.contracts) return findings.contracts.ready;
  return findings.signals.length > 0 ? signalCount(findings) : null;
}

/** `BTCUSDT 5m LONG` (a seed-era signal may lack the timeframe or the side). */
export function signalText(signal: Signal): string {
  return [signal.symbol, signal.timeframe, signal.side].filter((part) => part !== null && part !== '').join(' ');
}

/** `BTCUSDT 5m LONG · SOLUSDT 1m SHORT (+3 more)`, or `none`. */
export function signalsText(findings: Pick<RunFindings, 'signals' | 'signals_unlisted'>): string {
  if (signalCount(findings) === 0) return 'none';
  const more = findings.signals_unlisted > 0 ? ` (+${findings.signals_unlisted} more)` : '';
  return `${findings.signals.map(signalText).join(' · ')}${more}`;
}

/**
 * `2 READY · 2 INVALID · 1 errored, of 5 requested`: the verdicts counted the same on every path of
 * the app (a contract that threw is errored, never "not requested"); null when the answer listed none.
 */
export function contractsText(cycle: { contracts: ContractCounts | null; symbols_requested: number | null }): string | null {
  const c = cycle.contracts;
  if (!c) return null;
  const parts = [`${c.ready} READY`, `${c.invalid} INVALID`];
  if (c.error > 0) parts.push(`${c.error} errored`);
  if (c.other > 0) parts.push(`${c.other} other`);
  return `${parts.join(' · ')}${cycle.symbols_requested === null ? '' : `, of ${cycle.symbols_requested} requested`}`;
}

/**
 * ` (app: partial_failure)`: the app's own status word beside a cycle that did not simply succeed
 * (the outcome follows the contracts; the word says what the app called it), else ''.
 */
export function appStatusText(cycle: { outcome: Outcome; app_status: string | null }): string {
  return fallsShort(cycle.outcome) && cycle.app_status && cycle.app_status !== cycle.outcome ? ` (app: ${cycle.app_status})` : '';
}

/** `0 submitted · 2 simulated`: submitted always, the other kinds when there are any. */
export function orderCountsText(count: OrderCounts): string {
  const parts = [`${count.submitted} submitted`];
  if (count.pending > 0) parts.push(`${count.pending} pending`);
  if (count.protection_failed > 0) parts.push(`${count.protection_failed} PROTECTION FAILED`);
  if (count.simulated > 0) parts.push(`${count.simulated} simulated`);
  return parts.join(' · ');
}

/** The orders whose protection failed, as `BTCUSDT critical_unprotected_position (exchange order 123)`. */
export function alertOrders(orders: Orders | null): PlacedOrder[] {
  return orders ? orders.list.filter((order) => PROTECTION_ALERT_STATUSES.includes(order.status)) : [];
}

export function orderText(order: PlacedOrder): string {
  return `${order.symbol} ${order.status}${order.exchange_order_id ? ` (exchange order ${order.exchange_order_id})` : ''}`;
}

/** Orders a one-line text names; the rest are counted, so the line stays a line. */
const ORDERS_NAMED = 3;

/** `A, B, C and 2 more`: the first of `orders` by name, out of `total`. */
export function namedOrdersText(orders: readonly PlacedOrder[], total: number): string {
  const named = orders.slice(0, ORDERS_NAMED).map(orderText).join(', ');
  return total > ORDERS_NAMED ? `${named} and ${total - ORDERS_NAMED} more` : named;
}

/** The loud line of a protection alert, naming the first orders (or their count when none is listed). */
export function protectionAlertText(findings: Pick<RunFindings, 'orders' | 'protection_alert'>): string {
  const listed = alertOrders(findings.orders);
  const failed = Math.max(findings.orders?.count.protection_failed ?? 0, listed.length);
  const which = listed.length === 0 ? `${failed} order(s)` : namedOrdersText(listed, failed);
  return `PROTECTION ALERT: a position may be open without its stop-loss: ${which}`;
}

const findingsSchema = s.object(findingsShape, keep);

/** Findings handed on in a failure's details, or null when there are none or they do not read. */
export function parseFindings(value: unknown): RunFindings | null {
  if (value === undefined || value === null) return null;
  const parsed = findingsSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
