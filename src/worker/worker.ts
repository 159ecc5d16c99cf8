/** Builds the worker; `main.ts` feeds it from the environment, tests from their own servers. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { ENCODED_FAILURE_CONVERTER_PATH } from '../codec/encryption';
import type { MtfActivities } from '../shared/mtf';

/** Built by `npm run build` (src/worker/build-bundle.ts): production workers load it instead of bundling at start. */
export const PREBUILT_BUNDLE = join(__dirname, '..', '..', 'workflow-bundle.js');
/** The same workflow code with the encrypted loops' failure converter compiled in (see {@link workflowSource}). */
export const PREBUILT_ENCODED_FAILURES_BUNDLE = join(__dirname, '..', '..', 'workflow-bundle-encoded-failures.js');

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
  /** Payload encryption (src/codec/encryption.ts); none by default. */
  dataConverter?: DataConverter;
}

/**
 * The workflow's own failures are converted inside the workflow bundle, by the failure converter
 * compiled into it; the worker's `dataConverter` only reaches activities. So a data converter with
 * a failure converter needs a bundle built with that converter: the prebuilt one for ours, else
 * the SDK bundles the code at start with `dataConverter.failureConverterPath`.
 */
export function workflowSource(dataConverter?: DataConverter): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const failureConverterPath = dataConverter?.failureConverterPath;
  const prebuilt =
    failureConverterPath === undefined
      ? PREBUILT_BUNDLE
      : failureConverterPath === ENCODED_FAILURE_CONVERTER_PATH
        ? PREBUILT_ENCODED_FAILURES_BUNDLE
        : null;
  if (prebuilt && existsSync(prebuilt)) return { workflowBundle: { codePath: prebuilt } };
  return { workflowsPath: require.resolve('../workflows') };
}

export function createMtfWorker(options: MtfWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    identity: options.identity,
    activities: options.activities,
    ...(options.workflows ?? workflowSource(options.dataConverter)),
    ...(options.dataConverter && { dataConverter: options.dataConverter }),
    shutdownGraceTime: options.shutdownGraceTimeMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
    ...(options.stickyQueueScheduleToStartTimeoutMs !== undefined && {
      stickyQueueScheduleToStartTimeout: options.stickyQueueScheduleToStartTimeoutMs,
    }),
  });
}
