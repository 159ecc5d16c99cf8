/**
 * A loop's phases, written once: `get_status`, the `mtf_loop_phase` metric, the alert rules, the
 * CLI and the dashboard read this list. The words are on the wire: operators' dashboards read them.
 */
export const PHASES = [
  'starting',
  'calling_mtf',
  'awaiting_completion',
  'awaiting_continue',
  /** The wait between two cycles (step 5); not the `pause` update's hold. */
  'pausing',
  /** Held by the `pause` update: nothing is sent and no timer runs until `resume`. */
  'paused',
  'continuing_as_new',
  'stopped',
  'cancelled',
] as const;
export type Phase = (typeof PHASES)[number];

/** The phases of a cycle under way: from its call until it is recorded. */
export const IN_CYCLE_PHASES: readonly Phase[] = ['calling_mtf', 'awaiting_completion'];

/** The phases of a loop that no longer runs. */
export const ENDED_PHASES: readonly Phase[] = ['stopped', 'cancelled'];
