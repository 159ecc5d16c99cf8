/**
 * The trades a run caused, read from the app's lineage API (docs/mtf-api.md, "The trades a run
 * caused"; the app's LineageReadApiController): `GET {lineage_url}?orchestration_run_id={X-Run-Id}`
 * answers `{ pagination: { total, has_more, … }, data: [item…] }`, one item per trade (its `lineage`,
 * its `order_intent` or null, its `lifecycle_events` oldest first), or 404 `lineage_not_found`
 * when the run caused none (yet). An item with no lineage ("unmatched") names its trade in its one
 * event. Only five fields of each item are kept (shared/trades.ts), never the item.
 *
 * Best effort, never harmful: a read never throws, never touches the run, and each is bounded by
 * the deadline it is given. A route the app does not have (a 404 that is not `lineage_not_found`,
 * a 405, a page that is not JSON) is said once: the workflow then stops asking.
 */
import { NO_INTENT, SETTLED_STATUSES, tradesOf, type CycleTrades, type Trade } from '../shared/trades';
import type { LateTrades, LineageRequest } from '../shared/mtf';
import { deadlineSignal } from './deadline';
import { appMessage, send, type HttpAnswer, type HttpDeps } from './mtf-client';
import { asObject, shortText } from './run-findings';
import { messageOf } from '../lib/errors';

/** The app's page size limit: a run's trades fit in one page unless it caused more than 100. */
const PAGE_SIZE = 100;
/** Pages read at most for one run: 500 trades, far more than a 150-contract run can cause. */
const MAX_PAGES = 5;
/** Between two reads while the cycle waits for its READY contracts' trades. */
const POLL_MS = 500;
/** One lineage answer is bounded like a large run answer, not like a 150-contract dump. */
const MAX_LINEAGE_BYTES = 4 * 1024 * 1024;

type Json = Record<string, unknown>;

/** One read of a run's trades: what it found, or why it found nothing. */
export type LineageRead = { kind: 'trades'; trades: Trade[] } | { kind: 'absent'; why: string } | { kind: 'failed'; why: string };

/** What the reads after an answer learnt: the cycle's own trades, the earlier cycles', and whether the app has no lineage API. */
export interface LineageResult {
  trades?: CycleTrades;
  late_trades?: LateTrades[];
  lineage_absent?: string;
}

/** The trades a run caused, every page of them (up to {@link MAX_PAGES}); never throws. */
export async function readTrades(http: HttpDeps, url: string, runId: string, signal: AbortSignal): Promise<LineageRead> {
  const bounded = { ...http, maxBodyBytes: Math.min(http.maxBodyBytes, MAX_LINEAGE_BYTES) };
  const trades = new Map<string, Trade>();
  for (let page = 0; page < MAX_PAGES; page++) {
    const pageUrl = `${url}${url.includes('?') ? '&' : '?'}orchestration_run_id=${encodeURIComponent(runId)}&limit=${PAGE_SIZE}&offset=${page * PAGE_SIZE}`;
    let read: ReturnType<typeof readPage>;
    try {
      read = readPage(await send(bounded, pageUrl, { method: 'GET' }, signal), url);
    } catch (err) {
      return { kind: 'failed', why: messageOf(err) };
    }
    if (read.kind !== 'page') return read.kind === 'none' ? { kind: 'trades', trades: [...trades.values()] } : read;
    // Keyed by the trade's id: an item read twice (the pages moved under the reader) counts once.
    for (const trade of read.trades) trades.set(trade.internal_trade_id ?? `#${trades.size}`, trade);
    if (!read.hasMore) break;
  }
  return { kind: 'trades', trades: [...trades.values()] };
}

function readPage(
  answer: HttpAnswer,
  url: string,
): { kind: 'page'; trades: Trade[]; hasMore: boolean } | { kind: 'none' } | Exclude<LineageRead, { kind: 'trades' }> {
  const body = /\bjson\b/i.test(answer.contentType) ? parseObject(answer.text) : null;
  const code = asObject(body?.error)?.code;
  if (answer.status === 404 && code === 'lineage_not_found') return { kind: 'none' };
  const noRoute = `${url} answered HTTP ${answer.status}${body ? '' : ', not JSON'}: ${appMessage(answer)}`;
  if (answer.status === 404 || answer.status === 405) return { kind: 'absent', why: noRoute };
  if (answer.status !== 200)
    return {
      kind: 'failed',
      why: `${url} answered HTTP ${answer.status}: ${typeof code === 'string' ? `${code}: ` : ''}${appMessage(answer)}`,
    };
  // A 200 that is not the API's JSON list is some other page at that path (a front end's fallback).
  const items = body && (Array.isArray(body.data) ? body.data : Array.isArray(body.items) ? body.items : null);
  if (!items) return { kind: 'absent', why: noRoute };
  const pagination = asObject(body.pagination);
  const hasMore = typeof pagination?.has_more === 'boolean' ? pagination.has_more : false;
  return { kind: 'page', trades: items.map(tradeOf).filter((t): t is Trade => t !== null), hasMore };
}

function parseObject(text: string): Json | null {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return null;
  }
}

/** An item's trade: its lineage's names first, then its order intent's, then its last event's (an unmatched item has only that). */
function tradeOf(value: unknown): Trade | null {
  const item = asObject(value);
  if (!item) return null;
  const lineage = asObject(item.lineage);
  const intent = asObject(item.order_intent);
  const events = Array.isArray(item.lifecycle_events) ? item.lifecycle_events : [];
  const last = asObject(events[events.length - 1]);
  const first = (key: string) => shortText(lineage?.[key]) ?? shortText(intent?.[key]) ?? shortText(last?.[key]);
  const symbol = first('symbol');
  const id = first('internal_trade_id');
  if (!symbol && !id) return null;
  const status = shortText(intent?.status);
  return {
    symbol: symbol ?? '?',
    side: first('side'),
    // A status the app writes as NONE would read as "no order intent" in the counts: keep it apart.
    status: status === NO_INTENT ? `${status}?` : status,
    event: shortText(last?.event_type),
    internal_trade_id: id,
  };
}

/** Every READY contract has its trade, and none of them may still change by itself. */
function settled(trades: readonly Trade[], ready: number | null): boolean {
  if (ready === null ? trades.length === 0 : trades.length < ready) return false;
  return trades.every((trade) => trade.status === null || SETTLED_STATUSES.includes(trade.status));
}

export interface LineageDeps {
  http: HttpDeps;
  signal: AbortSignal;
  sleep: (ms: number) => Promise<void>;
  /** The X-Run-Id of an iteration of this loop. */
  runIdOf: (iteration: number) => string;
}

/**
 * After a run's answer: its own trades, read until every READY contract has a settled trade or
 * `wait_seconds` pass (then `pending`: the next cycle reads them again), and the earlier cycles'
 * once each, by the same rule (a failed read leaves them as they were). `readyCount` null: the
 * answer did not say. All of it ends by `deadline` (ms since the epoch).
 */
export async function readAfterAnswer(
  deps: LineageDeps,
  request: LineageRequest,
  own: { x_run_id: string; readyCount: number | null } | null,
  deadline: number,
): Promise<LineageResult> {
  const result: LineageResult = {};
  const bound = deadlineSignal(deps.signal, Math.max(0, deadline - Date.now()));
  const { signal } = bound;
  try {
    if (own) {
      const waitUntil = Math.min(Date.now() + request.wait_seconds * 1000, deadline);
      for (;;) {
        const read = await readTrades(deps.http, request.url, own.x_run_id, signal);
        if (read.kind === 'absent') return { lineage_absent: read.why, trades: tradesOf('unknown', []) };
        const done = read.kind === 'trades' && settled(read.trades, own.readyCount);
        const nothingToWaitFor = own.readyCount === 0 && read.kind === 'trades';
        if (done || nothingToWaitFor || Date.now() + POLL_MS >= waitUntil) {
          result.trades =
            read.kind === 'trades' ? tradesOf(done || nothingToWaitFor ? 'known' : 'pending', read.trades) : tradesOf('pending', []);
          break;
        }
        await deps.sleep(POLL_MS);
      }
    }
    const late: LateTrades[] = [];
    for (const { iteration, ready } of request.earlier) {
      if (signal.aborted) break;
      const read = await readTrades(deps.http, request.url, deps.runIdOf(iteration), signal);
      if (read.kind === 'absent') return { ...result, lineage_absent: read.why };
      // Still short of its READY contracts: pending again, what was read kept. A failed read is tried again next cycle.
      if (read.kind === 'trades')
        late.push({ iteration, trades: tradesOf(settled(read.trades, ready) ? 'known' : 'pending', read.trades) });
    }
    if (late.length > 0) result.late_trades = late;
    return result;
  } finally {
    bound.clear();
  }
}
