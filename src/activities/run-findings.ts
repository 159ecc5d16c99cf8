/**
 * What a finished run found, read from the answer's `data` in any of its shapes (the other half
 * of run-answer.ts, the one reader):
 *
 * | what          | seed-era answer                            | today's answer (both paths)                       |
 * | ------------- | ------------------------------------------ | ------------------------------------------------- |
 * | per contract  | `data.results.SYM`: status success/error,  | `data.symbols.SYM`: status READY / INVALID /      |
 * |               | `signal_side`, no timeframe                | ERROR / …, `execution_tf`, `signal_side`, `error` |
 * | threw         | an entry with status error                 | absent from `data.symbols`: named in `data.errors` |
 * |               |                                            | (`{ symbol, error, trace }` or `Worker SYM: …`)   |
 * | orders        | none (`orders` is null)                    | `data.orders_placed`: `count` and `orders`        |
 *
 * READY, SUCCESS and VALID (any case) are signals; `FINAL` is a summary entry, not a contract. A
 * JSON list where a map is expected (PHP's empty map) reads as an empty map. Everything is bounded
 * (MAX_SIGNALS, MAX_ORDERS, MAX_SYMBOL_ERRORS) so the result stays small in history whatever the
 * app sends; an error's trace is never read.
 */
import {
  MAX_ERROR_CHARS,
  MAX_ORDERS,
  MAX_SIGNALS,
  MAX_SYMBOL_ERRORS,
  PROTECTION_ALERT_STATUSES,
  type ContractCounts,
  type OrderCounts,
  type Orders,
  type PlacedOrder,
  type RunFindings,
  type Signal,
} from '../shared/findings';

type Json = Record<string, unknown>;

const READY = ['ready', 'success', 'valid'];
/** Symbols, timeframes, sides and ids are short words: anything longer is cut, so no answer can bloat history. */
const MAX_WORD_CHARS = 64;

export function asObject(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

export function shortText(value: unknown, max = MAX_WORD_CHARS): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return null;
  const flat = value.replace(/\s+/g, ' ').trim();
  if (flat === '') return null;
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function whole(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}

/** An object, or `{}` for the empty JSON list PHP writes for an empty map. */
function asMap(value: unknown): Json | null {
  return Array.isArray(value) && value.length === 0 ? {} : asObject(value);
}

/** The per-contract entries, `FINAL` left out, sorted by symbol: `data.symbols` today, `data.results` in the seed era. */
function contractEntries(data: Json | null): [string, Json][] | null {
  const map = asMap(data?.symbols) ?? asMap(data?.results);
  if (!map) return null;
  return Object.entries(map)
    .filter(([key]) => key.toUpperCase() !== 'FINAL')
    .map(([key, value]): [string, Json] => [key, asObject(value) ?? {}])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function statusOf(entry: Json): string {
  return typeof entry.status === 'string' ? entry.status.trim().toLowerCase() : '';
}

function signalOf(symbol: string, entry: Json): Signal {
  const side = shortText(entry.signal_side);
  return {
    symbol: shortText(symbol) ?? '?',
    timeframe: shortText(entry.execution_tf) ?? shortText(entry.timeframe),
    side: side === null ? null : side.toUpperCase(),
  };
}

/** An entry's error: a string, or an object with a message (the app's formatter reads `message`). */
function entryError(symbol: string, entry: Json): string | null {
  const error = entry.error;
  const object = asObject(error);
  const message =
    shortText(error, MAX_ERROR_CHARS * 2) ??
    shortText(object?.message, MAX_ERROR_CHARS * 2) ??
    shortText(entry.reason, MAX_ERROR_CHARS * 2);
  return cut(`${symbol}: ${message ?? 'error'}`);
}

/** The parallel path's error of a contract whose worker gave nothing back. */
const WORKER_ERROR = /^Worker ([A-Za-z0-9._-]+): /;

/** The contract an entry of `data.errors` names: `{ symbol }` (seed era, sequential path), `Worker SYM: …` (parallel path), else null. */
function erroredSymbol(error: unknown): string | null {
  if (typeof error === 'string') return WORKER_ERROR.exec(error)?.[1] ?? null;
  return shortText(asObject(error)?.symbol);
}

/** `data.errors` entries: strings (parallel path), `{ symbol, error }` (seed era) or `{ symbol, error, trace }` (sequential path). */
function answerError(error: unknown): string | null {
  const object = asObject(error);
  if (!object) return shortText(error, MAX_ERROR_CHARS * 2);
  const message = shortText(object.error, MAX_ERROR_CHARS * 2) ?? shortText(object.message, MAX_ERROR_CHARS * 2);
  const symbol = shortText(object.symbol);
  return message ? (symbol ? `${symbol}: ${message}` : message) : null;
}

function cut(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}

function readOrder(value: unknown): PlacedOrder | null {
  const order = asObject(value);
  const status = shortText(order?.status)?.toLowerCase();
  if (!order || !status) return null;
  return { symbol: shortText(order.symbol) ?? '?', status, exchange_order_id: shortText(order.exchange_order_id) };
}

const COUNTED: Record<keyof Omit<OrderCounts, 'total'>, readonly string[]> = {
  submitted: ['submitted', 'submitted_protected'],
  pending: ['entry_submitted'],
  protection_failed: PROTECTION_ALERT_STATUSES,
  simulated: ['simulated'],
};

/** `data.orders_placed`: the app's counts where it gives them, else counted from its list the way the app counts; null when it lists none. */
function readOrders(data: Json | null): Orders | null {
  const placed = asObject(data?.orders_placed);
  if (!placed) return null;
  const all = (Array.isArray(placed.orders) ? placed.orders : []).map(readOrder).filter((o): o is PlacedOrder => o !== null);
  const given = asObject(placed.count) ?? {};
  const counted = (statuses: readonly string[]) => all.filter((o) => statuses.includes(o.status)).length;
  const count: OrderCounts = {
    total: whole(given.total) ?? all.length,
    submitted: whole(given.submitted) ?? counted(COUNTED.submitted),
    pending: whole(given.pending) ?? counted(COUNTED.pending),
    protection_failed: whole(given.protection_failed) ?? counted(COUNTED.protection_failed),
    simulated: whole(given.simulated) ?? counted(COUNTED.simulated),
  };
  // Today's app decides after its run: its `orders_placed` is always empty. An answer that carries no
  // order says nothing of orders (the trades, read from the lineage API, say what the run caused).
  if (count.total === 0 && all.length === 0) return null;
  // Alerts first, so a long list can never push one out of what is kept; otherwise the app's order.
  const alertsFirst = [
    ...all.filter((o) => PROTECTION_ALERT_STATUSES.includes(o.status)),
    ...all.filter((o) => !PROTECTION_ALERT_STATUSES.includes(o.status)),
  ];
  return { count, list: alertsFirst.slice(0, MAX_ORDERS), unlisted: Math.max(0, alertsFirst.length - MAX_ORDERS) };
}

/**
 * @param options.threwAtLeast the contracts the answer's figures say threw (the sequential path's
 * `symbols_failed`): never fewer are counted, whatever its error list holds.
 */
export function readFindings(data: Json | null, options: { threwAtLeast?: number } = {}): RunFindings {
  const entries = contractEntries(data);
  const contracts: ContractCounts = { ready: 0, invalid: 0, error: 0, other: 0 };
  const signals: Signal[] = [];
  const symbolErrors: string[] = [];
  for (const [symbol, entry] of entries ?? []) {
    const status = statusOf(entry);
    if (READY.includes(status)) {
      contracts.ready += 1;
      signals.push(signalOf(symbol, entry));
    } else if (status === 'invalid') {
      contracts.invalid += 1;
    } else if (status === 'error') {
      contracts.error += 1;
      const error = symbolErrors.length < MAX_SYMBOL_ERRORS ? entryError(symbol, entry) : null;
      if (error) symbolErrors.push(error);
    } else {
      contracts.other += 1;
    }
  }
  const errors = Array.isArray(data?.errors) ? data.errors : [];
  // Today a contract that threw is absent from the verdicts: only the error list names it.
  if (entries) {
    const listed = new Set(entries.map(([symbol]) => symbol));
    const absent = new Set(errors.map(erroredSymbol).filter((symbol): symbol is string => symbol !== null && !listed.has(symbol)));
    contracts.error += Math.max(absent.size, (options.threwAtLeast ?? 0) - contracts.error);
  }
  // No per-contract error listed: the answer's own error list (it names the symbol).
  if (symbolErrors.length === 0) {
    for (const error of errors.slice(0, MAX_SYMBOL_ERRORS)) {
      const text = answerError(error);
      if (text) symbolErrors.push(cut(text));
    }
  }
  const orders = readOrders(data);
  const alert =
    orders !== null && (orders.count.protection_failed > 0 || orders.list.some((o) => PROTECTION_ALERT_STATUSES.includes(o.status)));
  return {
    signals: signals.slice(0, MAX_SIGNALS),
    signals_unlisted: Math.max(0, signals.length - MAX_SIGNALS),
    contracts: entries ? contracts : null,
    symbol_errors: symbolErrors,
    orders,
    protection_alert: alert,
  };
}
