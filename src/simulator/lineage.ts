/**
 * `GET /api/lineage/v1/search`: today's app lists the trades filed under one identifier, so a
 * loop can read what each run it drove caused. Exactly one identifier per request (400 otherwise),
 * 404 `lineage_not_found` while nothing is filed under it, else a page of items: one per trade,
 * its lineage, order intent and lifecycle events. A trade skipped before any order intent has no
 * lineage: the app lists its one event as an `unmatched` item, and a reader takes the symbol and
 * the trade id from that event.
 */
import type { LineageMode } from './behaviour';
import type { Reply } from './respond';
import type { Answer } from './runs';
import type { RunTrades, Trade, TradeBook } from './lineage-trades';
import { sendHtmlNotFound } from './faults';
import { sendJson } from './respond';
import { endOf } from './runs';

export const LINEAGE_PATH = '/api/lineage/v1/search';

const IDENTIFIERS = [
  'orchestration_run_id',
  'correlation_run_id',
  'orchestration_set_id',
  'orchestration_dashboard_id',
  'internal_trade_id',
  'internal_position_id',
  'order_intent_id',
  'client_order_id',
  'exchange_order_id',
  'position_id',
] as const;

type Identifier = (typeof IDENTIFIERS)[number];

const MAX_LIMIT = 100;
const EXCHANGE = 'bitmart';
const MARKET_TYPE = 'perpetual';

type JsonMap = Record<string, unknown>;

const error = (status: number, code: string, message: string): Answer => ({ status, body: { error: { code, message } } });

const NOT_FOUND = error(404, 'lineage_not_found', 'No lineage was found for the requested identifier.');

/** PHP's (int) cast: leading digits count, anything else is the default. */
function intParam(text: string | null, fallback: number): number {
  const n = Number.parseInt(text ?? '', 10);
  return Number.isNaN(n) ? fallback : n;
}

/** PHP-style ATOM time, as the app's serializer writes it. */
function atom(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+00:00`;
}

/** Which of the trade's ids the identifier names; the simulator files trades under these three only. */
function matches(identifier: Identifier, value: string, entry: RunTrades, trade: Trade): boolean {
  switch (identifier) {
    case 'orchestration_run_id':
      return entry.orchestration_run_id === value;
    case 'correlation_run_id':
      return entry.correlation_run_id === value;
    case 'internal_trade_id':
      return trade.internal_trade_id === value;
    default:
      return false;
  }
}

function completenessOf(trade: Trade): { completeness_status: string; lineage_classification: string; quality_flags: string[] } {
  if (trade.status === 'none')
    return { completeness_status: 'unmatched', lineage_classification: 'unmatched', quality_flags: ['unmatched'] };
  const canonical = (status: string, flags: string[]) => ({
    completeness_status: status,
    lineage_classification: 'canonical',
    quality_flags: flags,
  });
  // An open position has no close event yet; an intent not yet sent has no event at all.
  if (trade.status === 'SENT') return canonical('missing_close_event', ['missing_close_event']);
  if (trade.events.length === 0) return canonical('missing_lifecycle_events', ['missing_lifecycle_events']);
  return canonical('complete', []);
}

/** One item of the answer, its times counted from the run's end. */
function itemOf(entry: RunTrades, trade: Trade, endedAt: number): JsonMap {
  const { run } = entry;
  const at = (share: number): string => atom(endedAt + share * run.trades.delay_ms);
  const ids = {
    run_id: run.run_id,
    client_order_id: trade.client_order_id,
    exchange_order_id: trade.exchange_order_id,
    internal_trade_id: trade.internal_trade_id,
    orchestration_run_id: entry.orchestration_run_id,
  };
  const lifecycle_events = trade.events.map((event) => ({
    id: event.id,
    event_type: event.event_type,
    symbol: trade.symbol,
    ...ids,
    side: trade.side,
    reason_code: event.reason_code,
    happened_at: at(event.at),
    extra: {},
  }));
  const created_at = at(0);
  const updated_at = at(trade.events.reduce((last, event) => Math.max(last, event.at), 0));
  const sent = trade.exchange_order_id !== null;
  const matched = trade.lineage_id !== null && trade.order_intent_id !== null;
  const where = { exchange: EXCHANGE, market_type: MARKET_TYPE, symbol: trade.symbol, side: trade.side };
  return {
    ...completenessOf(trade),
    lineage: matched
      ? {
          id: trade.lineage_id,
          internal_trade_id: trade.internal_trade_id,
          internal_position_id: trade.internal_position_id,
          order_intent_id: trade.order_intent_id,
          client_order_id: trade.client_order_id,
          exchange_order_id: trade.exchange_order_id,
          position_id: null,
          run_id: run.run_id,
          correlation_run_id: entry.correlation_run_id,
          orchestration_run_id: entry.orchestration_run_id,
          orchestration_set_id: null,
          orchestration_dashboard_id: null,
          ...where,
          profile: 'scalper',
          origin: 'mtf',
          decision_key: trade.decision_key,
          created_at,
          updated_at,
        }
      : null,
    order_intent: matched
      ? {
          id: trade.order_intent_id,
          ...where,
          status: trade.status,
          client_order_id: trade.client_order_id,
          order_id: trade.exchange_order_id,
          exchange_order_id: trade.exchange_order_id,
          internal_trade_id: trade.internal_trade_id,
          orchestration_run_id: entry.orchestration_run_id,
          created_at,
          updated_at,
          sent_at: sent ? at(0.5) : null,
        }
      : null,
    lifecycle_events,
    lifecycle_events_pagination: { limit: MAX_LIMIT, offset: 0, total: lifecycle_events.length, has_more: false },
  };
}

/** The one identifier asked for, or the app's 400. Trimmed; an empty value counts as absent. */
function identifierOf(query: URLSearchParams): { identifier: Identifier; value: string } | Answer {
  const given = IDENTIFIERS.flatMap((identifier) => {
    const value = query.get(identifier)?.trim() ?? '';
    return value === '' ? [] : [{ identifier, value }];
  });
  const [first] = given;
  if (first === undefined) return error(400, 'missing_identifier', 'Provide exactly one lineage identifier query parameter.');
  if (given.length > 1) return error(400, 'multiple_identifiers', 'Provide only one lineage identifier query parameter per request.');
  return first;
}

/** The search's answer at `now`: only runs whose trades are listed by then count. */
export function searchLineage(book: TradeBook, query: URLSearchParams, now: number): Answer {
  const asked = identifierOf(query);
  if ('status' in asked) return asked;
  const { identifier, value } = asked;
  const items: JsonMap[] = [];
  for (const entry of book.listed(now)) {
    const endedAt = endOf(entry.run, now);
    for (const trade of entry.trades) if (matches(identifier, value, entry, trade)) items.push(itemOf(entry, trade, endedAt));
  }
  if (items.length === 0) return NOT_FOUND;
  // The app clamps rather than refuses: a page is 1..100 items.
  const limit = Math.min(MAX_LIMIT, Math.max(1, intParam(query.get('limit'), MAX_LIMIT)));
  const offset = Math.max(0, intParam(query.get('offset'), 0));
  const data = items.slice(offset, offset + limit);
  return {
    status: 200,
    body: {
      pagination: { limit, offset, total: items.length, has_more: offset + data.length < items.length },
      data,
      filters: { identifier, value, exchange: null, market_type: null },
    },
  };
}

/** The route: absent (nginx's HTML 404) on an app of an older release, else the search. */
export function answerLineage(reply: Reply, book: TradeBook, mode: LineageMode, query: URLSearchParams): void {
  if (mode === 'absent') {
    sendHtmlNotFound(reply);
    return;
  }
  const answer = searchLineage(book, query, Date.now());
  sendJson(reply, answer.status, answer.body);
}
