/** Temporal servers for the tests, from the project's own pinned binaries. */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { temporalCliPath, testServerPath } from '../../src/toolchain/binaries';

let runtimeInstalled = false;
/** Once per process: keep the SDK's own logs to warnings so the runner's report stays readable. */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.TEST_LOG_LEVEL as 'WARN' | 'ERROR' | undefined) ?? 'ERROR';
  Runtime.install({
    logger: new DefaultLogger(level),
    // The SDK core logs too (e.g. a replay's expected non-determinism): same level, same logger.
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level }), forward: {} } },
  });
}

export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
}

/**
 * A real `temporal server start-dev` on a free loopback port, in memory, with the loop's search
 * attributes registered (as `npm start` registers them) unless a test needs a namespace without.
 * `extraArgs` go to `start-dev` as they are (e.g. `--dynamic-config-value`).
 */
export function createDevServerEnv(options: { searchAttributes?: boolean; extraArgs?: string[] } = {}): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      ip: '127.0.0.1',
      log: { format: 'pretty', level: 'error' },
      searchAttributes: options.searchAttributes === false ? [] : [...SEARCH_ATTRIBUTES],
      ...(options.extraArgs && { extraArgs: options.extraArgs }),
    },
  });
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A loop's "Current Details" as the Temporal UI reads them: the SDK's built-in metadata query. */
export async function currentDetails(client: Client, workflowId: string): Promise<string> {
  const metadata = await client.workflow.getHandle(workflowId).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}
