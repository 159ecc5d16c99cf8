/**
 * Trades a cycle's own read could not see yet (the app writes them after it answers): read again
 * after the next cycles' answers, attached to their cycle's point in the recent-cycles window, or
 * given up. Plain functions over the window; the loop's state (loop-state.ts) calls them.
 */
import type { CyclePoint } from '../shared/cycle-record';
import type { LateTrades } from '../shared/mtf';
import { POINT_TRADES, listedAtMost, withState } from '../shared/trades';
import type { LateTradesOfCycle } from './loop-events';

/**
 * Earlier cycles whose `pending` trades a cycle reads again: its predecessor, and those whose own
 * successor failed before it could read them. Older ones are given up (`unknown`).
 */
export const LATE_READS = 3;

/** The earlier cycles the cycle `iteration` reads again, with their READY count. */
export function stillPending(points: readonly CyclePoint[], iteration: number): { iteration: number; ready: number | null }[] {
  return points
    .filter((p) => p.trades?.state === 'pending' && p.iteration >= iteration - LATE_READS)
    .map((p) => ({ iteration: p.iteration, ready: p.ready }));
}

/**
 * Earlier cycles' trades read again: each goes onto that cycle's point, `known` or still
 * `pending`. Returns those attached, with the outcome of their cycle.
 */
export function attachToPoints(points: CyclePoint[], late: readonly LateTrades[]): LateTradesOfCycle[] {
  const attached: LateTradesOfCycle[] = [];
  for (const { iteration, trades } of late) {
    const point = points.find((p) => p.iteration === iteration);
    // Only trades still waited for: a read an older worker asked for may come after they were given up.
    if (!point || point.trades?.state !== 'pending') continue;
    point.trades = listedAtMost(trades, POINT_TRADES);
    attached.push({ iteration, trades, outcome: point.outcome });
  }
  return attached;
}

/**
 * Pending trades too old to be read again become `unknown`, with what was read of them. Returns
 * them, so they are counted once like any other trades that are final.
 */
export function giveUpOnPoints(points: CyclePoint[], iteration: number): LateTradesOfCycle[] {
  const given: LateTradesOfCycle[] = [];
  for (const point of points) {
    if (point.trades?.state !== 'pending' || point.iteration >= iteration - LATE_READS) continue;
    point.trades = withState(point.trades, 'unknown');
    given.push({ iteration: point.iteration, trades: point.trades, outcome: point.outcome });
  }
  return given;
}
