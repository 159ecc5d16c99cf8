/**
 * Why a loop did not answer a query or an update in time. The call goes from the frontend to the
 * history service that owns the loop, then through matching to a worker polling the loop's task
 * queue: a deadline alone cannot tell which of them failed, and "is a worker polling?" blamed the
 * worker while the server's history service was down (seen on a real cluster). Two cheap reads
 * tell them apart: DescribeWorkflowExecution needs history, DescribeTaskQueue needs matching and
 * names the pollers.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { messageOf } from '../lib/errors';
import { GrpcStatus, grpcCode, grpcErrorOf } from '../lib/grpc';

/** Each read is answered in milliseconds by a healthy server. */
export const PROBE_TIMEOUT_MS = 3_000;

export interface Unanswered {
  /** True when the server failed to answer for the loop: the worker is not the cause. */
  serverFault: boolean;
  /** What to tell the user, after "loop X did not answer get_status within 10s: ". */
  reason: string;
}

/** A bounded read: its value, or its error's text and gRPC status code. */
type Read<T> = { ok: true; value: T } | { ok: false; error: string; code: number | undefined };

async function bounded<T>(client: Client, timeoutMs: number, work: () => Promise<T>): Promise<Read<T>> {
  try {
    return { ok: true, value: await client.connection.withDeadline(Date.now() + timeoutMs, work) };
  } catch (err) {
    // The SDK wraps the gRPC error in a ServiceError; the gRPC one says what happened.
    const text = messageOf(grpcErrorOf(err));
    // gRPC's DEADLINE_EXCEEDED message lists its resolution steps; its first words say it all.
    const error = /^4 DEADLINE_EXCEEDED/.test(text) ? 'no answer within the deadline' : text;
    return { ok: false, error, code: grpcCode(err) };
  }
}

function agoText(at: Date | null, now: number): string {
  if (!at) return '';
  const seconds = Math.max(0, Math.round((now - at.getTime()) / 1000));
  return `, last poll ${seconds}s ago`;
}

/**
 * Asks the server about the loop and about its task queue's pollers, each read bounded, and says
 * which part failed. `taskQueue` is the caller's guess (none: the dashboard has no guess); the
 * loop's own, when the server gives it, wins.
 */
export async function whyUnanswered(
  client: Client,
  request: { namespace: string; workflowId: string; taskQueue?: string },
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<Unanswered> {
  const described = await bounded(client, timeoutMs, () =>
    client.workflowService.describeWorkflowExecution({ namespace: request.namespace, execution: { workflowId: request.workflowId } }),
  );
  const taskQueue = (described.ok && described.value.executionConfig?.taskQueue?.name) || request.taskQueue;
  if (!taskQueue) {
    const error = described.ok ? 'the server gave no task queue' : described.error;
    return {
      serverFault: true,
      reason:
        `the Temporal server did not answer for the loop either (DescribeWorkflowExecution: ` +
        `${error}): a server fault, its history service down or overloaded`,
    };
  }
  const queue = await bounded(client, timeoutMs, () =>
    client.workflowService.describeTaskQueue({
      namespace: request.namespace,
      taskQueue: { name: taskQueue },
      // Queries and updates are handed to the workflow pollers.
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    }),
  );
  const pollers = queue.ok ? ((queue.value.pollers ?? []) as temporal.api.taskqueue.v1.IPollerInfo[]) : [];
  const pollerText = (): string => {
    if (!queue.ok) return '';
    if (pollers.length === 0) return `; no worker polls its task queue (${taskQueue}) either`;
    return `; ${pollers.length} worker(s) poll its task queue (${taskQueue}), so the worker is not the cause`;
  };
  if (!described.ok) {
    return {
      serverFault: true,
      reason:
        `the Temporal server did not answer for the loop either (DescribeWorkflowExecution: ` +
        `${described.error}): a server fault, its history service down or overloaded${pollerText()}`,
    };
  }
  if (!queue.ok) {
    return {
      serverFault: true,
      reason:
        `the Temporal server could not list the pollers of the loop's task queue ${taskQueue} ` +
        `(DescribeTaskQueue: ${queue.error}): a server fault, its matching service down or overloaded`,
    };
  }
  if (pollers.length === 0)
    return { serverFault: false, reason: `no worker polls its task queue (${taskQueue}): start one (mtf-ping-pong worker)` };
  const now = Date.now();
  const named = pollers
    .slice(0, 3)
    .map((p) => {
      const at = p.lastAccessTime?.seconds ? new Date(Number(p.lastAccessTime.seconds) * 1000) : null;
      return `${p.identity ?? 'unnamed'}${agoText(at, now)}`;
    })
    .join('; ');
  return {
    serverFault: false,
    reason:
      `the server answered and ${pollers.length} worker(s) poll its task queue ${taskQueue} (${named}), yet ` +
      `none answered: a worker may be overloaded, stuck, or unable to run this loop's code; see its logs`,
  };
}

/**
 * Null when the server's history and matching services answer on `namespace`, else why not. The
 * frontend answering (DescribeNamespace) says nothing of them: asking history for a workflow that
 * does not exist (NOT_FOUND is its answer) and matching for a task queue's pollers does, in two
 * short reads.
 */
export async function serverProblem(
  client: Client,
  namespace: string,
  taskQueue: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<string | null> {
  const probe = await bounded(client, timeoutMs, () =>
    client.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: `mtf-ping-pong-health-probe-${Date.now()}` } }),
  );
  // The made-up workflow found would be odd, but history answered all the same.
  if (!probe.ok && probe.code !== GrpcStatus.NOT_FOUND)
    return `the frontend answers, but its history service did not (DescribeWorkflowExecution: ${probe.error})`;
  const queue = await bounded(client, timeoutMs, () =>
    client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    }),
  );
  return queue.ok ? null : `the frontend answers, but its matching service did not (DescribeTaskQueue: ${queue.error})`;
}
