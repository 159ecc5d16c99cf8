/**
 * `npm start`: the whole stack on one machine, for a first look. It reuses a Temporal server that
 * already answers (TEMPORAL_ADDRESS, default 127.0.0.1:7233) or starts `temporal server start-dev`
 * with its state in .data/temporal.db; starts the MTF simulator (unless MTF_URL names a real app),
 * the worker in this process, the dashboard, and the loop `mtf-ping-pong` in dry-run mode (or
 * attaches to it when it already runs), then prints one line per finished cycle.
 *
 * Ctrl-C (SIGINT) or SIGTERM stops the worker, the simulator and the server it started, in that
 * order. The loop itself is not stopped: its state lives in the SQLite file, so the next `npm start`
 * resumes the same loop with the same counters. The worker's logs go to stderr (LOG_LEVEL, default
 * warn), its metrics and probes to METRICS_ADDRESS / HEALTH_ADDRESS, the dashboard to
 * DASHBOARD_ADDRESS; the embedded server registers the loop's search attributes.
 *
 * Nothing runs at import time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join, relative } from 'node:path';
import type { Client } from '@temporalio/client';
import { connectClient, temporalTarget, type TemporalTarget } from '../client/connection';
import { DEFAULT_DASHBOARD_ADDRESS, dashboardAddress, startDashboard, type Dashboard } from '../dashboard/server';
import { LoopAlreadyRunningError, awaitLoopEnd, loopStatus, startLoop, updateLoop } from '../client/loops';
import { messageOf } from '../lib/errors';
import { isLoopback, urlHost } from '../lib/hosts';
import { DEFAULT_WORKFLOW_ID } from '../shared/messages';
import { cadenceText } from '../shared/cadence';
import { searchAttributeSpecs } from '../shared/search-attributes';
import type { LoopStatus, LoopSummary } from '../shared/status';
import { DEMO_LINEAGE_DELAY, startSimulator, type Simulator } from '../simulator/server';
import { projectRoot, temporalCliPath } from '../toolchain/binaries';
import { setUpWorkerProcess, startWorker, type RunningWorker } from '../worker/main';
import { parseResolvedConfig, resolveStartConfig } from './config-env';
import { countersLine, cycleLine } from './format';
import { lateTrades } from './follow';

const DEFAULT_DEV_ADDRESS = '127.0.0.1:7233';
const DEFAULT_SIMULATOR_PORT = 8088;
const SIMULATOR_HOST = '127.0.0.1';
/** A server that answers at all answers within this; a silent port is not worth waiting longer for. */
const PROBE_TIMEOUT_MS = 2_000;
/** A fresh start-dev with an empty SQLite file is ready in a few seconds; 30 s covers a slow disk. */
const SERVER_READY_TIMEOUT_MS = 30_000;
const SERVER_READY_RETRY_MS = 500;
/** start-dev flushes SQLite on SIGTERM; after this it gets SIGKILL so Ctrl-C never hangs. */
const SERVER_STOP_TIMEOUT_MS = 10_000;
const STATUS_POLL_MS = 1_000;
/** Queries fail for a moment after a restart (the old worker's sticky queue); only a lasting failure is worth a line. */
const QUERY_FAILURES_BEFORE_NOTICE = 10;
const LOOP_ID = DEFAULT_WORKFLOW_ID;

function say(line: string): void {
  console.log(line);
}

/** Resolves true if `promise` settles within `ms`, false otherwise; never leaves a timer behind. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
    'server', 'start-dev',
    '--ip', host,
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--db-filename', join(dataDir, 'temporal.db'),
    '--log-level', 'error',
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
async function ensureTemporal(stack: DevStack, address: string, target: TemporalTarget): Promise<DevServer | null> {
  if (await temporalAnswers(target)) return null;
  const hostPort = parseAddress(address);
  if (hostPort && (await portIsOpen(hostPort))) {
    return stack.fail(`${address} is in use by something that is not a Temporal server: stop it, or set TEMPORAL_ADDRESS to a Temporal server`);
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
// The MTF side: the simulator, unless MTF_URL names a real app.

interface SimulatorSettings {
  port: number;
  throwShare: number;
  lineageDelay: number;
}

/**
 * The simulator's settings from the environment, checked before anything starts: MTF_SIMULATOR_PORT
 * (default 8088), MTF_SIMULATOR_THROW_SHARE, the share of contracts that throw (default 0), and
 * MTF_SIMULATOR_LINEAGE_DELAY, the seconds until the lineage API lists a run's trades (default 1).
 */
function simulatorSettings(env: NodeJS.ProcessEnv): SimulatorSettings {
  const text = (raw: string | undefined) => (raw === undefined || raw.trim() === '' ? null : Number(raw));
  const port = text(env.MTF_SIMULATOR_PORT) ?? DEFAULT_SIMULATOR_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`MTF_SIMULATOR_PORT must be a port number (0-65535), not "${env.MTF_SIMULATOR_PORT}"`);
  const throwShare = text(env.MTF_SIMULATOR_THROW_SHARE) ?? 0;
  if (!(throwShare >= 0 && throwShare <= 1)) throw new Error(`MTF_SIMULATOR_THROW_SHARE must be a share from 0 to 1, not "${env.MTF_SIMULATOR_THROW_SHARE}"`);
  const lineageDelay = text(env.MTF_SIMULATOR_LINEAGE_DELAY) ?? DEMO_LINEAGE_DELAY;
  if (!(Number.isFinite(lineageDelay) && lineageDelay >= 0)) {
    throw new Error(`MTF_SIMULATOR_LINEAGE_DELAY must be a number of seconds, 0 or more, not "${env.MTF_SIMULATOR_LINEAGE_DELAY}"`);
  }
  return { port, throwShare, lineageDelay };
}

function isAddressInUse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EADDRINUSE';
}

/** The preferred port keeps the URL stable across restarts (the loop remembers it); any free port will do otherwise. */
async function startLocalSimulator({ port, throwShare, lineageDelay }: SimulatorSettings): Promise<Simulator> {
  const behaviour = { throw_share: throwShare, lineage_delay: lineageDelay };
  try {
    return await startSimulator({ host: SIMULATOR_HOST, port, behaviour });
  } catch (err) {
    if (!isAddressInUse(err) || port === 0) throw err;
    say(`port ${port} is taken; the MTF simulator listens on a free port instead`);
    return startSimulator({ host: SIMULATOR_HOST, port: 0, behaviour });
  }
}

// ---------------------------------------------------------------------------------------------
// The loop: start or attach, then follow it.

/**
 * The loop's config as `start` reads it, without flags: MTF_<KEY> env vars over MTF_CONFIG_FILE over
 * the defaults (30 s interval, dry run). Read and checked before anything is started, so a typo in
 * the environment costs one line, not a server start. The URL is set later: MTF_URL's app, else
 * the simulator's.
 */
function devConfigInput(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const resolved = resolveStartConfig({ env, confirmLiveFile: 'npm start has no --live; set MTF_DRY_RUN=false and MTF_CONFIRM_LIVE=true to confirm it' });
  parseResolvedConfig(resolved);
  return resolved.input;
}

/**
 * Starts the loop with `baseConfig` and `mtfUrl` (the simulator's, unless MTF_URL names an app). A
 * loop that already runs is attached to instead: two loops must never drive the same app. Returns
 * the cycle count to count from (null if the status could not be read yet).
 */
async function startOrAttach(client: Client, taskQueue: string, mtfUrl: string, baseConfig: Record<string, unknown>): Promise<number | null> {
  const config = { ...baseConfig, mtf_url: mtfUrl };
  try {
    const { config: started } = await startLoop(client, { taskQueue, config, workflowId: LOOP_ID });
    say(`  Loop       ${LOOP_ID} started on ${taskQueue}: ${cadenceText(started)}, ${started.dry_run ? 'dry run' : 'LIVE'}`);
    return 0;
  } catch (err) {
    if (!(err instanceof LoopAlreadyRunningError)) throw err;
  }
  let status: LoopStatus;
  try {
    status = await loopStatus(client, LOOP_ID);
  } catch {
    say(`  Loop       attached to the running loop ${LOOP_ID}`);
    return null;
  }
  say(`  Loop       attached to the running loop ${LOOP_ID}: ${status.counters.cycles} cycles so far, ${cadenceText(status.config)}, ${status.config.dry_run ? 'dry run' : 'LIVE'}`);
  if (status.config.mtf_url !== mtfUrl && isLocalUrl(status.config.mtf_url) && isLocalUrl(mtfUrl)) {
    // The simulator came up on another port than last time: point the loop at it (from its next cycle).
    await updateLoop(client, LOOP_ID, { mtf_url: mtfUrl });
    say(`  note: the loop called ${status.config.mtf_url}; it calls ${mtfUrl} from its next cycle`);
  } else if (status.config.mtf_url !== mtfUrl) {
    say(
      `  note: the loop calls ${status.config.mtf_url}, not ${mtfUrl}; to restart it with the new URL, ` +
        `stop it (signal stop_signal) or run \`temporal workflow terminate --workflow-id ${LOOP_ID}\`, then npm start again`,
    );
  }
  return status.counters.cycles;
}

function isLocalUrl(url: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(url);
}

function summaryLine(summary: Pick<LoopSummary, 'counters' | 'success_rate' | 'stop_reason' | 'last_error'>): string {
  const reason = summary.stop_reason ? ` (${summary.stop_reason})` : '';
  const rate = summary.success_rate === null ? '-' : `${summary.success_rate}%`;
  return `loop ${LOOP_ID} stopped${reason}: ${countersLine(summary.counters)}, success rate ${rate}`;
}

/**
 * Queries `get_status` every second and prints a line whenever `counters.cycles` grows. The query
 * goes by workflow ID only, so it always reaches the latest run, across continue-as-new. Returns a
 * function that stops the timer.
 */
function followCycles(client: Client, initialCycles: number | null, onEnd: (line: string) => void): () => void {
  let lastCycles = initialCycles;
  let inFlight = false;
  let failures = 0;
  const pendingTrades = new Set<number>();

  const tick = async (): Promise<void> => {
    let status: LoopStatus;
    try {
      status = await loopStatus(client, LOOP_ID);
    } catch (err) {
      failures += 1;
      if (failures === QUERY_FAILURES_BEFORE_NOTICE) say(`(the loop's status cannot be read: ${messageOf(err)}; still trying)`);
      return;
    }
    failures = 0;
    const cycles = status.counters.cycles;
    // An earlier cycle's trades read after a later answer: said before that later cycle's line.
    for (const line of lateTrades(status, pendingTrades)) say(line);
    if (lastCycles !== null && cycles > lastCycles && status.last_cycle) say(cycleLine(status.last_cycle, status.success_rate));
    lastCycles = cycles;
    if (!status.is_running) onEnd(summaryLine(status));
  };

  const timer = setInterval(() => {
    if (inFlight) return; // a slow query must not pile up behind itself
    inFlight = true;
    void tick().finally(() => {
      inFlight = false;
    });
  }, STATUS_POLL_MS);
  return () => clearInterval(timer);
}

/**
 * Waits for the loop's final result (following continue-as-new), so an end the status query cannot
 * show (terminated, failed) also ends the stack.
 */
function watchLoopEnd(client: Client, onEnd: (line: string, exitCode: number) => void): void {
  awaitLoopEnd(client, LOOP_ID).then(
    (end) => {
      if (end.how === 'stopped') onEnd(summaryLine(end.summary), 0);
      else if (end.how === 'failed') onEnd(`loop ${LOOP_ID} failed: ${end.message}`, 1);
      else if (end.how === 'timed_out') onEnd(`loop ${LOOP_ID} timed out`, 1);
      else onEnd(`loop ${LOOP_ID} was ${end.how}`, 0);
    },
    () => undefined, // the connection closed at shutdown
  );
}

// ---------------------------------------------------------------------------------------------
// The stack: what has been started, and how to take it down in order.

class DevStack {
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
    console.error(`npm start: ${line}`);
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
      await done.catch((err: unknown) => console.error(`npm start: the worker stopped with an error: ${messageOf(err)}`));
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

function handleSignals(stack: DevStack): void {
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

async function main(stack: DevStack, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  handleSignals(stack);
  let baseConfig: Record<string, unknown> = {};
  let simulator: SimulatorSettings | null = null;
  try {
    baseConfig = devConfigInput(env);
    if (!env.MTF_URL) simulator = simulatorSettings(env);
  } catch (err) {
    return stack.fail(messageOf(err));
  }
  // The cycle lines on stdout are the readable summary: the SDK's lines go to stderr, warnings
  // and up unless LOG_LEVEL asks for more, readable on a terminal (LOG_FORMAT=json for machines).
  const { logger, settings, observability } = setUpWorkerProcess(env, { logLevel: 'warn', endpointsOptional: true }, (line) => process.stderr.write(line));

  const address = env.TEMPORAL_ADDRESS || DEFAULT_DEV_ADDRESS;
  const target = temporalTarget({ address }, env);
  const server = await ensureTemporal(stack, address, target);
  if (stack.isStopping) return;

  if (simulator) stack.simulator = await startLocalSimulator(simulator);
  const mtfUrl = stack.simulator?.runUrl ?? env.MTF_URL ?? '';
  if (stack.isStopping) return;

  stack.worker = await startWorker(target, settings, logger);
  watchWorker(stack, stack.worker);
  const client = await connectClient(target);
  if (stack.isStopping) return;

  say('mtf-ping-pong dev stack');
  say(`  Temporal   ${address}${server ? ` (started here, log ${server.logPath})` : ' (already running)'}`);
  if (server) say(`  Web UI     ${server.uiUrl}`);
  if (observability.metricsAddress) say(`  Metrics    http://${observability.metricsAddress}/metrics`);
  if (stack.worker.health) say(`  Health     ${stack.worker.health.url}/readyz`);
  say(`  ${stack.simulator ? 'Simulator ' : 'MTF app   '} ${mtfUrl}`);
  stack.dashboard = await startLocalDashboard(client, env);
  const initialCycles = await startOrAttach(client, target.taskQueue, mtfUrl, baseConfig);
  say('Ctrl-C stops the stack; the loop keeps its state and resumes on the next npm start.');

  const onEnd = (line: string, exitCode = 0): void => {
    if (stack.isStopping) return;
    say(line);
    void stack.stop(exitCode);
  };
  stack.stopFollowing = followCycles(client, initialCycles, onEnd);
  watchLoopEnd(client, onEnd);
}

/**
 * The dashboard at DASHBOARD_ADDRESS (default 127.0.0.1:8080), with its URL in the startup lines.
 * It is a view, not part of the loop: a busy port or a bad address costs one warning line, not the stack.
 */
async function startLocalDashboard(client: Client, env: NodeJS.ProcessEnv): Promise<Dashboard | null> {
  try {
    const { host, port } = dashboardAddress(env);
    const dashboard = await startDashboard({ client, host, port });
    say(`  Dashboard  ${dashboard.url}`);
    return dashboard;
  } catch (err) {
    const why = isAddressInUse(err) ? `${env.DASHBOARD_ADDRESS || DEFAULT_DASHBOARD_ADDRESS} is in use` : messageOf(err);
    say(`  Dashboard  not started: ${why} (set DASHBOARD_ADDRESS to serve it elsewhere)`);
    return null;
  }
}

/** A worker that stops on its own (a fatal error, SIGQUIT) leaves nothing to run the loop: stop it all. */
function watchWorker(stack: DevStack, { done }: RunningWorker): void {
  done.then(
    () => {
      if (stack.isStopping) return;
      console.error('npm start: the worker stopped');
      void stack.stop(1);
    },
    (err: unknown) => {
      if (stack.isStopping) return; // stopInOrder reports it
      console.error(`npm start: the worker failed: ${messageOf(err)}`);
      void stack.stop(1);
    },
  );
}

if (require.main === module) {
  const stack = new DevStack();
  main(stack).catch((err: unknown) => {
    console.error(`npm start: ${messageOf(err)}`);
    // Whatever was started is taken down; if a shutdown is already running, this joins it.
    void stack.stop(1);
  });
}
