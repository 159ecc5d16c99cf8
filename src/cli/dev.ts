/**
 * `npm start`: the whole stack on one machine, for a first look. It reuses a Temporal server that
 * already answers (TEMPORAL_ADDRESS, default 127.0.0.1:7233) or starts `temporal server start-dev`
 * with its state in .data/temporal.db; starts the MTF simulator (unless MTF_URL names a real app),
 * the worker in this process, the dashboard, and the loop `mtf-ping-pong` in dry-run mode (or
 * attaches to it when it already runs), then prints one line per finished cycle (follow.ts, as
 * `start --wait` does). With MTF_FLEET_FILE it applies that fleet file instead of the one loop
 * (MTF_FLEET_PRUNE, MTF_FLEET_CONFIRM_LIVE as the container's entrypoint reads them), every loop
 * pointed at the simulator (or MTF_URL's app). The processes and their order of stopping are
 * dev-processes.ts's.
 *
 * Ctrl-C (SIGINT) or SIGTERM stops the worker, the simulator and the server it started, in that
 * order. The loop itself is not stopped: its state lives in the SQLite file, so the next `npm start`
 * resumes the same loop with the same counters. The worker's logs go to stderr (LOG_LEVEL, default
 * warn), its metrics and probes to METRICS_ADDRESS / HEALTH_ADDRESS, the dashboard to
 * DASHBOARD_ADDRESS; the embedded server registers the loop's search attributes.
 *
 * Nothing runs at import time.
 */
import type { Client } from '@temporalio/client';
import { connectClient, temporalTarget, type TemporalTarget } from '../client/connection';
import { DEFAULT_DASHBOARD_ADDRESS, dashboardAddress, startDashboard, type Dashboard } from '../dashboard/server';
import { LoopAlreadyRunningError, loopStatus, startLoop, updateLoop, type LoopEnd } from '../client/loops';
import { messageOf } from '../lib/errors';
import { DEFAULT_WORKFLOW_ID } from '../shared/messages';
import { cadenceText } from '../shared/cadence';
import type { LoopStatus, LoopSummary } from '../shared/status';
import { DEMO_LINEAGE_DELAY, startSimulator, type Simulator } from '../simulator/server';
import { setUpWorkerProcess, startWorker } from '../worker/main';
import { parseResolvedConfig, resolveStartConfig } from './config-env';
import { DevStack, ensureTemporal, handleSignals, watchWorker } from './dev-processes';
import { followLoop } from './follow';
import { applyPlan, planAgainst, readFleetFile } from './fleet-apply';
import { resultLines } from './fleet-text';
import { countersLine, endLines } from './format';
import { DEFAULT_CONCURRENCY } from './group-steering';
import { envBoolean } from '../lib/env';
import type { FleetFile } from '../fleet/fleet-file';
import { say, warn } from './output';

const DEFAULT_DEV_ADDRESS = '127.0.0.1:7233';
const DEFAULT_SIMULATOR_PORT = 8088;
const SIMULATOR_HOST = '127.0.0.1';
/** A cycle line within a second of the cycle (start --wait looks every 2 s). */
const STATUS_POLL_MS = 1_000;
const LOOP_ID = DEFAULT_WORKFLOW_ID;

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
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`MTF_SIMULATOR_PORT must be a port number (0-65535), not "${env.MTF_SIMULATOR_PORT}"`);
  const throwShare = text(env.MTF_SIMULATOR_THROW_SHARE) ?? 0;
  if (!(throwShare >= 0 && throwShare <= 1))
    throw new Error(`MTF_SIMULATOR_THROW_SHARE must be a share from 0 to 1, not "${env.MTF_SIMULATOR_THROW_SHARE}"`);
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
  const resolved = resolveStartConfig({
    env,
    confirmLiveFile: 'npm start has no --live; set MTF_DRY_RUN=false and MTF_CONFIRM_LIVE=true to confirm it',
  });
  parseResolvedConfig(resolved);
  return resolved.input;
}

/**
 * Starts the loop with `baseConfig` and `mtfUrl` (the simulator's, unless MTF_URL names an app). A
 * loop that already runs is attached to instead: two loops must never drive the same app. Returns
 * the cycle count to count from (null if the status could not be read yet).
 */
async function startOrAttach(
  client: Client,
  taskQueue: string,
  mtfUrl: string,
  baseConfig: Record<string, unknown>,
): Promise<number | null> {
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
  say(
    `  Loop       attached to the running loop ${LOOP_ID}: ${status.counters.cycles} cycles ` +
      `so far, ${cadenceText(status.config)}, ${status.config.dry_run ? 'dry run' : 'LIVE'}`,
  );
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

/** The line the loop's end is told in (a stop in one line, not start --wait's table), and the stack's exit code. */
function endLine(end: LoopEnd): [string, number] {
  const line = end.how === 'stopped' ? summaryLine(end.summary) : endLines(LOOP_ID, end).join(' ');
  return [line, end.how === 'failed' || end.how === 'timed_out' ? 1 : 0];
}

/**
 * One line per finished cycle, as `start --wait` prints them (follow.ts), from `initialCycles` on
 * (null: from the first look), until the loop ends, however it ends (its final result, following
 * continue-as-new), which also ends the stack. Returns a function that stops following.
 */
function followCycles(
  client: Client,
  target: TemporalTarget,
  initialCycles: number | null,
  onEnd: (line: string, exitCode: number) => void,
): () => void {
  const following = new AbortController();
  const onLastingFailure = (err: unknown): void => say(`(the loop's status cannot be read: ${messageOf(err)}; still trying)`);
  followLoop(client, target, LOOP_ID, {
    seen: initialCycles,
    pollMs: STATUS_POLL_MS,
    signal: following.signal,
    onLastingFailure,
    outlastOutages: true,
  }).then(
    (end) => onEnd(...endLine(end)),
    () => undefined, // the connection closed at shutdown
  );
  return () => following.abort();
}

/** The fleet of MTF_FLEET_FILE, as the container's entrypoint reads it; null when unset. */
interface DevFleet {
  file: FleetFile;
  prune: boolean;
  confirmLive: boolean;
}

function devFleet(env: NodeJS.ProcessEnv): DevFleet | null {
  if (!env.MTF_FLEET_FILE) return null;
  return {
    file: readFleetFile(env.MTF_FLEET_FILE),
    prune: envBoolean(env, 'MTF_FLEET_PRUNE', false),
    confirmLive: envBoolean(env, 'MTF_FLEET_CONFIRM_LIVE', false),
  };
}

/**
 * Applies the fleet on this stack, every loop pointed at `mtfUrl` (the simulator, unless MTF_URL
 * names an app): the file's own URL names the app of the deployment it was written for.
 */
async function applyDevFleet(client: Client, target: TemporalTarget, fleet: DevFleet, mtfUrl: string): Promise<void> {
  const loops = fleet.file.loops.map((loop) => ({ ...loop, config: { ...loop.config, mtf_url: mtfUrl } }));
  const { plan, missingAttributes } = await planAgainst(client, target, { ...fleet.file, loops }, DEFAULT_CONCURRENCY);
  const results = await applyPlan(client, target, plan, {
    taskQueue: target.taskQueue,
    ...fleet,
    concurrency: DEFAULT_CONCURRENCY,
    missingAttributes,
  });
  say(`  Fleet      ${fleet.file.fleet}, every loop calling ${mtfUrl}`);
  for (const line of resultLines(plan, results).slice(1)) say(`  ${line}`);
  say(`  (mtf-ping-pong list --fleet ${fleet.file.fleet} lists them; the dashboard shows them by group)`);
}

async function main(stack: DevStack, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  handleSignals(stack);
  let baseConfig: Record<string, unknown> = {};
  let simulator: SimulatorSettings | null = null;
  let fleet: DevFleet | null = null;
  try {
    baseConfig = devConfigInput(env);
    // A fleet file is judged whole before anything starts, as `apply` judges it.
    fleet = devFleet(env);
    if (!env.MTF_URL) simulator = simulatorSettings(env);
  } catch (err) {
    return stack.fail(messageOf(err));
  }
  // The cycle lines on stdout are the readable summary: the SDK's lines go to stderr, warnings
  // and up unless LOG_LEVEL asks for more, readable on a terminal (LOG_FORMAT=json for machines).
  const { logger, settings, observability } = setUpWorkerProcess(env, { logLevel: 'warn', endpointsOptional: true }, (line) =>
    process.stderr.write(line),
  );

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
  if (fleet) {
    // The fleet instead of the one default loop; the stack runs until Ctrl-C, the loops keep their state.
    await applyDevFleet(client, target, fleet, mtfUrl);
    say('Ctrl-C stops the stack; the loops keep their state and resume on the next npm start.');
    return;
  }
  const initialCycles = await startOrAttach(client, target.taskQueue, mtfUrl, baseConfig);
  say('Ctrl-C stops the stack; the loop keeps its state and resumes on the next npm start.');

  stack.stopFollowing = followCycles(client, target, initialCycles, (line, exitCode) => {
    if (stack.isStopping) return;
    say(line);
    void stack.stop(exitCode);
  });
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

if (require.main === module) {
  const stack = new DevStack();
  main(stack).catch((err: unknown) => {
    warn(`npm start: ${messageOf(err)}`);
    // Whatever was started is taken down; if a shutdown is already running, this joins it.
    void stack.stop(1);
  });
}
