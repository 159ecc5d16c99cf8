/**
 * The worker process (what a container runs). Reads its settings from the environment:
 * TEMPORAL_ADDRESS (default localhost:7233; `temporal:7233` in Compose), TEMPORAL_NAMESPACE
 * (default), TASK_QUEUE_NAME (mtf-ping-pong-queue), WORKER_IDENTITY (mtf-ping-pong-worker),
 * TLS / API key through envconfig; MTF_API_TOKEN (or MTF_API_TOKEN_FILE), the trading app's
 * token, which only this process ever holds; MTF_NOTIFY_URL (or MTF_NOTIFY_URL_FILE), MTF_NOTIFY_FORMAT
 * and MTF_NOTIFY_TIMEOUT, where transitions are announced (the URL a secret too); LOG_LEVEL / LOG_FORMAT, METRICS_ADDRESS (Prometheus, default
 * 127.0.0.1:9464), HEALTH_ADDRESS (/healthz and /readyz, default 127.0.0.1:9465) and
 * REQUIRE_SEARCH_ATTRIBUTES. SIGINT / SIGTERM shut it down gracefully.
 */
import { readFileSync } from 'node:fs';
import { NativeConnection, TransportError, type Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { DEFAULT_NOTIFY_TIMEOUT_MS, type NotifyDeps } from '../activities/notify';
import { NOTIFY_FORMATS, type NotifyFormat } from '../shared/notifications';
import { temporalTarget, type TemporalTarget } from '../client/connection';
import { CREDENTIALS_REFUSED_EXIT, checkClientCertificate, credentialsProblem } from '../client/connection-errors';
import { SearchAttributesMissingError, missingSearchAttributes } from '../client/search-attributes';
import type { Logger } from '../observability/logger';
import { installRuntime, observabilitySettings, type ObservabilitySettings } from '../observability/runtime';
import { registerCommand } from '../shared/search-attributes';
import { readinessProbe, startHealthServer, type HealthServer, type Readiness } from './health-server';
import { createMtfWorker } from './worker';
import { envBoolean } from '../lib/env';
import { messageOf } from '../lib/errors';

export const DEFAULT_IDENTITY = 'mtf-ping-pong-worker';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has shut down (and its health endpoint is closed). */
  done: Promise<void>;
  connection: NativeConnection;
  health: HealthServer | null;
}

export interface WorkerSettings {
  identity: string;
  token: string | null;
  /** MTF_NOTIFY_URL and its format (absent: no notifications from this worker). */
  notify?: NotifyDeps;
  /** Refuse to start when the namespace lacks the loop's search attributes, instead of running without them. */
  requireSearchAttributes: boolean;
  healthAddress: string | null;
  /** `npm start` beside another stack: a busy health port costs a warning, not the worker. */
  healthOptional?: boolean;
}

/**
 * A secret from `NAME` (`value`), or from the file `NAME_FILE` names (`fileName`) (a mounted secret; one trailing line
 * break is dropped). Both at once is a mistake worth one clear line.
 */
function secret(name: string, what: string, value: string | undefined, fileName: string | undefined): string | null {
  const file = fileName?.trim();
  if (!file) return value || null;
  if (value) throw new Error(`set ${name} or ${name}_FILE, not both`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${name}_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '' || /[\r\n]/.test(secret)) throw new Error(`${name}_FILE: ${file} must hold the ${what} on one line`);
  return secret;
}

/** The app's API token: MTF_API_TOKEN, or the contents of MTF_API_TOKEN_FILE. */
export function apiToken(env: NodeJS.ProcessEnv): string | null {
  return secret('MTF_API_TOKEN', 'token', env.MTF_API_TOKEN, env.MTF_API_TOKEN_FILE);
}

/**
 * Where transitions are announced: MTF_NOTIFY_URL (or MTF_NOTIFY_URL_FILE), a Slack-compatible
 * incoming webhook unless MTF_NOTIFY_FORMAT=json; MTF_NOTIFY_TIMEOUT, seconds one post may take.
 * The URL is a secret (a webhook's path is its key): no message here repeats it.
 */
export function notifySettings(env: NodeJS.ProcessEnv): NotifyDeps {
  const url = secret('MTF_NOTIFY_URL', 'URL', env.MTF_NOTIFY_URL, env.MTF_NOTIFY_URL_FILE);
  if (url !== null && !/^https?:\/\/[^\s/]+/i.test(url.trim()))
    throw new Error('MTF_NOTIFY_URL: must be an http:// or https:// URL (its value is not repeated here: it is a secret)');
  const format = (env.MTF_NOTIFY_FORMAT ?? '').trim().toLowerCase() || 'slack';
  if (!(NOTIFY_FORMATS as readonly string[]).includes(format))
    throw new Error(`MTF_NOTIFY_FORMAT: must be ${NOTIFY_FORMATS.join(' or ')}, not "${env.MTF_NOTIFY_FORMAT}"`);
  const timeoutText = (env.MTF_NOTIFY_TIMEOUT ?? '').trim();
  const timeout = timeoutText === '' ? DEFAULT_NOTIFY_TIMEOUT_MS / 1000 : Number(timeoutText);
  // Above 9 s a post would outlast the attempt's own 10 s timeout (workflows/notifier.ts).
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 9)
    throw new Error(`MTF_NOTIFY_TIMEOUT: must be seconds, more than 0 and at most 9, not "${env.MTF_NOTIFY_TIMEOUT}"`);
  return { url: url?.trim() ?? null, format: format as NotifyFormat, timeoutMs: timeout * 1000 };
}

export function workerSettings(env: NodeJS.ProcessEnv, observability: ObservabilitySettings): WorkerSettings {
  return {
    identity: env.WORKER_IDENTITY || DEFAULT_IDENTITY,
    token: apiToken(env),
    notify: notifySettings(env),
    requireSearchAttributes: envBoolean(env, 'REQUIRE_SEARCH_ATTRIBUTES', false),
    healthAddress: observability.healthAddress,
  };
}

/**
 * Sets a process up to run a worker: our logger and metrics in the SDK runtime (once per
 * process), from the environment. Entry points call it first; the worker then starts with
 * {@link startWorker}.
 */
export function setUpWorkerProcess(
  env: NodeJS.ProcessEnv = process.env,
  defaults: { logLevel?: string; endpointsOptional?: boolean } = {},
  write?: (line: string) => void,
) {
  const observability = observabilitySettings(env, defaults);
  const settings = { ...workerSettings(env, observability), healthOptional: defaults.endpointsOptional };
  const { logger, metricsAddress } = installRuntime(
    observability,
    [settings.token, settings.notify?.url, env.TEMPORAL_API_KEY, env.MTF_ENCRYPTION_KEY],
    write,
    { metricsOptional: defaults.endpointsOptional },
  );
  return { logger, settings, observability: { ...observability, metricsAddress } };
}

/**
 * Bounds the worker's first connection. The core gives up at once on a refused port or a refused
 * certificate, but waits without end on a peer that accepts TCP and never completes the TLS
 * handshake (a wrong port on a proxy, a stalled front), and then ignores SIGTERM too.
 */
export const CONNECT_TIMEOUT_MS = 15_000;

/** NativeConnection.connect, or a TransportError (the SDK's own "cannot connect") after {@link CONNECT_TIMEOUT_MS}. */
async function connectBounded(target: TemporalTarget): Promise<NativeConnection> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      const address = target.connectionOptions.address ?? 'localhost:7233';
      reject(
        new TransportError(
          `no connection to ${address} within ${CONNECT_TIMEOUT_MS / 1000}s (it accepts TCP but does not ` +
            `answer: is it Temporal's gRPC port, and does it speak TLS as TEMPORAL_TLS_* / TEMPORAL_API_KEY say?)`,
        ),
      );
    }, CONNECT_TIMEOUT_MS);
  });
  const connecting = NativeConnection.connect(target.connectionOptions);
  try {
    return await Promise.race([connecting, timeout]);
  } finally {
    clearTimeout(timer);
    // A connection that arrives after the deadline has no one to use it.
    if (timedOut)
      connecting
        .then(
          (late) => late.close(),
          () => undefined,
        )
        .catch(() => undefined);
  }
}

export async function startWorker(target: TemporalTarget, settings: WorkerSettings, logger: Logger): Promise<RunningWorker> {
  checkClientCertificate(target);
  const connection = await connectBounded(target);
  let health: HealthServer | null = null;
  try {
    await checkSearchAttributes(connection, target.namespace, settings, logger);
    // The probes come up first, unready, so a busy port fails before the worker holds the connection.
    let readiness: (() => Promise<Readiness>) | null = null;
    health = await healthEndpoint(
      settings,
      logger,
      () => readiness?.() ?? Promise.resolve({ ready: false, worker: 'STARTING', temporal: 'not checked yet' }),
    );
    const worker = await createMtfWorker({
      connection,
      namespace: target.namespace,
      taskQueue: target.taskQueue,
      identity: settings.identity,
      activities: createActivities({
        token: settings.token,
        identity: settings.identity,
        sealed: target.dataConverter !== undefined,
        notify: settings.notify,
      }),
      dataConverter: target.dataConverter,
    });
    readiness = readinessProbe(worker, connection, target.namespace);
    logger.info(
      {
        namespace: target.namespace,
        task_queue: target.taskQueue,
        identity: settings.identity,
        health: health?.url,
        payload_encryption: target.dataConverter !== undefined,
        // Whether, never where: the URL is a secret.
        notifications: settings.notify?.url ? `on (${settings.notify.format ?? 'slack'})` : 'off (no MTF_NOTIFY_URL)',
      },
      'worker started',
    );
    const done = worker.run().finally(async () => {
      logger.info({ task_queue: target.taskQueue, identity: settings.identity }, 'worker stopped');
      await health?.close();
      await connection.close();
    });
    return { worker, done, connection, health };
  } catch (err) {
    await health?.close();
    await connection.close();
    throw err;
  }
}

/** The health endpoint, or null when it is off (or, under `npm start`, when its port is taken). */
async function healthEndpoint(settings: WorkerSettings, logger: Logger, readiness: () => Promise<Readiness>): Promise<HealthServer | null> {
  if (!settings.healthAddress) return null;
  try {
    return await startHealthServer(settings.healthAddress, readiness);
  } catch (err) {
    const why = `HEALTH_ADDRESS ${settings.healthAddress}: ${messageOf(err)}`;
    if (!settings.healthOptional) throw new Error(`${why} (choose another host:port, or off)`);
    logger.warn(`${why}; running without /healthz and /readyz`);
    return null;
  }
}

async function checkSearchAttributes(
  connection: NativeConnection,
  namespace: string,
  settings: WorkerSettings,
  logger: Logger,
): Promise<void> {
  const missing = await missingSearchAttributes(connection.operatorService, namespace);
  if (missing.length === 0) return;
  if (settings.requireSearchAttributes) throw new SearchAttributesMissingError(missing, namespace);
  logger.warn(
    { missing, namespace, command: registerCommand(namespace) },
    `search attributes ${missing.join(', ')} are not registered (or not with their type): loops ` +
      `run without them (not filterable in the UI); register them with: ${registerCommand(namespace)}`,
  );
}

if (require.main === module) {
  let logger: Logger | undefined;
  try {
    const setup = setUpWorkerProcess();
    logger = setup.logger;
    const target = temporalTarget();
    startWorker(target, setup.settings, logger)
      .then(({ done }) => done)
      .catch((err: unknown) => {
        // A TLS or credentials refusal: one line naming the fix, not the core's Rust error dump.
        const refusal = credentialsProblem(err, target);
        if (refusal !== null) {
          console.error(`worker: ${refusal}`);
          process.exit(CREDENTIALS_REFUSED_EXIT);
        }
        logger?.fatal({ error: messageOf(err) }, 'worker failed');
        process.exit(1);
      });
  } catch (err) {
    // A bad setting: one readable line, before any logger exists.
    console.error(`worker: ${messageOf(err)}`);
    process.exit(2);
  }
}
