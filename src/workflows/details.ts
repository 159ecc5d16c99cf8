/**
 * The Temporal UI's "Current Details" of a loop (Markdown; a query answer, no history event):
 * the config in force, then what the last cycle found, the way the app team's formatter showed
 * it: READY contracts by timeframe, orders, the trades the run caused, errors, and a protection
 * alert on top of all.
 * In `counts` mode (the worker seals payloads) no symbol is named, only counts.
 */
import type { CycleRecord } from '../shared/cycle-record';
import { appStatusText, orderCountsText, orderText, protectionAlertText, signalCount, signalText, type Signal } from '../shared/findings';
import type { UiDetails } from '../shared/mtf';
import { tradeCount, tradeText, tradesText } from '../shared/trades';
import { fallsShort } from '../shared/outcomes';

/** The app's formatter lists the short timeframes first: they are the ones to act on now. */
const TIMEFRAME_ORDER = ['1m', '5m', '15m', '1h', '4h'];

function byTimeframe(signals: Signal[]): [string, Signal[]][] {
  const groups = new Map<string, Signal[]>();
  for (const signal of signals) {
    const tf = signal.timeframe ?? 'no timeframe';
    groups.set(tf, [...(groups.get(tf) ?? []), signal]);
  }
  const rank = (tf: string) => (TIMEFRAME_ORDER.includes(tf) ? TIMEFRAME_ORDER.indexOf(tf) : TIMEFRAME_ORDER.length);
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : 1));
}

function signalLines(cycle: CycleRecord, mode: UiDetails): string[] {
  const total = signalCount(cycle);
  if (total === 0) return cycle.contracts ? ['- **READY**: none'] : [];
  if (mode === 'counts') {
    const perTf = byTimeframe(cycle.signals).map(([tf, list]) => `${tf}: ${list.length}`);
    const unlisted = cycle.signals_unlisted > 0 ? [`unlisted: ${cycle.signals_unlisted}`] : [];
    return [`- **READY**: ${total} contract(s) (${[...perTf, ...unlisted].join(', ')})`];
  }
  const lines = byTimeframe(cycle.signals).map(
    ([tf, list]) => `- **READY ${tf}**: ${list.map((s) => signalText({ ...s, timeframe: null })).join(', ')}`,
  );
  if (cycle.signals_unlisted > 0) lines.push(`- and ${cycle.signals_unlisted} more READY (see \`mtf-ping-pong status\`)`);
  return lines;
}

function orderLines(cycle: CycleRecord, mode: UiDetails): string[] {
  const { orders } = cycle;
  if (!orders) return [];
  const line = `- **Orders**: ${orders.count.total} · ${orderCountsText(orders.count)}`;
  if (mode === 'counts' || orders.list.length === 0) return [line];
  const more = orders.unlisted > 0 ? ` (+${orders.unlisted} more)` : '';
  return [line, `  - ${orders.list.map(orderText).join(', ')}${more}`];
}

/** The trades the run caused (today's orders: the answer lists none); by name only where symbols may be shown. */
function tradeLines(cycle: CycleRecord, mode: UiDetails): string[] {
  const { trades } = cycle;
  if (!trades || trades.state === 'off') return [];
  const line = `- **Trades**: ${tradesText(trades) ?? '-'}`;
  if (mode === 'counts' || tradeCount(trades) === 0 || trades.list.length === 0) return [line];
  const more = trades.unlisted > 0 ? ` (+${trades.unlisted} more)` : '';
  return [line, `  - ${trades.list.map(tradeText).join(', ')}${more}`];
}

function errorLines(cycle: CycleRecord, mode: UiDetails): string[] {
  const errored = cycle.contracts?.error ?? 0;
  const errors = cycle.errors ?? 0;
  if (errored === 0 && errors === 0) return [];
  const head = `- **Errors**: ${errored} contract(s) errored, ${errors} error(s) in the answer`;
  // An error's text names its symbol: only where symbols may be shown.
  if (mode === 'counts' || cycle.symbol_errors.length === 0) return [head];
  return [head, ...cycle.symbol_errors.map((error) => `  - ${error}`)];
}

function alertLine(cycle: CycleRecord, mode: UiDetails): string[] {
  if (!cycle.protection_alert) return [];
  // Counts only: the alert's own line with no order named, so no symbol.
  const text = protectionAlertText(mode === 'signals' ? cycle : { ...cycle, orders: cycle.orders && { ...cycle.orders, list: [] } });
  return [`**🚨 ${text}**`, ''];
}

/** The last cycle's block, or nothing before the first cycle. */
export function lastCycleDetails(cycle: CycleRecord | null, mode: UiDetails): string[] {
  if (!cycle) return [];
  const share = cycle.ready_share === null ? '' : `, ready share ${cycle.ready_share} %`;
  const contracts = cycle.symbols_requested === null ? '' : `, ${cycle.symbols_requested} contract(s)`;
  const run = cycle.mtf_execution_seconds === null ? '' : `, run ${cycle.mtf_execution_seconds.toFixed(1)} s`;
  const head = `**Iteration ${cycle.iteration} ${cycle.outcome}**${appStatusText(cycle)} at ${cycle.finished_at}${run}${contracts}${share}`;
  // A message may name a symbol (an app error's text): only where symbols may be shown.
  const why = fallsShort(cycle.outcome) && cycle.message && mode === 'signals' ? [`- ${cycle.message}`] : [];
  return [
    ...alertLine(cycle, mode),
    head,
    '',
    ...why,
    ...signalLines(cycle, mode),
    ...orderLines(cycle, mode),
    ...tradeLines(cycle, mode),
    ...errorLines(cycle, mode),
  ];
}

export function currentDetailsText(configLine: string, cycle: CycleRecord | null, mode: UiDetails): string {
  const block = lastCycleDetails(cycle, mode);
  return block.length === 0 ? configLine : [configLine, '', ...block].join('\n');
}
