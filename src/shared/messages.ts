/**
 * The names on the wire, written once. They match the original Python service, so its client and
 * the stock `temporal` CLI drive this worker unchanged.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ConfigPatch, LoopConfig } from './config';
import type { LoopStatus } from './status';

export const WORKFLOW_TYPE = 'MtfPingPongWorkflow';
/** Runs the health-check activity once on a worker (`mtf-ping-pong health`). */
export const HEALTH_CHECK_WORKFLOW_TYPE = 'MtfHealthCheckWorkflow';
export const DEFAULT_TASK_QUEUE = 'mtf-ping-pong-queue';
/** A loop started without an ID gets this one, so a second start is refused instead of doubling the runs. */
export const DEFAULT_WORKFLOW_ID = 'mtf-ping-pong';

/** Starts the next cycle: the gate in `signal` mode, a shortcut through the pause in `auto` mode. */
export const continueSignal = defineSignal<[]>('continue_signal');
/** Graceful stop: the running cycle finishes and is recorded, then the workflow completes. */
export const stopSignal = defineSignal<[StopRequest?]>('stop_signal');
/** For apps that call back: completes the accepted run with this MTF run id. */
export const mtfCompletedSignal = defineSignal<[MtfCompletedNotice]>('mtf_completed');
export const getStatusQuery = defineQuery<LoopStatus>('get_status');
/**
 * Changes a running loop's config. Its validator checks the result with the config schema, so a
 * rejected update changes nothing and leaves no event in history; an accepted one applies from
 * the next cycle and returns the config that will be in force.
 */
export const updateConfigUpdate = defineUpdate<LoopConfig, [ConfigPatch]>('update_config');
/**
 * Holds the loop: an Update, not a signal, so a worker without the handler refuses it instead of
 * buffering it silently while the loop keeps trading. Answers "paused", or "pauses after iteration
 * N" when a cycle runs (it is recorded first). While paused the loop sends nothing and keeps no timer.
 */
export const pauseUpdate = defineUpdate<string, [PauseRequest | undefined]>('pause');
/** Ends a pause (refused when there is none); answers when the next cycle starts. */
export const resumeUpdate = defineUpdate<string, []>('resume');

/** `stop_signal` takes nothing, a reason string, or `{ reason }`. */
export type StopRequest = string | { reason?: string } | null;
/** `pause` takes the same. */
export type PauseRequest = StopRequest;

/** `mtf_completed` takes the run id, or `{ run_id, status?, message? }` as the run-status route answers. */
export type MtfCompletedNotice = string | { run_id: string; status?: string; message?: string };
