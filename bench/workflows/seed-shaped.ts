/**
 * The original (seed) design, as its spec lists the cycle: call, status check, notify, wait for a
 * continue condition, pause. Three activities, a condition with its own timer, and a pause timer
 * per cycle. The seed waits for `continue_signal` after each cycle; in the bench nobody sends it, so
 * the wait is bounded by 1 ms, which costs what the seed's wait costs at the least: one timer.
 */
import { condition, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import { continueSignal } from '../../src/shared/messages';
import type { MtfActivities } from '../../src/shared/mtf';
import { callOptions } from '../../src/workflows/policy';
import { benchConfig, callInput, type BenchLoopInput } from './common';

export interface SeedActivities {
  checkMtfStatus(input: { run_id: string | null }): Promise<{ status: string }>;
  notifyCycleFinished(input: { iteration: number; status: string }): Promise<void>;
}

export async function BenchSeedShapedWorkflow(input: BenchLoopInput): Promise<never> {
  const config = benchConfig(input);
  const loop = workflowInfo();
  let continueRequested = false;
  setHandler(continueSignal, () => {
    continueRequested = true;
  });
  const mtf = proxyActivities<MtfActivities>(callOptions(config, config.max_execution_time * 1000));
  const seed = proxyActivities<SeedActivities>({
    startToCloseTimeout: config.activity_timeout * 1000,
    retry: { maximumAttempts: config.max_attempts },
  });
  for (let iteration = 1; ; iteration++) {
    let status = 'failed';
    try {
      const result = await mtf.callMtfRun(callInput(config, loop, iteration));
      const runId = result.kind === 'completed' ? result.report.run_id : result.run_id;
      ({ status } = await seed.checkMtfStatus({ run_id: runId }));
    } catch {
      // As in the seed: log and go on to the next cycle.
    }
    await seed.notifyCycleFinished({ iteration, status });
    await condition(() => continueRequested, 1);
    continueRequested = false;
    await sleep(config.ping_interval * 1000);
  }
}
