/**
 * Reads a loop's timing from its real history (its costs: harness/history.ts). A cycle starts at
 * the ActivityTaskScheduled of `callMtfRun`; it runs to the next one.
 */
import { temporal } from '@temporalio/proto';
import { cycleStarts, eventMs } from '../harness/history';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

export interface CycleTiming {
  /** When the call was scheduled (the cycle's start), server time. */
  scheduledMs: number;
  /** ActivityTaskStarted − ActivityTaskScheduled. */
  scheduleToStartMs: number;
  /**
   * The next cycle's start − (this call's completion + interval): the loop's own overhead (workflow
   * tasks, timer lateness, the next call's scheduling). Null for the last cycle.
   */
  driftMs: number | null;
}

/** Timings of each cycle whose call completed. */
export function cycleTimings(events: HistoryEvent[], intervalMs: number): CycleTiming[] {
  // An activity's started and completed events name the event that scheduled it.
  const started = new Map<string, HistoryEvent>();
  const completed = new Map<string, HistoryEvent>();
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
      started.set(String(e.activityTaskStartedEventAttributes?.scheduledEventId), e);
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
      completed.set(String(e.activityTaskCompletedEventAttributes?.scheduledEventId), e);
  }
  const starts = cycleStarts(events);
  const timings: CycleTiming[] = [];
  for (let c = 0; c < starts.length; c++) {
    const scheduled = events[starts[c] ?? -1];
    if (!scheduled) continue;
    const start = started.get(String(scheduled.eventId));
    const end = completed.get(String(scheduled.eventId));
    if (!start || !end) continue;
    const next = events[starts[c + 1] ?? -1];
    timings.push({
      scheduledMs: eventMs(scheduled),
      scheduleToStartMs: eventMs(start) - eventMs(scheduled),
      driftMs: next ? eventMs(next) - (eventMs(end) + intervalMs) : null,
    });
  }
  return timings;
}

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
