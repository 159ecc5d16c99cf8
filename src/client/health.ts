/** The app's health as the worker sees it: through the health-check activity, when a worker polls. */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { HEALTH_CHECK_WORKFLOW_TYPE } from '../shared/messages';
import type { HealthCheckInput, HealthCheckResult } from '../shared/mtf';

/**
 * Asks a worker on `taskQueue` to read the app's health (src/activities/app-health.ts); null when no worker polls the
 * queue (the caller then checks directly). The check is a short workflow of its own, bounded by
 * `timeoutMs`, and never touches the loop.
 */
export async function mtfHealthThroughWorker(
  client: Client,
  options: { namespace: string; taskQueue: string; input: HealthCheckInput; timeoutMs: number },
): Promise<(HealthCheckResult & { worker: string }) | null> {
  const described = await client.workflowService.describeTaskQueue({
    namespace: options.namespace,
    taskQueue: { name: options.taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  const pollers = (described.pollers ?? []) as { identity?: string | null }[];
  const worker = pollers[0]?.identity;
  if (!worker) return null;
  const result = await client.workflow.execute<(input: HealthCheckInput) => Promise<HealthCheckResult>>(HEALTH_CHECK_WORKFLOW_TYPE, {
    taskQueue: options.taskQueue,
    workflowId: `mtf-health-${randomUUID()}`,
    args: [options.input],
    workflowExecutionTimeout: options.timeoutMs,
  });
  return { ...result, worker };
}
