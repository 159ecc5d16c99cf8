/** Runs the real workflow on a test server with activities the test scripts. */
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { LoopConfigInput } from '../../src/shared/config';
import { noFindings } from '../../src/shared/findings';
import { WORKFLOW_TYPE, getStatusQuery } from '../../src/shared/messages';
import type { AwaitMtfRunInput, CallMtfRunInput, MtfActivities, RunReport, SentCallResult } from '../../src/shared/mtf';
import { runIdOfKey } from '../../src/lib/run-id';
import type { Notification } from '../../src/shared/notifications';
import type { LoopStatus } from '../../src/shared/status';
import { workflowSource } from '../../src/worker/worker';
import { uniqueId } from './temporal';

export interface RecordedCall {
  input: CallMtfRunInput;
  attempt: number;
}

/** What the app answered; the harness adds the `x_run_id` the real activity reports. */
export type CallScript = (call: RecordedCall, index: number) => Promise<SentCallResult> | SentCallResult;
export type AwaitScript = (input: AwaitMtfRunInput) => Promise<RunReport> | RunReport;

/** A finished run's report as the activity hands it over: a success over the seed's five symbols unless overridden. */
export function report(overrides: Partial<RunReport> = {}): RunReport {
  return {
    outcome: 'succeeded',
    app_status: 'completed',
    run_id: uniqueId('run'),
    message: null,
    execution_time_seconds: 1.5,
    symbols_requested: 5,
    symbols_processed: 5,
    symbols_successful: 5,
    symbols_failed: 0,
    success_rate: 100,
    errors: 0,
    findings: noFindings(),
    ui_details: 'signals',
    ...overrides,
  };
}

export const succeed: CallScript = () => ({ kind: 'completed', report: report() });

/** Activities that record every call and answer as the test's script says. */
// (They must not call the test server themselves: that upsets its time-skipping locks.)
export function scriptedActivities(onCall: CallScript, onAwait: AwaitScript = () => report()) {
  const calls: RecordedCall[] = [];
  /** The messages the loop handed its `notify` activity (a worker without MTF_NOTIFY_URL: none is posted). */
  const notifications: Notification[] = [];
  const activities: MtfActivities = {
    callMtfRun(input) {
      const call = { input, attempt: Context.current().info.attempt };
      calls.push(call);
      return Promise.resolve(onCall(call, calls.length - 1)).then((answer) => ({ ...answer, x_run_id: runIdOfKey(input.idempotency_key) }));
    },
    awaitMtfRun(input) {
      return Promise.resolve(onAwait(input));
    },
    health_check_activity() {
      return Promise.resolve({ healthy: true, http_status: 200, message: 'ok' });
    },
    notify(notification) {
      notifications.push(notification);
      return Promise.resolve({ sent: false, http_status: null });
    },
  };
  return { activities, calls, notifications };
}

export interface LoopRun {
  handle: WorkflowHandleWithFirstExecutionRunId;
  status(): Promise<LoopStatus>;
  /** Polls `get_status` (no time passes on the server meanwhile) until `check` holds. */
  waitForStatus(check: (s: LoopStatus) => boolean, what: string): Promise<LoopStatus>;
}

/** Starts the loop on a fresh task queue with a fresh worker, runs `body`, and always ends the loop. */
export async function withLoop<T>(
  env: TestWorkflowEnvironment,
  activities: MtfActivities,
  config: LoopConfigInput | Record<string, unknown> | undefined,
  body: (run: LoopRun) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueId('tq');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    activities,
    ...workflowSource(),
    // Cancellation reaches a scripted activity on its next heartbeat: let each heartbeat through.
    defaultHeartbeatThrottleInterval: 1,
    maxHeartbeatThrottleInterval: 1,
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue,
      workflowId: uniqueId('loop'),
      args: config === undefined ? [] : [config],
    });
    const status = () => handle.query(getStatusQuery);
    const run: LoopRun = { handle, status, waitForStatus: (check, what) => pollUntil(status, check, what) };
    try {
      return await body(run);
    } finally {
      await handle.terminate('test over').catch(() => undefined);
    }
  });
}

/** Bounded polling for eventually-consistent state: 2,000 tries, yielding to the event loop between them. */
export async function pollUntil<S>(read: () => Promise<S>, check: (s: S) => boolean, what: string, tries = 2000): Promise<S> {
  let last: S | undefined;
  for (let i = 0; i < tries; i++) {
    last = await read();
    if (check(last)) return last;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
}

/**
 * Scripted activities whose calls succeed, the first (or every one, `onlyFirst: false`) held open
 * until the test calls `release()`; `started` resolves once a held call runs.
 */
export function heldActivities({ onlyFirst = true } = {}) {
  const release = deferred();
  const started = deferred();
  const scripted = scriptedActivities(async (call, i) => {
    if (!onlyFirst || i === 0) {
      started.resolve();
      await release.promise;
    }
    return succeed(call, i);
  });
  return { ...scripted, started: started.promise, release: () => release.resolve() };
}

/** A promise the test resolves by hand: lets a scripted activity hold a cycle open. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits, heartbeating, until the activity is cancelled; then rethrows the cancellation. */
export async function untilCancelled(): Promise<never> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 20);
  try {
    await new Promise((_resolve, reject) =>
      ctx.cancellationSignal.addEventListener('abort', () => reject(ctx.cancellationSignal.reason as Error)),
    );
  } finally {
    clearInterval(timer);
  }
  throw new Error('unreachable');
}
