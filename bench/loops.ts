/** What every stage shares: the bench's server and client, loop IDs, starting and ending loops. */
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startLoop } from '../src/client/loops';
import type { Plan } from './plan';
import { mapLimit } from './tools';
import type { BenchLoopInput } from './workflows/common';

export const HOST = '127.0.0.1';
export const BENCH_PING_INTERVAL_S = 1;

export type Kind = 'ours auto' | 'ours signal' | 'control' | 'seed-shaped';

export interface Bench {
  plan: Plan;
  env: TestWorkflowEnvironment;
  client: Client;
  address: string;
  bundle: string;
  runId: string;
}

let idCounter = 0;
export function loopId(bench: Bench, stage: string, kind: string): string {
  return `bench-${bench.runId}-${stage}-${kind.replace(/\s+/g, '-')}-${++idCounter}`;
}

export async function startKind(
  bench: Bench,
  kind: Kind,
  taskQueue: string,
  workflowId: string,
  mtfUrl: string,
  intervalS: number,
): Promise<void> {
  if (kind === 'ours auto' || kind === 'ours signal') {
    // Our loop as a user starts it (src/client/loops.ts), with its search attributes registered.
    const config = {
      mtf_url: mtfUrl,
      ping_interval: intervalS,
      max_cycles_per_run: 10_000,
      continue_mode: kind === 'ours auto' ? 'auto' : 'signal',
    };
    await startLoop(bench.client, { taskQueue, workflowId, config });
    return;
  }
  const input: BenchLoopInput = { mtf_url: mtfUrl, ping_interval: intervalS };
  await bench.client.workflow.start(kind === 'control' ? 'BenchControlWorkflow' : 'BenchSeedShapedWorkflow', {
    taskQueue,
    workflowId,
    args: [input],
  });
}

export async function terminateAll(client: Client, ids: readonly string[]): Promise<void> {
  await mapLimit(ids, 50, (id) =>
    client.workflow
      .getHandle(id)
      .terminate('bench stage over')
      .catch(() => undefined),
  );
}

export async function histories(client: Client, ids: readonly string[]) {
  return mapLimit(ids, 25, async (id) => (await client.workflow.getHandle(id).fetchHistory()).events ?? []);
}
