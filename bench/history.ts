/**
 * Reads a loop's cost and timing from its real history. A cycle starts at the
 * ActivityTaskScheduled of `callMtfRun`; it runs to the next one.
 */
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

/**
 * Events Temporal bills as Actions (Temporal Cloud's list, as far as a history shows it). An
 * activity heartbeat is an Action too but leaves no event: the bench counts those apart.
 */
const ACTION_EVENTS = new Set<temporal.api.enums.v1.EventType>([
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
  EventType.EVENT_TYPE_MARKER_RECORDED,
  EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
]);

export function eventMs(event: HistoryEvent): number {
  const t = event.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;
}

function isCallScheduled(event: HistoryEvent): boolean {
  return event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && event.activityTaskScheduledEventAttributes?.activityType?.name === 'callMtfRun';
}

/** Indexes of the events that start a cycle. */
function cycleStarts(events: HistoryEvent[]): number[] {
  return events.flatMap((e, i) => (isCallScheduled(e) ? [i] : []));
}

export interface CycleCost {
  events: number;
  actions: number;
  /** The cycle's events as the server stores them (protobuf-encoded), bytes. */
  bytes: number;
  /** Of those, the call's completion (`ActivityTaskCompleted`, its result inside). */
  resultBytes: number;
}

function encodedBytes(event: HistoryEvent): number {
  return temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
}

/** Events and Actions of every complete cycle after the first (which announces the first outcome). */
export function quietCycleCosts(events: HistoryEvent[]): CycleCost[] {
  const starts = cycleStarts(events);
  const costs: CycleCost[] = [];
  for (let c = 1; c + 1 < starts.length; c++) {
    const cycle = events.slice(starts[c], starts[c + 1]);
    const completed = cycle.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    costs.push({
      events: cycle.length,
      actions: cycle.filter((e) => e.eventType !== null && e.eventType !== undefined && ACTION_EVENTS.has(e.eventType)).length,
      bytes: cycle.reduce((sum, e) => sum + encodedBytes(e), 0),
      resultBytes: completed ? encodedBytes(completed) : 0,
    });
  }
  return costs;
}

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
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) started.set(String(e.activityTaskStartedEventAttributes?.scheduledEventId), e);
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) completed.set(String(e.activityTaskCompletedEventAttributes?.scheduledEventId), e);
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
