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

/**
 * Our loop's request, with our Idempotency-Key `<workflow id>/<first run id>/<iteration>` (the bench
 * counts requests by the workflow ID; the activity derives the X-Run-Id from the rest).
 */
export function callInput(
  config: LoopConfig,
  loop: { workflowId: string; firstExecutionRunId: string },
  iteration: number,
): CallMtfRunInput {
  return {
    iteration,
    url: config.mtf_url,
    body: runRequestBody(config),
    status_url_template: statusUrlTemplate(config),
    idempotency_key: `${loop.workflowId}/${loop.firstExecutionRunId}/${iteration}`,
    send_once: false,
    connect_attempts: config.max_attempts,
    connect_backoff: { initial: config.retry_initial_interval, coefficient: config.retry_backoff, maximum: config.retry_max_interval },
  };
}
