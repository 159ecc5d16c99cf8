/**
 * The processes `npm start` runs beside the loop, and how they stop: a Temporal dev server reused
 * when one answers, else started (`temporal server start-dev`, in its own process group) and
 * stopped with SIGTERM, then SIGKILL; and the stack of what has been started (dev server,
 * simulator, worker, dashboard), taken down in order on Ctrl-C, SIGTERM, a failure or the loop's end.
 *
 * Nothing runs at import time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { connectClient, type TemporalTarget } from '../client/connection';
import type { Dashboard } from '../dashboard/server';
import { messageOf } from '../lib/errors';
import { isLoopback, urlHost } from '../lib/hosts';
import { searchAttributeSpecs } from '../shared/search-attributes';
import type { Simulator } from '../simulator/server';
import { projectRoot, temporalCliPath } from '../toolchain/binaries';
import type { RunningWorker } from '../worker/main';
import { say, warn } from './output';

/** A server that answers at all answers within this; a silent port is not worth waiting longer for. */
const PROBE_TIMEOUT_MS = 2_000;
/** A fresh start-dev with an empty SQLite file is ready in a few seconds; 30 s covers a slow disk. */
const SERVER_READY_TIMEOUT_MS = 30_000;
const SERVER_READY_RETRY_MS = 500;
/** start-dev flushes SQLite on SIGTERM; after this it gets SIGKILL so Ctrl-C never hangs. */
const SERVER_STOP_TIMEOUT_MS = 10_000;

/** Resolves true if `promise` settles within `ms`, false otherwise; never leaves a timer behind. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Temporal: reuse a server that answers, or start (and later stop) a dev server.

interface HostPort {
  host: string;
  port: number;
}

/** `host:port` or `[v6]:port`; null when there is no usable port. */
function parseAddress(address: string): HostPort | null {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return null;
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return null;
  return { host, port };
}

/**
 * True when a Temporal frontend answers at the target. With `namespaceReady`, also its namespace:
 * a fresh dev server accepts connections a moment before it has registered `default`.
 */
async function temporalAnswers(target: TemporalTarget, namespaceReady = false): Promise<boolean> {
  let client: Client | undefined;
  try {
    client = await connectClient(target, PROBE_TIMEOUT_MS);
    if (namespaceReady) {
      const open = client;
      await open.connection.withDeadline(Date.now() + PROBE_TIMEOUT_MS, () =>
        open.workflowService.describeNamespace({ namespace: target.namespace }),
      );
    }
    return true;
  } catch {
    return false;
  } finally {
    await client?.connection.close().catch(() => undefined);
  }
}

/** Whether anything at all accepts TCP connections there (to tell "free" from "taken by something else"). */
function portIsOpen({ host, port }: HostPort, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const finish = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

export interface DevServer {
  child: ChildProcess;
  pid: number;
  logPath: string;
  uiUrl: string;
  hasExited(): boolean;
  /** Resolves when the process has exited (or could not be started). */
  exited: Promise<void>;
}

/**
 * Starts `temporal server start-dev` in its own process group (detached), so Ctrl-C in the terminal
 * reaches only this process, which then stops things in order: worker first, server last.
 */
export function spawnDevServer(dataDir: string, { host, port }: HostPort): DevServer {
  // Found (or refused with its one line) before anything is written: an installed package without
  // a `temporal` CLI must not leave a data folder behind.
  const cli = temporalCliPath();
  mkdirSync(dataDir, { recursive: true });
  const logPath = join(dataDir, 'temporal-server.log');
  const uiPort = port + 1000; // start-dev's own convention: 7233 -> 8233
  const args = [
    'server',
    'start-dev',
    '--ip',
    host,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    join(dataDir, 'temporal.db'),
    '--log-level',
    'error',
    // The loop's search attributes, so loops are filterable in the Web UI and `temporal workflow list`.
    ...searchAttributeSpecs().flatMap((spec) => ['--search-attribute', spec]),
  ];
  const log = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cli, args, { detached: true, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log); // the child holds its own copy
  }
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    const done = (): void => {
      exited = true;
      resolve();
    };
    child.once('exit', done);
    child.once('error', done); // e.g. not executable: treated as "exited at once"
  });
  if (child.pid === undefined) throw new Error(`could not start ${cli}`);
  return {
    child,
    pid: child.pid,
    logPath,
    uiUrl: `http://${urlHost(host)}:${uiPort}`,
    hasExited: () => exited || child.exitCode !== null || child.signalCode !== null,
    exited: exitedPromise,
  };
}

/** Polls until the new server serves its namespace, it exits, or the bound runs out. */
export async function waitUntilReady(server: DevServer, target: TemporalTarget): Promise<boolean> {
  const deadline = Date.now() + SERVER_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.hasExited()) return false;
    if (await temporalAnswers(target, true)) return true;
    await delay(SERVER_READY_RETRY_MS);
  }
  return false;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** SIGTERM to the server's process group, SIGKILL if it has not exited in time. */
export async function stopDevServer(server: DevServer): Promise<void> {
  if (server.hasExited()) return;
  signalGroup(server.pid, 'SIGTERM');
  if (await settlesWithin(server.exited, SERVER_STOP_TIMEOUT_MS)) return;
  say(`the Temporal server did not stop within ${SERVER_STOP_TIMEOUT_MS / 1000} s; killing it`);
  signalGroup(server.pid, 'SIGKILL');
  await settlesWithin(server.exited, SERVER_STOP_TIMEOUT_MS);
}

/** Exits with one line when no usable server can be had; returns the server it started, or null. */
export async function ensureTemporal(stack: DevStack, address: string, target: TemporalTarget): Promise<DevServer | null> {
  if (await temporalAnswers(target)) return null;
  const hostPort = parseAddress(address);
  if (hostPort && (await portIsOpen(hostPort))) {
    return stack.fail(
      `${address} is in use by something that is not a Temporal server: stop it, or set TEMPORAL_ADDRESS to a Temporal server`,
    );
  }
  if (!hostPort || !isLoopback(hostPort.host)) {
    return stack.fail(`no Temporal server answers at ${address} (TEMPORAL_ADDRESS), and only a local one can be started here`);
  }
  // MTF_DATA_DIR moves the server's database (the npm start smoke test uses a fresh one).
  const dataDir = process.env.MTF_DATA_DIR || join(projectRoot(), '.data');
  const server = spawnDevServer(dataDir, hostPort);
  stack.server = server;
  say(`starting a Temporal dev server on ${address} (state in ${relative(process.cwd(), join(dataDir, 'temporal.db'))})...`);
  if (!(await waitUntilReady(server, target))) {
    const why = server.hasExited() ? 'exited' : `did not answer within ${SERVER_READY_TIMEOUT_MS / 1000} s`;
    return stack.fail(`the Temporal dev server ${why}; see ${server.logPath}`);
  }
  return server;
}

// ---------------------------------------------------------------------------------------------
// The stack: what has been started, and how to take it down in order.

export class DevStack {
  server: DevServer | null = null;
  simulator: Simulator | null = null;
  worker: RunningWorker | null = null;
  dashboard: Dashboard | null = null;
  stopFollowing: (() => void) | null = null;
  private stopping: Promise<never> | null = null;

  get isStopping(): boolean {
    return this.stopping !== null;
  }

  /** One line, then a clean stop with exit code 1. */
  fail(line: string): Promise<never> {
    warn(`npm start: ${line}`);
    return this.stop(1);
  }

  /**
   * Worker first (it finishes a running MTF call), then the simulator it was calling, then the
   * server it was talking to. Idempotent: a second caller gets the same promise.
   */
  stop(exitCode: number): Promise<never> {
    this.stopping ??= this.stopInOrder(exitCode);
    return this.stopping;
  }

  private async stopInOrder(exitCode: number): Promise<never> {
    this.stopFollowing?.();
    await this.dashboard?.close();
    if (this.worker) {
      const { worker, done } = this.worker;
      // The Runtime's own signal handler may already have asked it to shut down.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done.catch((err: unknown) => warn(`npm start: the worker stopped with an error: ${messageOf(err)}`));
    }
    // The client's connection is left to process.exit: closing it under the loop-result long poll
    // makes a grpc retry timer throw "Channel has been shut down".
    await this.simulator?.close();
    if (this.server) {
      await stopDevServer(this.server);
      say('Temporal dev server stopped; the loop resumes where it was on the next npm start');
    }
    process.exit(exitCode);
  }

  /** Last resort on process exit (a crash, a second Ctrl-C): never leave a detached server behind. */
  killServerNow(): void {
    if (this.server && !this.server.hasExited()) signalGroup(this.server.pid, 'SIGTERM');
  }
}

export function handleSignals(stack: DevStack): void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received === 1) {
      say(`\n${signal}: stopping (the loop keeps its state; Ctrl-C again to force)`);
      void stack.stop(0);
      return;
    }
    say('forced exit');
    process.exit(130); // the 'exit' hook still stops the server
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => stack.killServerNow());
}

/** A worker that stops on its own (a fatal error, SIGQUIT) leaves nothing to run the loop: stop it all. */
export function watchWorker(stack: DevStack, { done }: RunningWorker): void {
  done.then(
    () => {
      if (stack.isStopping) return;
      warn('npm start: the worker stopped');
      void stack.stop(1);
    },
    (err: unknown) => {
      if (stack.isStopping) return; // stopInOrder reports it
      warn(`npm start: the worker failed: ${messageOf(err)}`);
      void stack.stop(1);
    },
  );
}
