/**
 * The trades a cycle's run caused, as the app's lineage API lists them (src/activities/lineage.ts
 * reads them; docs/answers-and-trades.md, "The trades each run caused"). Today's app decides after its run and answers with
 * no orders: a run's trades land seconds later, made by another of its processes, keyed by the
 * X-Run-Id the loop sent. A cycle's record carries them in this bounded shape, never the app's
 * items: counts by order-intent status, a short list, the rest counted.
 * Imported by workflow code: plain TypeScript.
 */
import * as s from './schema';

/**
 * `pending`: read once, not all there yet (or not read: an accepted run's callback); read again
 * after the next cycle's answer. `known`: read to the end. `unknown`: cannot be read (the app has no
 * lineage API, or the reads failed). `off`: the loop does not read them (`lineage: false`).
 */
export const TRADE_STATES = ['pending', 'known', 'unknown', 'off'] as const;
export type TradesState = (typeof TRADE_STATES)[number];

/** Trades listed on a cycle's record; the rest are counted in `unlisted`. */
export const MAX_TRADES = 20;
/** Trades listed on a point of the recent-cycles window (120 points are carried at continue-as-new). */
export const POINT_TRADES = 5;
/** `by_status`'s key for a trade without an order intent (a skipped entry, an event with no lineage). */
export const NO_INTENT = 'none';
/** Order-intent statuses that no longer change by themselves: a trade in one of them is settled. */
export const SETTLED_STATUSES: readonly string[] = ['SENT', 'FAILED', 'CANCELLED'];
/** The status of an order that reached the exchange. */
export const SENT = 'SENT';

const text = () => s.string('must be a string');
// Written by the workflow itself: keys a newer release adds are kept (see config.ts, `keep`).
const keep = { unknownKeys: 'keep' } as const;

export const tradeSchema = s.object(
  {
    symbol: text(),
    side: text().nullable(),
    /** The order intent's status (`SENT`, `FAILED`, …); null: the trade has none. */
    status: text().nullable(),
    /** The trade's last lifecycle event (`order_submitted`, `position_opened`, …); null: none yet. */
    event: text().nullable(),
    internal_trade_id: text().nullable(),
  },
  keep,
);
export type Trade = s.Output<typeof tradeSchema>;

export const tradesSchema = s.object(
  {
    state: s.choice(TRADE_STATES, `must be one of ${TRADE_STATES.join(', ')}`),
    /** Every trade read, counted by order-intent status ({@link NO_INTENT} for none). */
    by_status: s.countMap('must be an object of counts, like {"SENT": 2}'),
    list: s.list(tradeSchema, 'must be a list'),
    unlisted: s.number('must be a number', s.int('must be a whole number'), s.min(0, 'must be at least 0')),
  },
  keep,
);
export type CycleTrades = s.Output<typeof tradesSchema>;

/**
 * The order `by_status` is written in, so every cycle reads alike: sent first, those on their way,
 * those that did not go out, any status this version does not know, then no intent.
 */
const STATUS_ORDER = ['SENT', 'READY_TO_SEND', 'VALIDATED', 'DRAFT', 'FAILED', 'CANCELLED'];
const rank = (status: string) =>
  status === NO_INTENT ? STATUS_ORDER.length + 1 : STATUS_ORDER.includes(status) ? STATUS_ORDER.indexOf(status) : STATUS_ORDER.length;

/** A cycle's trades: every one counted, the first `listed` of them kept by name. */
export function tradesOf(state: TradesState, trades: readonly Trade[], listed = MAX_TRADES): CycleTrades {
  const counts = new Map<string, number>();
  for (const trade of trades) {
    const key = trade.status ?? NO_INTENT;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const by_status = Object.fromEntries([...counts].sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0)));
  return { state, by_status, list: trades.slice(0, listed), unlisted: Math.max(0, trades.length - listed) };
}

/** The same trades under another state (a read that failed keeps what an earlier one found). */
export function withState(trades: CycleTrades, state: TradesState): CycleTrades {
  return { ...trades, state };
}

/** The trades with at most `listed` of them named: what a point of the recent-cycles window keeps. */
export function listedAtMost(trades: CycleTrades, listed: number): CycleTrades {
  if (trades.list.length <= listed) return trades;
  return { ...trades, list: trades.list.slice(0, listed), unlisted: trades.unlisted + trades.list.length - listed };
}

export function tradeCount(trades: Pick<CycleTrades, 'by_status'>): number {
  return Object.values(trades.by_status).reduce((sum, n) => sum + n, 0);
}

/** Read to the end, or beyond reading: nothing more will be learnt of them. */
export function tradesFinal(trades: Pick<CycleTrades, 'state'>): boolean {
  return trades.state === 'known' || trades.state === 'unknown';
}

/** Trades whose order reached the exchange (on a live loop: real orders). */
export function sentCount(trades: Pick<CycleTrades, 'by_status'>): number {
  return trades.by_status[SENT] ?? 0;
}

/** `2 SENT · 1 FAILED · 1 without order intent`. */
export function byStatusText(trades: Pick<CycleTrades, 'by_status'>): string {
  return Object.entries(trades.by_status)
    .map(([status, n]) => (status === NO_INTENT ? `${n} without order intent` : `${n} ${status}`))
    .join(' · ');
}

/** `BTCUSDT LONG SENT (position_opened)`. */
export function tradeText(trade: Trade): string {
  const event = trade.event ? ` (${trade.event})` : '';
  return `${[trade.symbol, trade.side, trade.status ?? 'no order intent'].filter((part) => part !== null && part !== '').join(' ')}${event}`;
}

/** Trades a one-line text names; the rest are counted, so the line stays a line. */
const TRADES_NAMED = 3;

/** `A, B, C and 2 more`: the first trades by name. */
export function namedTradesText(trades: CycleTrades, named = TRADES_NAMED): string {
  const total = trades.list.length + trades.unlisted;
  const names = trades.list.slice(0, named).map(tradeText).join(', ');
  return total > named ? `${names} and ${total - Math.min(named, trades.list.length)} more` : names;
}

/**
 * The trades in a few words, the same in every view: `2 · 1 SENT · 1 FAILED`, `none`, `pending
 * (read again after the next answer)`, `unknown`, `off (lineage: false)`; null for a record written
 * before trades were read.
 */
export function tradesText(trades: CycleTrades | null | undefined): string | null {
  if (!trades) return null;
  if (trades.state === 'off') return 'off (lineage: false)';
  const total = tradeCount(trades);
  const counts = total === 0 ? null : `${total} · ${byStatusText(trades)}`;
  switch (trades.state) {
    case 'pending':
      return `${counts ? `${counts} so far, ` : ''}pending (read again after the next answer)`;
    case 'unknown':
      return counts ? `${counts} (not read to the end)` : 'unknown';
    case 'known':
      return counts ?? 'none';
  }
}
