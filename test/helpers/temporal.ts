/** Temporal servers for the tests, from the project's own pinned binaries. */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { temporalCliPath, testServerPath } from '../../src/toolchain/binaries';

let runtimeInstalled = false;
/** Once per process: keep the SDK's own logs to warnings so the runner's report stays readable. */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.TEST_LOG_LEVEL as 'WARN' | 'ERROR' | undefined) ?? 'ERROR';
  Runtime.install({
    logger: new DefaultLogger(level),
    // The SDK core logs too (e.g. a replay's expected non-determinism): same level, same logger.
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level }), forward: {} } },
  });
}

export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
}

/**
 * A real `temporal server start-dev` on a free loopback port, in memory, with the loop's search
 * attributes registered (as `npm start` registers them) unless a test needs a namespace without.
 * `extraArgs` go to `start-dev` as they are (e.g. `--dynamic-config-value`).
 */
export function createDevServerEnv(options: { searchAttributes?: boolean; extraArgs?: string[] } = {}): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      ip: '127.0.0.1',
      log: { format: 'pretty', level: 'error' },
      searchAttributes: options.searchAttributes === false ? [] : [...SEARCH_ATTRIBUTES],
      ...(options.extraArgs && { extraArgs: options.extraArgs }),
    },
  });
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A loop's "Current Details" as the Temporal UI reads them: the SDK's built-in metadata query. */
export async function currentDetails(client: Client, workflowId: string): Promise<string> {
  const metadata = await client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

/** The activity an event belongs to (its scheduled, started and closing events), or null. */
function activityOf(event: HistoryEvent, scheduled: Map<string, string>): string | null {
  const own = event.activityTaskScheduledEventAttributes?.activityType?.name;
  if (own) return own;
  const a =
    event.activityTaskStartedEventAttributes ??
    event.activityTaskCompletedEventAttributes ??
    event.activityTaskFailedEventAttributes ??
    event.activityTaskTimedOutEventAttributes;
  return a?.scheduledEventId ? (scheduled.get(String(a.scheduledEventId)) ?? null) : null;
}

/**
 * A history without what notifications add (src/workflows/notifier.ts): the `notify` activities'
 * events, the patch marker and the TemporalChangeVersion upsert the SDK makes with it. What the tests
 * of the MTF call count, unchanged by notifications (the workflow tasks they wake remain).
 */
export function withoutNotifications(events: HistoryEvent[]): HistoryEvent[] {
  const scheduled = new Map(
    events.flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [[String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '']] : [],
    ),
  );
  return events.filter((e) => activityOf(e, scheduled) !== 'notify' && !isPatchBookkeeping(e));
}

/** The patch marker, or the SDK's own upsert of TemporalChangeVersion beside it. */
export function isPatchBookkeeping(e: HistoryEvent): boolean {
  if (e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED) return e.markerRecordedEventAttributes?.markerName === 'core_patch';
  const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
  return fields !== undefined && fields !== null && Object.keys(fields).every((key) => key === 'TemporalChangeVersion');
}

/** The events of the messages the loop handed its `notify` activity, in order (from unencrypted histories). */
export function notifiedEvents(events: HistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    if (a?.activityType?.name !== 'notify') return [];
    const data = a.input?.payloads?.[0]?.data;
    return [(JSON.parse(Buffer.from(data ?? []).toString('utf8')) as { event: string }).event];
  });
}
