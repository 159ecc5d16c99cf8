/**
 * A stand-in for a release before pause and resume: a loop of the same type that runs until it is
 * ended and has no handler for either Update, so its worker refuses them (the CLI must say so).
 */
import { condition } from '@temporalio/workflow';

export async function MtfPingPongWorkflow(): Promise<void> {
  await condition(() => false);
}
