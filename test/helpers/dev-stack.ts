/**
 * "A dev server with the simulator", the setup most files under test/server/ share: a real
 * `temporal server start-dev` (createDevServerEnv) and the MTF simulator, started together before
 * the file's tests and closed together after them.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { createDevServerEnv } from './temporal';

export interface DevStackOptions {
  /** How the dev server starts (createDevServerEnv's options: search attributes, extra `start-dev` arguments). */
  server?: Parameters<typeof createDevServerEnv>[0];
  /** How the simulator starts (startSimulator's options: its first behaviour). */
  simulator?: Parameters<typeof startSimulator>[0];
  /**
   * Runs in the same `before` hook once both are up: what the file starts on them (a worker, a TLS
   * front, loops). Not a hook of its own: Node 20 runs a file's top-level `before` hooks side by
   * side, so a second one would not wait for the stack.
   */
  started?: (stack: DevStack) => unknown;
  /**
   * Runs after the file's last test, before the two close: what still talks to them (worker
   * processes, CLIs, loops, a TLS front) ends first. The servers close even when it throws.
   */
  beforeClose?: () => unknown;
}

export interface DevStack {
  /** The dev server (its client, address and namespace), from the file's `before` hook on. */
  readonly env: TestWorkflowEnvironment;
  /** The simulator, from the file's `before` hook on. */
  readonly sim: Simulator;
}

/** Both at once; when one fails to start, the other is closed before the failure is thrown. */
export async function startDevStack(
  options: Pick<DevStackOptions, 'server' | 'simulator'> = {},
): Promise<DevStack & { close(): Promise<void> }> {
  const [server, simulator] = await Promise.allSettled([createDevServerEnv(options.server), startSimulator(options.simulator)]);
  if (server.status === 'rejected' || simulator.status === 'rejected') {
    await Promise.all([
      server.status === 'fulfilled' && server.value.teardown(),
      simulator.status === 'fulfilled' && simulator.value.close(),
    ]);
    const reason: unknown = server.status === 'rejected' ? server.reason : simulator.status === 'rejected' && simulator.reason;
    throw reason instanceof Error ? reason : new Error(String(reason));
  }
  const [env, sim] = [server.value, simulator.value];
  return { env, sim, close: async () => void (await Promise.all([env.teardown(), sim.close()])) };
}

/**
 * Registers the `before` and `after` hooks of the current file (or `describe`) that start and close
 * a dev stack, and answers its `env` and `sim`: read them in tests, in `started` and `beforeClose`, and in `after` hooks.
 */
export function useDevStack(options: DevStackOptions = {}): DevStack {
  let stack: Awaited<ReturnType<typeof startDevStack>> | undefined;
  before(async () => {
    stack = await startDevStack(options);
    await options.started?.(stack);
  });
  after(async () => {
    try {
      await options.beforeClose?.();
    } finally {
      await stack?.close();
    }
  });
  const started = (): DevStack => stack ?? assert.fail('the dev stack is read before its before hook started it (or it failed to start)');
  return {
    get env() {
      return started().env;
    },
    get sim() {
      return started().sim;
    },
  };
}
