/**
 * A deliberately incompatible change to the loop, for the negative replay test: a timer before
 * the first MTF call, as a careless edit of the workflow might add. Replaying a recorded history
 * against it must fail with a non-determinism error.
 */
import * as wf from '@temporalio/workflow';
import { MtfPingPongWorkflow as current } from '../../src/workflows/mtf-ping-pong';

export async function MtfPingPongWorkflow(...args: Parameters<typeof current>): ReturnType<typeof current> {
  await wf.sleep(1_000); // a workflow timer (replayed, never waited on by a test)
  return current(...args);
}
