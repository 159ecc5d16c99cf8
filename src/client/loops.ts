/**
 * Every start, stop, signal and query of a loop goes through here, so the CLI, the dev stack and
 * the tests share one set of IDs, checks and messages. "Already running" and "not found" are
 * expected outcomes with their own errors, not stack traces.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { parseLoopConfig, type LoopConfig } from '../shared/config';
import {
  DEFAULT_WORKFLOW_ID,
  WORKFLOW_TYPE,
  continueSignal,
  getStatusQuery,
  stopSignal,
} from '../shared/messages';
import type { LoopStatus, LoopSummary } from '../shared/status';

export class LoopAlreadyRunningError extends Error {
  override readonly name = 'LoopAlreadyRunningError';
  constructor(readonly workflowId: string) {
    super(
      `loop "${workflowId}" is already running; two loops must not drive the same app. ` +
        `Stop it first (mtf-ping-pong stop ${workflowId}) or start another ID.`,
    );
  }
}

export class LoopNotFoundError extends Error {
  override readonly name = 'LoopNotFoundError';
  constructor(readonly workflowId: string) {
    super(`no loop "${workflowId}" in this namespace`);
  }
}

export interface StartedLoop {
  workflowId: string;
  runId: string;
  config: LoopConfig;
}

/**
 * Starts a loop. The config is checked here first (the workflow checks it again), and sent whole,
 * defaults included, so the history shows exactly what the loop runs with. No execution timeout:
 * the loop runs until it is stopped.
 */
export async function startLoop(
  client: Client,
  options: { taskQueue: string; config?: unknown; workflowId?: string },
): Promise<StartedLoop> {
  const config = parseLoopConfig(options.config);
  const workflowId = options.workflowId ?? DEFAULT_WORKFLOW_ID;
  try {
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      workflowId,
      taskQueue: options.taskQueue,
      args: [config],
      workflowIdConflictPolicy: 'FAIL',
    });
    return { workflowId, runId: handle.firstExecutionRunId, config };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new LoopAlreadyRunningError(workflowId);
    throw err;
  }
}

function handleOf(client: Client, workflowId: string): WorkflowHandle {
  return client.workflow.getHandle(workflowId);
}

async function notFoundAsError<T>(workflowId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new LoopNotFoundError(workflowId);
    throw err;
  }
}

export function loopStatus(client: Client, workflowId = DEFAULT_WORKFLOW_ID): Promise<LoopStatus> {
  return notFoundAsError(workflowId, () => handleOf(client, workflowId).query(getStatusQuery));
}

export function continueLoop(client: Client, workflowId = DEFAULT_WORKFLOW_ID): Promise<void> {
  return notFoundAsError(workflowId, () => handleOf(client, workflowId).signal(continueSignal));
}

/** Graceful stop: the running cycle finishes and is recorded; resolves to the final summary. */
export async function stopLoop(
  client: Client,
  workflowId = DEFAULT_WORKFLOW_ID,
  reason?: string,
): Promise<LoopSummary> {
  return notFoundAsError(workflowId, async () => {
    const handle = handleOf(client, workflowId);
    await handle.signal(stopSignal, reason ? { reason } : undefined);
    return (await handle.result()) as LoopSummary;
  });
}

/** Immediate end: the running MTF call is cancelled. */
export function cancelLoop(client: Client, workflowId = DEFAULT_WORKFLOW_ID): Promise<void> {
  return notFoundAsError(workflowId, async () => {
    await handleOf(client, workflowId).cancel();
  });
}
