/** What the loop's state answers: `get_status`, and the summary a stopped loop returns. */
import { notificationsStatus } from '../shared/notifications';
import { ENDED_PHASES } from '../shared/phases';
import { successRate, type LoopStatus, type LoopSummary } from '../shared/status';
import type { LoopState } from './loop-state';

/** What `get_status` answers. */
export function statusOf(loop: LoopState): LoopStatus {
  const running = !ENDED_PHASES.includes(loop.phase);
  return {
    is_running: running,
    current_iteration: loop.iteration,
    mtf_completed: loop.mtfCompleted,
    temporal_notified: loop.temporalNotified,
    workflow_id: loop.ids.workflowId,
    run_id: loop.ids.runId,
    first_run_id: loop.ids.firstRunId,
    phase: loop.phase,
    config: loop.config,
    pending_config: loop.pendingConfig,
    counters: { ...loop.counters },
    success_rate: successRate(loop.counters),
    last_cycle: loop.lastCycle,
    last_error: loop.lastError,
    next_cycle_at: loop.nextCycleAt,
    stop_requested: loop.stopRequested,
    stop_reason: loop.stopReason,
    continue_pending: loop.continuePending,
    started_at: loop.startedAt,
    recent_cycles: loop.recentCycles,
    pause: loop.pause,
    notifications: notificationsStatus(loop.notifications),
  };
}

/** What a stopped loop returns. */
export function summaryOf(loop: LoopState, now: number): LoopSummary {
  return {
    workflow_id: loop.ids.workflowId,
    stop_reason: loop.stopReason,
    iterations: loop.iteration,
    counters: { ...loop.counters },
    success_rate: successRate(loop.counters),
    last_cycle: loop.lastCycle,
    last_error: loop.lastError,
    started_at: loop.startedAt,
    stopped_at: new Date(now).toISOString(),
  };
}
