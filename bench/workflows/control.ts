/**
 * The floor: per cycle the same `callMtfRun` activity as ours (same options, same request) and one
 * timer, nothing else: no state, no handlers, no metrics, no continue-as-new.
 */
import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { MtfActivities } from '../../src/shared/mtf';
import { callOptions } from '../../src/workflows/policy';
import { benchConfig, callInput, type BenchLoopInput } from './common';

export async function BenchControlWorkflow(input: BenchLoopInput): Promise<never> {
  const config = benchConfig(input);
  const loop = workflowInfo();
  const activities = proxyActivities<MtfActivities>(callOptions(config, config.max_execution_time * 1000));
  for (let iteration = 1; ; iteration++) {
    try {
      await activities.callMtfRun(callInput(config, loop, iteration));
    } catch {
      // A failed call is still a cycle; the bench runs on a fault-free simulator anyway.
    }
    await sleep(config.ping_interval * 1000);
  }
}
