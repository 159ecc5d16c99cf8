/** The shapes that `get_status` answers and a finished loop returns, shared by workflow, client and CLI. */
import type { LoopConfig } from './config';
import type { Counters, CyclePoint, CycleRecord } from './cycle-record';
import type { Pause } from './carried-state';
import type { NotificationsStatus } from './notifications';
import { healthyShare } from './outcomes';
import type { Phase } from './phases';

export interface LoopStatus {
  // The original service's keys, with their plain meaning.
  /** True while the loop runs; false once it has stopped or was cancelled. */
  is_running: boolean;
  /** The iteration being run, or the last one finished while the loop waits. */
  current_iteration: number;
  /** True once the current iteration's MTF run has finished (successfully or not). */
  mtf_completed: boolean;
  /** True once the current iteration's outcome has been recorded in the workflow. */
  temporal_notified: boolean;
  workflow_id: string;
  /** The Temporal run ID of this run of the loop (it changes at continue-as-new). */
  run_id: string;
  // What the original could not tell.
  /**
   * The loop's first run ID, stable across continue-as-new: with `workflow_id`, its X-Run-Id
   * prefix (src/lib/run-id.ts). Absent in answers of workers older than this key.
   */
  first_run_id?: string;
  phase: Phase;
  /** The config in force (it carries no secret: the API token lives in the worker's environment). */
  config: LoopConfig;
  /** An accepted `update_config` waiting for the next cycle; null when none. */
  pending_config: LoopConfig | null;
  counters: Counters;
  /** Percentage of finished cycles that succeeded (success or partial), null before the first. */
  success_rate: number | null;
  last_cycle: CycleRecord | null;
  last_error: string | null;
  /** When the next cycle starts (ISO time), when the loop is pausing with a known end: in `aligned` cadence, the beat. */
  next_cycle_at: string | null;
  /**
   * The `pause` asked for (`since` null while the cycle it waits for runs) or in force; null when
   * the loop runs. Absent in answers of workers older than pause.
   */
  pause?: Pause | null;
  stop_requested: boolean;
  stop_reason: string | null;
  continue_pending: boolean;
  /** When the loop was first started (stable across continue-as-new). */
  started_at: string;
  /** The last finished cycles, oldest first (at most 120), across continue-as-new: what the dashboard plots. */
  recent_cycles: CyclePoint[];
  /** What the loop's notifications did (MTF_NOTIFY_URL). Absent in answers of workers older than notifications. */
  notifications?: NotificationsStatus;
}

/** What the workflow returns when it ends on `stop_signal`. */
export interface LoopSummary {
  workflow_id: string;
  stop_reason: string | null;
  iterations: number;
  counters: Counters;
  success_rate: number | null;
  last_cycle: CycleRecord | null;
  last_error: string | null;
  started_at: string;
  stopped_at: string;
}

export function successRate(counters: Counters): number | null {
  const share = healthyShare(counters);
  return share === null ? null : Math.round(share * 10_000) / 100;
}

export function emptyCounters(): Counters {
  return {
    cycles: 0,
    succeeded: 0,
    partial: 0,
    failed: 0,
    skipped: 0,
    timed_out: 0,
    consecutive_failures: 0,
    continue_timeouts: 0,
    symbols_requested: 0,
    symbols_successful: 0,
    missed_beats: 0,
  };
}
