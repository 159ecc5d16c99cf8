/**
 * A loop's cost from its real history: the events, Temporal Cloud Actions and bytes of each cycle.
 * A cycle starts at the ActivityTaskScheduled of `callMtfRun`; it runs to the next one. The bench
 * reports these figures and the tests hold the loop to them: harness/ is neutral ground, it imports
 * neither test/ nor bench/.
 */
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

/**
 * Temporal Cloud's Actions as its published list counts them (docs.temporal.io/cloud/actions, read
 * 2026-12), for what a history shows. Each event type names the rule that bills it:
 * - "Workflow started" (a client start, Continue-As-New, a child): WorkflowExecutionStarted, and
 *   WorkflowExecutionContinuedAsNew (the next run's start, written in this run's history);
 * - "Timer started": TimerStarted (a `condition` with a timeout starts one too);
 * - "Search Attribute upsert requested": UpsertWorkflowSearchAttributes, but not one that only sets
 *   `TemporalChangeVersion` ("exempt from Action counting");
 * - "Signal sent": WorkflowExecutionSignaled, SignalExternalWorkflowExecutionInitiated;
 * - "Update received by Worker": WorkflowExecutionUpdateAccepted (a rejected one leaves no event);
 * - "Activity started or retried": ActivityTaskScheduled, plus one per retry (the attempt number of
 *   its ActivityTaskStarted);
 * - "Local Activity started" / "Side Effect recorded": all markers of one workflow task count once;
 * - "Start Child Workflow and Child Workflow Execution": two for StartChildWorkflowExecutionInitiated;
 * - "Workflow Execution Options updated": WorkflowExecutionOptionsUpdated.
 * Heartbeats and queries are Actions too but leave no event: the bench counts heartbeats apart.
 * A Schedule's own "Schedule Start" (two Actions per execution) is outside every history: the
 * schedule stage adds it.
 */
const ONE_ACTION = new Set<temporal.api.enums.v1.EventType>([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED,
]);

/** Actions of a slice of history, by the rules above. */
export function actionsOf(events: HistoryEvent[]): number {
  let actions = 0;
  let markerTask = false; // a marker already counted for the current workflow task
  for (const e of events) {
    const type = e.eventType ?? EventType.EVENT_TYPE_UNSPECIFIED;
    if (type === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) markerTask = false;
    if (type === EventType.EVENT_TYPE_MARKER_RECORDED && !markerTask) {
      actions += 1;
      markerTask = true;
    }
    if (ONE_ACTION.has(type)) actions += 1;
    if (type === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
      actions += Math.max((e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1, 0);
    if (type === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED) actions += 2;
    if (type === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) {
      const fields = Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
      if (fields.some((name) => name !== 'TemporalChangeVersion')) actions += 1;
    }
  }
  return actions;
}

export function eventMs(event: HistoryEvent): number {
  const t = event.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : NaN;
}

function isCallScheduled(event: HistoryEvent): boolean {
  return (
    event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
    event.activityTaskScheduledEventAttributes?.activityType?.name === 'callMtfRun'
  );
}

/** Indexes of the events that start a cycle. */
export function cycleStarts(events: HistoryEvent[]): number[] {
  return events.flatMap((e, i) => (isCallScheduled(e) ? [i] : []));
}

export interface CycleCost {
  /** When the cycle's call was scheduled, server time. */
  startedMs: number;
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
      startedMs: eventMs(cycle[0] as HistoryEvent),
      events: cycle.length,
      actions: actionsOf(cycle),
      bytes: cycle.reduce((sum, e) => sum + encodedBytes(e), 0),
      resultBytes: completed ? encodedBytes(completed) : 0,
    });
  }
  return costs;
}
