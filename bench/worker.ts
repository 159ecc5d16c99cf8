/**
 * One bench worker, in a process of its own (forked by run.ts with an IPC channel), so its CPU time
 * and RSS are its own: `process.cpuUsage()` counts every thread of the process (the SDK's Rust core,
 * the workflow thread), not just JavaScript. It runs the same worker as production
 * (`createMtfWorker`, SDK defaults for caching and V8 context reuse) on the bundle it is given.
 *
 * Environment: BENCH_ADDRESS, BENCH_NAMESPACE, BENCH_TASK_QUEUE, BENCH_BUNDLE (a workflow bundle file).
 * Messages to the parent: ready (ms since the process started), stats; from it: stats, shutdown.
 */
import { performance } from 'node:perf_hooks';
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { createMtfWorker } from '../src/worker/worker';
import { createBenchActivities } from './activities';

export type ToWorker = { type: 'stats' } | { type: 'shutdown' };
export interface WorkerStats {
  type: 'stats';
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
  heapUsedBytes: number;
  heartbeatCalls: number;
}
export type FromWorker =
  | { type: 'ready'; sinceProcessStartMs: number; createMs: number; settings: Record<string, unknown> }
  | WorkerStats
  | { type: 'failed'; message: string };

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

function send(message: FromWorker): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
  });
  const bench = createBenchActivities();
  const connectAt = performance.now();
  const connection = await NativeConnection.connect({ address: required('BENCH_ADDRESS') });
  const worker = await createMtfWorker({
    connection,
    namespace: process.env.BENCH_NAMESPACE ?? 'default',
    taskQueue: required('BENCH_TASK_QUEUE'),
    identity: `bench-worker-${process.pid}`,
    activities: bench.activities,
    workflows: { workflowBundle: { codePath: required('BENCH_BUNDLE') } },
    // The bench ends its loops before its workers: nothing for a long grace time to wait for.
    shutdownGraceTimeMs: 1_000,
  });
  const createdAt = performance.now();
  process.on('message', (message: ToWorker) => {
    if (message.type === 'shutdown') worker.shutdown();
    else if (message.type === 'stats') {
      const cpu = process.cpuUsage();
      const mem = process.memoryUsage();
      send({
        type: 'stats',
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        heartbeatCalls: bench.heartbeatCalls(),
      });
    }
  });
  const {
    maxCachedWorkflows,
    reuseV8Context,
    maxConcurrentWorkflowTaskExecutions,
    maxConcurrentActivityTaskExecutions,
    workflowThreadPoolSize,
  } = worker.options;
  const running = worker.run();
  // performance.now() counts from the process's start: the time to ready includes Node's and the SDK's loading.
  send({
    type: 'ready',
    sinceProcessStartMs: Math.round(createdAt),
    createMs: Math.round(createdAt - connectAt),
    settings: {
      maxCachedWorkflows,
      reuseV8Context,
      maxConcurrentWorkflowTaskExecutions,
      maxConcurrentActivityTaskExecutions,
      workflowThreadPoolSize,
    },
  });
  await running;
  await connection.close();
  process.disconnect?.();
}

main().catch((err: unknown) => {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
  process.disconnect?.();
});
