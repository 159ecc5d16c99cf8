/**
 * The worker's workflows plus a stand-in for a later release: `NewerReleaseLoop` hands its input,
 * as it is, to a continued run of the loop, so a worker of this release runs a continued run whose
 * config and carried state hold keys it does not know (a rolling upgrade, or a rollback).
 */
import { makeContinueAsNewFunc } from '@temporalio/workflow';
import { WORKFLOW_TYPE } from '../../src/shared/messages';

export * from '../../src/workflows';

export async function NewerReleaseLoop(input: Record<string, unknown>): Promise<never> {
  return makeContinueAsNewFunc({ workflowType: WORKFLOW_TYPE })(input);
}
