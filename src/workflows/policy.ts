/**
 * Timeouts and retries, in one place. Every value comes from the loop's config; the cycle's
 * budget bounds the activities through their schedule-to-close timeout, so no extra timer is
 * spent on it.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import type { LoopConfig } from '../shared/config';
import { NON_RETRYABLE_ERRORS } from '../shared/errors';

/**
 * A killed worker's call is taken over once this passes without a heartbeat. The activities
 * heartbeat every 10 s once a call has lasted 5 s; a quick call sends none.
 */
export const HEARTBEAT_TIMEOUT_MS = 30_000;

/** A live run that the app does not deduplicate is never retried by Temporal. */
export function sendsOnce(config: LoopConfig): boolean {
  return !config.dry_run && !config.mtf_idempotent;
}

function retryPolicy(config: LoopConfig): ActivityOptions['retry'] {
  return {
    initialInterval: config.retry_initial_interval * 1000,
    backoffCoefficient: config.retry_backoff,
    maximumInterval: config.retry_max_interval * 1000,
    maximumAttempts: config.max_attempts,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERRORS],
  };
}

/** Step 1: each attempt gets `activity_timeout`; all attempts together get what is left of the budget. */
export function callOptions(config: LoopConfig, budgetLeftMs: number): ActivityOptions {
  return {
    startToCloseTimeout: Math.min(config.activity_timeout * 1000, budgetLeftMs),
    scheduleToCloseTimeout: budgetLeftMs,
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: sendsOnce(config) ? { maximumAttempts: 1 } : retryPolicy(config),
    summary: 'POST MTF run',
  };
}

/** Step 2: polling an accepted run lasts as long as the run, within what is left of the budget. */
export function awaitOptions(config: LoopConfig, budgetLeftMs: number): ActivityOptions {
  return {
    startToCloseTimeout: budgetLeftMs,
    scheduleToCloseTimeout: budgetLeftMs,
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: retryPolicy(config),
    summary: 'Await accepted MTF run',
  };
}
