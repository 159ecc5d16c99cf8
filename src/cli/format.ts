/** People's view of a loop: short, aligned lines. `--json` prints the raw objects instead. */
import type { LoopEnd, LoopListing } from '../client/loops';
import { attemptTimeout, symbolsText, type LoopConfig } from '../shared/config';
import type { Counters, CycleRecord } from '../shared/cycle-record';
import { appStatusText, contractsText, orderCountsText, protectionAlertText, signalsText } from '../shared/findings';
import { lineagePrefix } from '../lib/run-id';
import { tradeCount, tradeText, tradesText, type CycleTrades } from '../shared/trades';
import { cadenceText, cadenceWarnings } from '../shared/cadence';
import { OUTCOMES, fallsShort, outcomeText } from '../shared/outcomes';
import type { LoopStatus, LoopSummary } from '../shared/status';
import { formatDuration } from './output';

const LABEL_WIDTH = 15;

function row(label: string, value: string): string {
  return `  ${label.padEnd(LABEL_WIDTH)}${value}`;
}

function percent(value: number | null): string {
  return value === null ? '-' : `${value}%`;
}

function seconds(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(2)}s`;
}

/** The attempt timeout in force, and why when the budget cuts a longer `activity_timeout`. */
export function attemptLine(config: LoopConfig): string {
  const inForce =
    `${formatDuration(attemptTimeout(config))} per attempt, ${config.max_attempts} ` +
    `attempt(s), ${formatDuration(config.max_execution_time)} per cycle`;
  if (config.activity_timeout <= config.max_execution_time) return inForce;
  return (
    `${inForce} (warning: activity_timeout ${formatDuration(config.activity_timeout)} is ` +
    `longer than the cycle's budget, so each attempt gets what is left of the budget)`
  );
}

export function configLine(config: LoopConfig): string {
  const live = config.dry_run ? 'dry run' : `LIVE${config.mtf_idempotent ? ' (idempotent app)' : ''}`;
  return `${cadenceText(config)}, ${config.continue_mode} mode, ${live}, ${symbolsText(config)} -> ${config.mtf_url}`;
}

export function countersLine(c: Counters): string {
  return `${c.cycles} cycles: ${OUTCOMES.map((o) => `${c[o]} ${outcomeText(o)}`).join(', ')}`;
}

/** The loud line no one may miss: a position the last run left without its stop-loss. */
const ALERT_MARK = '!!';

/**
 * What the cycle's run found, as `BTCUSDT 5m LONG · SOLUSDT 1m SHORT    orders 0 submitted · 2 simulated`;
 * null when the answer said nothing (a failure, a callback, a record of an older release).
 */
export function findingsText(cycle: CycleRecord): string | null {
  const known = cycle.contracts !== null || cycle.signals.length > 0;
  const orders = cycle.orders ? `orders ${orderCountsText(cycle.orders.count)}` : null;
  if (!known && !orders) return null;
  return [known ? signalsText(cycle) : null, orders].filter((part) => part !== null).join('    ');
}

export function cycleLine(cycle: CycleRecord, successRate: number | null): string {
  const line =
    `iteration ${cycle.iteration}  ${cycle.outcome}  mtf ${seconds(cycle.mtf_execution_seconds)} ` +
    ` cycle ${seconds(cycle.cycle_seconds)}  success rate ${percent(successRate)}`;
  // A partial cycle says why too: which contracts threw is what an operator looks into.
  const found = findingsText(cycle);
  const trades = tradesPart(cycle.trades);
  const parts = [
    line,
    found ? `ready ${found}` : null,
    trades ? `trades ${trades}` : null,
    fallsShort(cycle.outcome) && cycle.message ? `(${cycle.message})` : null,
    cycle.protection_alert ? `${ALERT_MARK} ${protectionAlertText(cycle)}` : null,
  ];
  return parts.filter((part) => part !== null).join('  ');
}

/** `2 · 1 SENT · 1 FAILED` (the orders, today: the app's answer lists none); null when not read (`off`, or a record older than trades). */
function tradesPart(trades: CycleTrades | null): string | null {
  return trades && trades.state !== 'off' ? tradesText(trades) : null;
}

/** `: BTCUSDT LONG SENT (position_opened) · … (+3 more)`: the trades by name after their counts; '' when none is listed. */
function namesPart(trades: CycleTrades): string {
  if (trades.list.length === 0) return '';
  const more = trades.unlisted > 0 ? ` (+${trades.unlisted} more)` : '';
  return `: ${trades.list.map(tradeText).join(' · ')}${more}`;
}

/**
 * A follow line for an earlier cycle whose trades were read after a later answer:
 * `iteration 12  trades 2 · 2 SENT (read after the next answer): BTCUSDT LONG SENT (position_opened) · …`.
 */
export function lateTradesLine(iteration: number, trades: CycleTrades): string {
  return `iteration ${iteration}  trades ${tradesText(trades) ?? '-'} (read after the next answer)${namesPart(trades)}`;
}

function lastCycleText(cycle: CycleRecord): string {
  // The app's own id in the seed era; today it echoes the X-Run-Id, which is then shown once.
  const ids = [cycle.x_run_id, cycle.mtf_run_id].filter((id, i, all): id is string => id !== null && all.indexOf(id) === i);
  const runId = ids.length > 0 ? `, run ${ids.join(' / ')}` : '';
  const share = cycle.ready_share === null ? '' : `, ready share ${percent(cycle.ready_share)}`;
  const message = fallsShort(cycle.outcome) && cycle.message ? ` (${cycle.message})` : '';
  return `#${cycle.iteration} ${cycle.outcome}${appStatusText(cycle)} at ${cycle.finished_at}, cycle ${seconds(cycle.cycle_seconds)}${share}${runId}${message}`;
}

/** The last cycle's findings rows: `ready`, the verdicts counted, the errors it listed, and the alert on top. */
function findingsRows(cycle: CycleRecord | null): { alert: string[]; rows: string[] } {
  if (!cycle) return { alert: [], rows: [] };
  const found = findingsText(cycle);
  const contracts = contractsText(cycle);
  const rows = [...(found ? [row('ready', found)] : []), ...(contracts ? [row('contracts', contracts)] : [])];
  if (cycle.orders && cycle.orders.list.length > 0) {
    const more = cycle.orders.unlisted > 0 ? ` (+${cycle.orders.unlisted} more)` : '';
    rows.push(row('orders', `${cycle.orders.list.map((o) => `${o.symbol} ${o.status}`).join(' · ')}${more}`));
  }
  const trades = tradesPart(cycle.trades);
  if (trades && cycle.trades) rows.push(row('trades', `${trades}${namesPart(cycle.trades)}`));
  if (cycle.symbol_errors.length > 0) rows.push(row('errors', cycle.symbol_errors.join(' | ')));
  return { alert: cycle.protection_alert ? [`${ALERT_MARK} ${protectionAlertText(cycle)} (iteration ${cycle.iteration})`] : [], rows };
}

/**
 * The trades of the cycle before the last: a run's trades land seconds after its answer, so they are
 * often read after the next answer, when that cycle is no longer the last one.
 */
function earlierTradesRows(s: LoopStatus): string[] {
  const last = s.last_cycle?.iteration;
  const before = last === undefined ? undefined : s.recent_cycles.find((p) => p.iteration === last - 1);
  if (!before?.trades || tradeCount(before.trades) === 0) return [];
  return [row(`trades #${before.iteration}`, `${tradesText(before.trades) ?? '-'}${namesPart(before.trades)}`)];
}

function nextCycleText(at: string, now: number): string {
  const inSeconds = Math.max(0, Math.round((Date.parse(at) - now) / 1000));
  return `${at} (in ${inSeconds}s)`;
}

/** A pause in force: `paused since <time> (reason: maintenance)`. */
export function pausedText(s: LoopStatus, word = 'paused'): string {
  const reason = s.pause?.reason ? ` (reason: ${s.pause.reason})` : '';
  return `${word} since ${s.pause?.since ?? '-'}${reason}`;
}

/**
 * An aligned loop's clock (the config line says an interval loop's), with what status warns about
 * it and its missed beats; ping_interval is in its config but unused. Missed beats are shown too
 * after a switch back to the interval cadence.
 */
function cadenceRows(s: LoopStatus): string[] {
  const aligned = s.config.cadence === 'aligned';
  const missed = s.counters.missed_beats;
  if (!aligned && missed === 0) return [];
  const lastMissed = s.last_cycle?.missed_beats ?? 0;
  return [
    ...(aligned ? [row('cadence', `${cadenceText(s.config, s.workflow_id)} (ping_interval ignored in aligned cadence)`)] : []),
    ...cadenceWarnings(s.config).map((warning) => row('warning', warning)),
    row('missed beats', `${missed}${lastMissed > 0 ? ` (${lastMissed} before iteration ${s.last_cycle?.iteration})` : ''}`),
  ];
}

/** What the loop's notifications did; nothing from a worker older than them. */
function notificationRows(s: LoopStatus): string[] {
  const n = s.notifications;
  if (!n) return [];
  if (s.config.notify === false) return [row('notifications', 'off for this loop (notify: false)')];
  const parts = [`${n.sent} sent`];
  if (n.failed > 0) parts.push(`${n.failed} FAILED`);
  if (n.waiting > 0) parts.push(`${n.waiting} waiting`);
  // Every message found no endpoint: the worker runs without MTF_NOTIFY_URL.
  if (n.no_endpoint > 0 && n.sent === 0 && n.failed === 0)
    return [row('notifications', 'none sent: the worker has no MTF_NOTIFY_URL (start loops with --notify off to spend nothing on them)')];
  return [row('notifications', parts.join(', ')), ...(n.last_failure ? [row('notify error', n.last_failure)] : [])];
}

/** The header's state: the phase, or the pause in force, which an operator must not miss. */
function stateText(s: LoopStatus): string {
  if (!s.is_running) return s.phase;
  if (s.phase === 'paused') return `${pausedText(s, 'PAUSED')}; \`mtf-ping-pong resume ${s.workflow_id}\` to go on`;
  return `running, ${s.phase.replace(/_/g, ' ')}`;
}

export function statusLines(s: LoopStatus, now = Date.now()): string[] {
  const state = stateText(s);
  const found = findingsRows(s.last_cycle);
  const lines = [
    `loop ${s.workflow_id}: ${state}`,
    ...found.alert,
    row('iteration', String(s.current_iteration)),
    row('run ids', s.first_run_id ? `${lineagePrefix(s.workflow_id, s.first_run_id)}.<iteration> (X-Run-Id)` : '-'),
    row('counters', countersLine(s.counters)),
    row('success rate', percent(s.success_rate)),
    row('last cycle', s.last_cycle ? lastCycleText(s.last_cycle) : '-'),
    ...found.rows,
    ...earlierTradesRows(s),
    row('next cycle', s.next_cycle_at ? nextCycleText(s.next_cycle_at, now) : '-'),
    row('last error', s.last_error ?? '-'),
    row('config', configLine(s.config)),
    ...cadenceRows(s),
    row('call timeout', attemptLine(s.config)),
    ...notificationRows(s),
  ];
  if (Object.keys(s.config.request_extra ?? {}).length > 0) lines.push(row('request extra', JSON.stringify(s.config.request_extra)));
  // A worker older than the labels answers without them: nothing to show then.
  const { fleet, group } = s.config as Partial<Pick<LoopStatus['config'], 'fleet' | 'group'>>;
  if (fleet || group) lines.push(row('labels', [group ? `group ${group}` : '', fleet ? `fleet ${fleet}` : ''].filter(Boolean).join(', ')));
  if (s.pending_config) lines.push(row('pending config', `${configLine(s.pending_config)} (from the next cycle)`));
  // Asked while a cycle ran: it takes effect once that cycle is recorded.
  if (s.pause && !s.pause.since)
    lines.push(
      row(
        'pause',
        `pause requested after iteration ${s.current_iteration} (asked at ${s.pause.requested_at}${s.pause.reason ? `: ${s.pause.reason}` : ''})`,
      ),
    );
  if (s.stop_requested) lines.push(row('stop', `requested${s.stop_reason ? `: ${s.stop_reason}` : ''}`));
  lines.push(row('started', s.started_at));
  return lines;
}

export function summaryLines(workflowId: string, summary: LoopSummary): string[] {
  const reason = summary.stop_reason ? ` (${summary.stop_reason})` : '';
  const found = findingsRows(summary.last_cycle);
  return [
    `loop ${workflowId} stopped${reason}`,
    ...found.alert,
    row('iterations', String(summary.iterations)),
    row('counters', countersLine(summary.counters)),
    row('success rate', percent(summary.success_rate)),
    row('last cycle', summary.last_cycle ? lastCycleText(summary.last_cycle) : '-'),
    ...found.rows,
    row('last error', summary.last_error ?? '-'),
    row('ran', `${summary.started_at} -> ${summary.stopped_at}`),
  ];
}

export function endLines(workflowId: string, end: LoopEnd): string[] {
  switch (end.how) {
    case 'stopped':
      return summaryLines(workflowId, end.summary);
    case 'failed':
      return [`loop ${workflowId} failed: ${end.message}`];
    case 'timed_out':
      return [`loop ${workflowId} timed out`];
    default:
      return [`loop ${workflowId} was ${end.how}`];
  }
}

export interface ListedLoop extends LoopListing {
  /** From a status query; null when the loop did not answer it. */
  iteration: number | null;
  /** The last cycle's trades, from the same query; null when it did not answer, or has none on record. */
  lastTrades: CycleTrades | null;
}

/** The loop's own word while it runs (running, failing); Temporal's once it has closed (a terminated loop cannot update its attribute). */
function stateOf(loop: ListedLoop): string {
  return loop.status === 'RUNNING' ? (loop.loopState ?? 'running') : loop.status.toLowerCase();
}

/** The loop's X-Run-Id prefix `mtfpp.<h>`; null when the listing did not give its first run. */
export function runIdPrefixOf(loop: LoopListing): string | null {
  return loop.firstRunId ? lineagePrefix(loop.workflowId, loop.firstRunId) : null;
}

const PREFIX_WIDTH = 'mtfpp.'.length + 16 + 2;

export function listLines(loops: ListedLoop[]): string[] {
  if (loops.length === 0) return ['no loops on this namespace'];
  const idWidth = Math.max('ID'.length, ...loops.map((l) => l.workflowId.length)) + 2;
  // A GROUP column only where some loop has one: a namespace without fleets reads as before.
  const grouped = loops.some((l) => l.group !== undefined);
  const groupWidth = grouped ? Math.max('GROUP'.length, ...loops.map((l) => (l.group ?? '-').length)) + 2 : 0;
  const groupHeader = grouped ? 'GROUP'.padEnd(groupWidth) : '';
  const header =
    `${'ID'.padEnd(idWidth)}${groupHeader}${'STATE'.padEnd(12)}${'ITERATION'.padEnd(11)}` +
    `${'LAST'.padEnd(11)}${'RUN IDS'.padEnd(PREFIX_WIDTH)}STARTED`;
  return [
    header,
    ...loops.map(
      (l) =>
        l.workflowId.padEnd(idWidth) +
        (grouped ? (l.group ?? '-').padEnd(groupWidth) : '') +
        stateOf(l).padEnd(12) +
        String(l.iteration ?? '-').padEnd(11) +
        (l.lastOutcome ?? '-').padEnd(11) +
        (runIdPrefixOf(l) ?? '-').padEnd(PREFIX_WIDTH) +
        l.startTime.toISOString(),
    ),
  ];
}
