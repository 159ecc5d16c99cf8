/**
 * The loop's log lines, as a listener of its state: what a cycle found, earlier cycles' trades,
 * pauses, and how the loop ended. The workflow logger costs no history event (lines are dropped on
 * replay), so a quiet cycle logs as much as any other.
 */
import { log } from '@temporalio/workflow';
import type { CycleRecord } from '../shared/cycle-record';
import { orderCountsText, protectionAlertText, signalText } from '../shared/findings';
import { lineageUrl } from '../shared/config';
import { isHealthy } from '../shared/outcomes';
import { tradeText, tradesText } from '../shared/trades';
import type { LateTradesOfCycle, LoopListener } from './loop-events';
import type { LoopState } from './loop-state';

export class LoopLog implements LoopListener<LoopState> {
  started(loop: LoopState, fresh: boolean): void {
    log.info(fresh ? 'loop started' : 'loop continued as new', { iteration: loop.iteration, continue_mode: loop.config.continue_mode });
  }

  lateTrades(_loop: LoopState, late: LateTradesOfCycle): void {
    log.info('trades of an earlier cycle', {
      iteration: late.iteration,
      trades: tradesText(late.trades),
      trades_listed: late.trades.list.map(tradeText),
    });
  }

  lineageAbsent(loop: LoopState, why: string): void {
    log.warn('trades unknown: the app has no lineage API', { iteration: loop.iteration, lineage_url: lineageUrl(loop.config), why });
  }

  cycleRecorded(loop: LoopState, record: CycleRecord): void {
    const fields = {
      iteration: record.iteration,
      outcome: record.outcome,
      app_status: record.app_status,
      mtf_run_id: record.mtf_run_id,
      x_run_id: record.x_run_id,
      cycle_seconds: record.cycle_seconds,
      ...findingsFields(record),
    };
    // An open position without its stop-loss is the one thing a trader must hear at once, whatever the outcome.
    if (record.protection_alert) log.error(`cycle finished: ${protectionAlertText(record)}`, { ...fields, message: record.message });
    else if (isHealthy(record.outcome)) log.info('cycle finished', fields);
    else log.warn('cycle finished', { ...fields, message: record.message, consecutive_failures: loop.counters.consecutive_failures });
  }

  paused(loop: LoopState): void {
    log.info('loop paused', { iteration: loop.iteration, reason: loop.pause?.reason ?? null });
  }

  resumed(loop: LoopState): void {
    log.info('loop resumed', { iteration: loop.iteration });
  }

  cancelled(loop: LoopState): void {
    log.warn('loop cancelled', { iteration: loop.iteration, counters: loop.counters });
  }

  stopped(loop: LoopState): void {
    log.info('loop stopped', { iteration: loop.iteration, reason: loop.stopReason, counters: loop.counters });
  }
}

/** The cycle log line's share of the findings: READY contracts and order counts, nothing when the answer said nothing. */
function findingsFields(record: CycleRecord): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (record.contracts || record.signals.length > 0) {
    fields.ready = record.signals.map(signalText);
    if (record.signals_unlisted > 0) fields.ready_unlisted = record.signals_unlisted;
  }
  if (record.orders) fields.orders = orderCountsText(record.orders.count);
  if (record.protection_alert) fields.protection_alert = true;
  const trades = tradesText(record.trades);
  if (trades && record.trades?.state !== 'off') fields.trades = trades;
  if (record.trades && record.trades.list.length > 0) fields.trades_listed = record.trades.list.map(tradeText);
  return fields;
}
