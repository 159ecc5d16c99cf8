/**
 * `health`: does Temporal answer on the namespace, and (unless --temporal-only) does the MTF app's
 * health endpoint answer? One line per check; exit 0 healthy, 1 not. A container entrypoint uses
 * --temporal-only so a worker still starts while the trading app is down.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { createActivities } from '../../activities';
import type { TemporalTarget } from '../../client/connection';
import { mtfHealthThroughWorker } from '../../client/health';
import { serverProblem } from '../../client/unanswered';
import { parseLoopConfig } from '../../shared/config';
import type { HealthCheckInput } from '../../shared/mtf';
import { DEFAULT_WORKFLOW_ID } from '../../shared/messages';
import { messageOf } from '../../lib/errors';
import { CliError, ExitCode, action, durationArg, examples, formatDuration, say, warn } from '../output';
import { addTemporalOptions, addressOf, statusWithin, connect, refused, targetFrom, type TemporalOptions } from '../temporal';

const RETRY_MS = 2_000;
/** Bounds the namespace check and the read of the loop's URL: a loop without a worker must not hold up the check. */
const CHECK_TIMEOUT_MS = 3_000;
/** The activity's own GET is bounded at 10 s; this leaves room for scheduling. */
const WORKER_CHECK_TIMEOUT_MS = 20_000;

interface HealthOptions extends TemporalOptions {
  wait?: number;
  temporalOnly?: boolean;
  url?: string;
  healthUrl?: string;
  id: string;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * Connects and asks for the namespace (an answer means the frontend serves it), then asks the
 * history and matching services behind it: a frontend alone runs no loop.
 */
async function checkTemporal(target: TemporalTarget): Promise<{ check: Check; client: Client | null }> {
  const where = `${addressOf(target)} namespace ${target.namespace}`;
  let client: Client | null = null;
  try {
    client = await connect(target);
    const connected = client;
    await connected.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
      connected.workflowService.describeNamespace({ namespace: target.namespace }),
    );
    const problem = await serverProblem(connected, target.namespace, target.taskQueue, CHECK_TIMEOUT_MS);
    if (problem) return { check: { name: 'temporal', ok: false, detail: `${where}: ${problem}` }, client };
    return { check: { name: 'temporal', ok: true, detail: where }, client };
  } catch (err) {
    await client?.connection.close().catch(() => undefined);
    // Refused credentials are a setting to fix, not an unhealthy Temporal: their own line and exit code.
    const refusal = err instanceof CliError ? (err.exitCode === ExitCode.CredentialsRefused ? err : null) : refused(target, err);
    if (refusal) throw refusal;
    // connect() already names the address and namespace; anything later gets them added.
    const detail = err instanceof CliError ? err.message : `${where}: ${messageOf(err)}`;
    return { check: { name: 'temporal', ok: false, detail }, client: null };
  }
}

/**
 * The app to check: --url, else MTF_URL, else the running loop's mtf_url, else the schema's
 * default; and where its health is read: --health-url, else MTF_HEALTH_URL, else the loop's
 * health_url when its mtf_url is the one checked, else the app's own routes (app-health.ts).
 */
async function healthInput(options: HealthOptions, client: Client | null, target: TemporalTarget): Promise<HealthCheckInput> {
  const given = options.url || process.env.MTF_URL;
  const status = !given && client ? await statusWithin(client, options.id, target, CHECK_TIMEOUT_MS).catch(() => null) : null;
  const defaults = parseLoopConfig({});
  return {
    mtf_url: given || (status?.config.mtf_url ?? defaults.mtf_url),
    health_url: options.healthUrl || process.env.MTF_HEALTH_URL || (status?.config.health_url ?? defaults.health_url),
  };
}

/** Through a polling worker's health-check activity when there is one; else directly from here. */
async function checkMtf(input: HealthCheckInput, client: Client | null, target: TemporalTarget): Promise<Check> {
  const viaWorker = client
    ? await mtfHealthThroughWorker(client, {
        namespace: target.namespace,
        taskQueue: target.taskQueue,
        input,
        timeoutMs: WORKER_CHECK_TIMEOUT_MS,
      }).catch(() => null)
    : null;
  const result = viaWorker ?? (await createActivities().health_check_activity(input));
  const answer =
    result.http_status === null
      ? result.message || 'no answer'
      : `HTTP ${result.http_status}${result.healthy ? '' : `: ${result.message}`}`;
  const from = viaWorker ? `via worker ${viaWorker.worker}` : 'direct';
  return { name: 'mtf', ok: result.healthy, detail: `${result.url ?? input.health_url ?? input.mtf_url} (${answer}, ${from})` };
}

async function runChecks(options: HealthOptions, target: TemporalTarget): Promise<Check[]> {
  const { check, client } = await checkTemporal(target);
  try {
    if (options.temporalOnly) return [check];
    // Through a worker only when the server serves: a workflow on a failing server would wait out its timeout.
    const serving = check.ok ? client : null;
    return [check, await checkMtf(await healthInput(options, serving, target), serving, target)];
  } finally {
    await client?.connection.close().catch(() => undefined);
  }
}

function checkLine(check: Check): string {
  return `${check.name.padEnd(10)}${check.ok ? 'ok  ' : 'FAIL'}  ${check.detail}`;
}

export function registerHealth(program: Command): void {
  const command = program
    .command('health')
    .description("check that Temporal answers on the namespace and the MTF app's health answers; exit 0 healthy, 1 not")
    .option('--wait <duration>', 'retry until healthy or this long has passed', durationArg)
    .option('--temporal-only', 'skip the MTF app (for a worker container entrypoint)')
    .option(
      '--url <url>',
      "the MTF run URL whose app is checked, at /health then /api/mtf/health on its origin (default: MTF_URL, else the loop's mtf_url, else the default)",
    )
    .option('--health-url <url>', "read the app's health here instead (default: MTF_HEALTH_URL, else the loop's health_url)")
    .option('--id <id>', 'the loop whose mtf_url is checked when neither --url nor MTF_URL is given', DEFAULT_WORKFLOW_ID)
    .addHelpText(
      'after',
      examples([
        'mtf-ping-pong health',
        'mtf-ping-pong health --temporal-only --wait 60s',
        'mtf-ping-pong health --url http://trading-app-nginx/api/mtf/run',
      ]),
    );
  addTemporalOptions(command).action(
    action(async (options: HealthOptions) => {
      const target = targetFrom(options);
      const deadline = Date.now() + (options.wait ?? 0) * 1000;
      if (options.wait) warn(`waiting up to ${formatDuration(options.wait)} until healthy...`);
      for (;;) {
        const checks = await runChecks(options, target);
        const healthy = checks.every((check) => check.ok);
        if (healthy || Date.now() + RETRY_MS > deadline) {
          checks.forEach((check) => say(checkLine(check)));
          return healthy ? ExitCode.Ok : ExitCode.Failure;
        }
        await delay(RETRY_MS);
      }
    }),
  );
}
