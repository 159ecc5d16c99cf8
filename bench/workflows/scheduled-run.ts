/**
 * The app team's design: a Schedule starts this one-shot workflow on each beat; it makes one MTF
 * POST (the same `callMtfRun`, options and request as ours) and ends. Its Idempotency-Key is
 * `<schedule>/<this workflow's ID>/1`: the Schedule appends the beat it was started for to the
 * workflow ID, so the bench reads each request's intended time from the request itself.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { MtfActivities } from '../../src/shared/mtf';
import { callOptions } from '../../src/workflows/policy';
import { benchConfig, callInput, type BenchLoopInput } from './common';

export interface ScheduledRunInput extends BenchLoopInput {
  /** The Schedule's ID: the prefix of every request it causes. */
  schedule: string;
}

export async function BenchScheduledRunWorkflow(input: ScheduledRunInput): Promise<void> {
  const config = benchConfig(input);
  const activities = proxyActivities<MtfActivities>(callOptions(config, config.max_execution_time * 1000));
  await activities.callMtfRun(callInput(config, { workflowId: input.schedule, firstExecutionRunId: workflowInfo().workflowId }, 1));
}
