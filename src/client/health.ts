/** The app's health as the worker sees it: through the health-check activity, when a worker polls. */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { HEALTH_CHECK_WORKFLOW_TYPE } from '../shared/messages';
import type { HealthCheckResult } from '../shared/mtf';

/**
 * Asks a worker on `taskQueue` to GET the app's health endpoint; null when no worker polls the
 * queue (the caller then checks directly). The check is a short workflow of its own, bounded by
 * `timeoutMs`, and never touches the loop.
 */
export async function mtfHealthThroughWorker(
  client: Client,
  options: { namespace: string; taskQueue: string; mtfUrl: string; timeoutMs: number },
): Promise<(HealthCheckResult & { worker: string }) | null> {
  const described = await client.workflowService.describeTaskQueue({
    namespace: options.namespace,
    taskQueue: { name: options.taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  const pollers = (described.pollers ?? []) as { identity?: string | null }[];
  const worker = pollers[0]?.identity;
  if (!worker) return null;
  const result = await client.workflow.execute<(input: { mtf_url: string }) => Promise<HealthCheckResult>>(HEALTH_CHECK_WORKFLOW_TYPE, {
    taskQueue: options.taskQueue,
    workflowId: `mtf-health-${randomUUID()}`,
    args: [{ mtf_url: options.mtfUrl }],
    workflowExecutionTimeout: options.timeoutMs,
  });
  return { ...result, worker };
}
