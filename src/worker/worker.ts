/** Builds the worker; `main.ts` feeds it from the environment, tests from their own servers. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { MtfActivities } from '../shared/mtf';

/** Built by `npm run build` (src/worker/build-bundle.ts): production workers load it instead of bundling at start. */
export const PREBUILT_BUNDLE = join(__dirname, '..', '..', 'workflow-bundle.js');

/**
 * At least the default activity timeout (120 s) plus a margin, so a deploy lets a running MTF
 * call finish instead of cutting it in half. Compose and Kubernetes must wait longer than this.
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 130_000;

export interface MtfWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  identity: string;
  activities: MtfActivities;
  /** The workflow code: a prebuilt bundle when there is one, else bundled from source at start. */
  workflows?: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>;
  shutdownGraceTimeMs?: number;
  /** Tests shorten it, so a replaced worker picks up a loop at once. */
  stickyQueueScheduleToStartTimeoutMs?: number;
}

export function workflowSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (existsSync(PREBUILT_BUNDLE)) return { workflowBundle: { codePath: PREBUILT_BUNDLE } };
  return { workflowsPath: require.resolve('../workflows') };
}

export function createMtfWorker(options: MtfWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    identity: options.identity,
    activities: options.activities,
    ...(options.workflows ?? workflowSource()),
    shutdownGraceTime: options.shutdownGraceTimeMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
    ...(options.stickyQueueScheduleToStartTimeoutMs !== undefined && {
      stickyQueueScheduleToStartTimeout: options.stickyQueueScheduleToStartTimeoutMs,
    }),
  });
}
