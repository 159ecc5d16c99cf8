/**
 * A cycle's outcomes, written once: the counters, the metrics, the notifications, the CLI and the
 * dashboard (its browser code too) all read this list and its kinds.
 */

export const OUTCOMES = ['succeeded', 'partial', 'failed', 'skipped', 'timed_out'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * What an outcome means for the loop's health: `good` and `partial` end a run of failures, `bad`
 * adds to it, `neutral` (a run the app's kill switch skipped) does neither.
 */
export type OutcomeKind = 'good' | 'partial' | 'bad' | 'neutral';

/** Complete by type: a new outcome does not compile until it has a kind. */
export const OUTCOME_KIND: Readonly<Record<Outcome, OutcomeKind>> = {
  succeeded: 'good',
  partial: 'partial',
  failed: 'bad',
  skipped: 'neutral',
  timed_out: 'bad',
};

/** The run went through (whole or in part): a run of failures ends. */
export function isHealthy(outcome: Outcome): boolean {
  const kind = OUTCOME_KIND[outcome];
  return kind === 'good' || kind === 'partial';
}

/** The run did not go through: it counts towards `consecutive_failures`. */
export function isFailure(outcome: Outcome): boolean {
  return OUTCOME_KIND[outcome] === 'bad';
}

/** The share of cycles that went through (whole or in part), 0..1; null before the first cycle. */
export function healthyShare(counters: Record<Outcome, number> & { cycles: number }): number | null {
  if (counters.cycles === 0) return null;
  return OUTCOMES.filter(isHealthy).reduce((sum, o) => sum + counters[o], 0) / counters.cycles;
}

/** Anything but a whole success: the cycle's message says why. */
export function fallsShort(outcome: Outcome): boolean {
  return OUTCOME_KIND[outcome] !== 'good';
}

/** The outcome as a person reads it (`timed out`). */
export function outcomeText(outcome: Outcome): string {
  return outcome.replace('_', ' ');
}
