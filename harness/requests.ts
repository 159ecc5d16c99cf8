/** What a loop sent the simulator, for the bench and the tests alike (harness/ imports neither test/ nor bench/). */
import type { Simulator } from '../src/simulator/server';

/** The run requests a loop sent: every loop's Idempotency-Key starts with its workflow ID. */
export function requestsOf(sim: Simulator, workflowId: string) {
  return sim.runRequests().filter((r) => r.idempotency_key?.startsWith(`${workflowId}/`));
}
