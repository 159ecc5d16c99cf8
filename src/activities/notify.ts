/**
 * The `notify` activity: posts one message the workflow wrote to the worker's MTF_NOTIFY_URL. The
 * URL is a secret (a Slack webhook's path is its key): it lives in this closure only. No failure
 * message names it, since failures are written to history: "notification endpoint answered HTTP
 * 500", never the address.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { METRICS } from '../shared/metrics';
import { notificationBody, type Notification, type NotifyFormat, type NotifyResult } from '../shared/notifications';
import { deadlineSignal } from './deadline';

/** The `notify` activity's failure type; the retry policy (workflows/notifier.ts) retries it. */
export const NOTIFY_FAILED = 'NotifyFailed';

export interface NotifyDeps {
  /** MTF_NOTIFY_URL; null: the worker sends nothing and says so in its answer. */
  url: string | null;
  format?: NotifyFormat;
  /** How long one post may take before it counts as unanswered (MTF_NOTIFY_TIMEOUT). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_NOTIFY_TIMEOUT_MS = 5_000;

export function createNotify(deps: NotifyDeps): (notification: Notification) => Promise<NotifyResult> {
  const format = deps.format ?? 'slack';
  const timeoutMs = deps.timeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS;
  const doFetch = deps.fetch ?? fetch;

  return async function notify(notification: Notification): Promise<NotifyResult> {
    const ctx = Context.current();
    const fields = { event: notification.event, iteration: notification.iteration, attempt: ctx.info.attempt };
    if (deps.url === null) return { sent: false, http_status: null };
    let status: number;
    const deadline = deadlineSignal(ctx.cancellationSignal, timeoutMs);
    try {
      const answer = await doFetch(deps.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: notificationBody(notification, format),
        // A webhook that redirects is misconfigured; following it would post the message elsewhere.
        redirect: 'manual',
        signal: deadline.signal,
      });
      status = answer.status;
      await answer.body?.cancel();
    } catch (err) {
      if (ctx.cancellationSignal.aborted) throw err;
      throw attemptFailed(ctx, fields, unansweredText(err, timeoutMs), false);
    } finally {
      deadline.clear();
    }
    if (status >= 200 && status < 300) {
      ctx.log.info('notification sent', { ...fields, http_status: status });
      return { sent: true, http_status: status };
    }
    // A refusal (a revoked webhook: 403, 404, 410) or a redirect does not change on a retry; a throttle or an outage may.
    const final = status < 500 && status !== 408 && status !== 429;
    throw attemptFailed(
      ctx,
      fields,
      `notification endpoint answered HTTP ${status}${status >= 300 && status < 400 ? ' (a redirect, not followed)' : ''}`,
      final,
    );
  };
}

/** Why no answer came, in words that never hold the URL (fetch's own errors may). */
function unansweredText(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `notification endpoint did not answer within ${timeoutMs / 1000} s`;
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : null;
  return `notification endpoint unreachable${code ? ` (${code})` : ''}`;
}

function attemptFailed(ctx: Context, fields: Record<string, unknown>, message: string, final: boolean): ApplicationFailure {
  ctx.metricMeter.createCounter(METRICS.notifyAttemptFailures, 'attempts', 'notification posts that failed (each retry counts)').add(1);
  ctx.log.warn(final ? 'notification refused; not retried' : 'notification failed; Temporal retries it', { ...fields, error: message });
  return final ? ApplicationFailure.nonRetryable(message, NOTIFY_FAILED) : ApplicationFailure.retryable(message, NOTIFY_FAILED);
}
