/**
 * One call of the health-check activity, so `mtf-ping-pong health` checks the app from where the
 * worker runs (its network, its token), not from where the CLI runs.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { HealthCheckInput, HealthCheckResult, MtfActivities } from '../shared/mtf';

const { health_check_activity } = proxyActivities<MtfActivities>({
  startToCloseTimeout: 15_000,
  retry: { maximumAttempts: 1 },
  summary: "GET the app's health",
});

export async function MtfHealthCheckWorkflow(input: HealthCheckInput): Promise<HealthCheckResult> {
  return health_check_activity(input);
}
