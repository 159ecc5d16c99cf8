/**
 * What the two reference loops share with ours: the same config schema (so the same defaults),
 * the same activity options and the same request, so the only difference the bench measures is
 * the shape of the loop around the call.
 */
import { parseLoopConfig, statusUrlTemplate, type LoopConfig } from '../../src/shared/config';
import { runRequestBody, type CallMtfRunInput } from '../../src/shared/mtf';

/** A reference loop's input: the two keys the bench varies; everything else is our defaults. */
export interface BenchLoopInput {
  mtf_url: string;
  ping_interval: number;
}

export function benchConfig(input: BenchLoopInput): LoopConfig {
  return parseLoopConfig({ mtf_url: input.mtf_url, ping_interval: input.ping_interval });
}

/** Our loop's request, with an Idempotency-Key that starts with the workflow ID (the bench counts requests by it). */
export function callInput(config: LoopConfig, workflowId: string, iteration: number): CallMtfRunInput {
  return {
    iteration,
    url: config.mtf_url,
    body: runRequestBody(config),
    status_url_template: statusUrlTemplate(config),
    idempotency_key: `${workflowId}/${iteration}`,
    send_once: false,
    connect_attempts: config.max_attempts,
    connect_backoff: { initial: config.retry_initial_interval, coefficient: config.retry_backoff, maximum: config.retry_max_interval },
  };
}
