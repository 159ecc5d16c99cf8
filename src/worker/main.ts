/**
 * The worker process (what a container runs). Reads its settings from the environment:
 * TEMPORAL_ADDRESS (default localhost:7233; `temporal:7233` in Compose), TEMPORAL_NAMESPACE
 * (default), TASK_QUEUE_NAME (mtf-ping-pong-queue), WORKER_IDENTITY (mtf-ping-pong-worker),
 * TLS / API key through envconfig, and MTF_API_TOKEN, the trading app's token, which only this
 * process ever holds. SIGINT / SIGTERM shut it down gracefully.
 */
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { temporalTarget, type TemporalTarget } from '../client/connection';
import { createMtfWorker } from './worker';

export const DEFAULT_IDENTITY = 'mtf-ping-pong-worker';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has shut down. */
  done: Promise<void>;
  connection: NativeConnection;
}

export async function startWorker(target: TemporalTarget = temporalTarget(), env: NodeJS.ProcessEnv = process.env): Promise<RunningWorker> {
  const connection = await NativeConnection.connect(target.connectionOptions);
  const worker = await createMtfWorker({
    connection,
    namespace: target.namespace,
    taskQueue: target.taskQueue,
    identity: env.WORKER_IDENTITY || DEFAULT_IDENTITY,
    activities: createActivities({ token: env.MTF_API_TOKEN || null }),
  });
  const log = Runtime.instance().logger;
  log.info('worker started', { namespace: target.namespace, task_queue: target.taskQueue, identity: worker.options.identity });
  const done = worker.run().finally(async () => {
    log.info('worker stopped', { task_queue: target.taskQueue });
    await connection.close();
  });
  return { worker, done, connection };
}

if (require.main === module) {
  startWorker()
    .then(({ done }) => done)
    .catch((err: unknown) => {
      console.error(`worker: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
