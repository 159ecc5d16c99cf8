/** The card's sentences that the page writes itself from a loop's status (the rest come from the server). */
import { IN_CYCLE_PHASES } from '../../shared/phases';
import type { LoopStatus } from '../../shared/status';
import type { DashboardLoop } from '../view';
import { clock, dateTime } from './format';

/**
 * A card's protection alert: the last cycle's, naming its orders; else the latest one still in the
 * plotted window, since the position it reported may still be open. Null when there is none.
 */
export function alertOf(loop: DashboardLoop): string | null {
  if (loop.findings?.alert) return loop.findings.alert;
  const cycles = loop.status?.recent_cycles ?? [];
  const past = cycles.filter((c) => c.protection_alert);
  const latest = past[past.length - 1];
  if (!latest) return null;
  return `PROTECTION ALERT in cycle #${latest.iteration} at ${clock(latest.finished_at)} (${past.length} of the last ${
    cycles.length
  } cycles): a position may still be open without its stop-loss`;
}

/** What "next cycle" says when no cycle is due at a known time. */
export function idleText(s: LoopStatus): string {
  if (!s.is_running) return 'none: the loop has ended';
  if (IN_CYCLE_PHASES.includes(s.phase)) return 'cycle running';
  if (s.phase === 'awaiting_continue') return 'waiting for continue_signal';
  if (s.phase === 'paused') return 'none while paused';
  return '-';
}

/** The badge of a pause: in force, or requested while the cycle it waits for runs. */
export function pauseBadge(s: LoopStatus): string | null {
  if (!s.pause) return null;
  return s.pause.since ? 'PAUSED' : 'pause requested';
}

/**
 * The pause asked for by the pause update: in force (no cycle runs, no timer) or requested, waiting
 * for the running cycle to be recorded. Null when the loop runs (or its worker predates pause).
 */
export function pauseText(s: LoopStatus): string | null {
  const p = s.pause;
  if (!p) return null;
  const reason = p.reason ? `: ${p.reason}` : '';
  if (!p.since) return `pause requested after iteration ${s.current_iteration}${reason} (the running cycle finishes and is recorded first)`;
  // A date as well as a time: a pause may last days. No "ago" here: the card is redrawn only when its data changes.
  return `PAUSED since ${dateTime(p.since)}${reason}: no cycle runs until resume`;
}

/** Beats an aligned loop let pass without a cycle, in all and before its last cycle; null when none. */
export function missedBeatsText(s: LoopStatus): string | null {
  const all = s.counters.missed_beats || 0;
  const last = s.last_cycle?.missed_beats || 0;
  if (all === 0 && last === 0) return null;
  return `${all} in all${s.last_cycle ? ` · ${last} before cycle #${s.last_cycle.iteration}` : ''} (counted, not queued)`;
}
