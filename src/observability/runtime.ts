/**
 * The SDK runtime, installed once per process: its logger is ours (pino), its Prometheus
 * exporter serves the SDK's metrics and the service's own on METRICS_ADDRESS.
 */
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { createLogger, logFormatFrom, logLevelFrom, sdkLoggerFor, type Logger } from './logger';
import { HISTOGRAM_BUCKETS } from '../shared/metrics';
import { messageOf } from '../lib/errors';

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9464';
export const DEFAULT_HEALTH_ADDRESS = '127.0.0.1:9465';

export interface ObservabilitySettings {
  logLevel: string;
  logFormat: 'json' | 'pretty';
  /** host:port of the Prometheus endpoint; null turns it off. */
  metricsAddress: string | null;
  /** host:port of /healthz and /readyz; null turns them off. */
  healthAddress: string | null;
}

/** `off` (or `none`) turns an endpoint off; empty means the default. */
function addressFrom(value: string | undefined, fallback: string, name: string): string | null {
  const text = (value ?? '').trim();
  if (text === '') return fallback;
  if (text === 'off' || text === 'none') return null;
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(text) || Number(text.slice(text.lastIndexOf(':') + 1)) > 65535) {
    throw new Error(`${name}: must be host:port (e.g. 0.0.0.0:9464) or off, not "${value}"`);
  }
  return text;
}

export function observabilitySettings(env: NodeJS.ProcessEnv, defaults: { logLevel?: string } = {}): ObservabilitySettings {
  return {
    logLevel: logLevelFrom(env.LOG_LEVEL || defaults.logLevel),
    logFormat: logFormatFrom(env.LOG_FORMAT, process.stdout.isTTY),
    metricsAddress: addressFrom(env.METRICS_ADDRESS, DEFAULT_METRICS_ADDRESS, 'METRICS_ADDRESS'),
    healthAddress: addressFrom(env.HEALTH_ADDRESS, DEFAULT_HEALTH_ADDRESS, 'HEALTH_ADDRESS'),
  };
}

/**
 * Installs the runtime with our logger and, when asked, the Prometheus exporter. Counters get the
 * `_total` suffix and durations are seconds, as Prometheus expects. Returns the logger and where
 * metrics are served (null when they are off).
 */
export function installRuntime(
  settings: ObservabilitySettings,
  secrets: (string | null | undefined)[],
  write?: (line: string) => void,
  options: { metricsOptional?: boolean } = {},
): { logger: Logger; metricsAddress: string | null } {
  const logger = createLogger({ level: settings.logLevel, format: settings.logFormat, secrets, write });
  try {
    install(logger, settings.logLevel, settings.metricsAddress);
    return { logger, metricsAddress: settings.metricsAddress };
  } catch (err) {
    const why = `METRICS_ADDRESS ${settings.metricsAddress}: ${messageOf(err)}`;
    if (!settings.metricsAddress || !options.metricsOptional) throw new Error(`${why} (choose another host:port, or off)`);
    // `npm start` beside another stack: go on without metrics rather than not at all.
    logger.warn(`${why}; running without metrics`);
    install(logger, settings.logLevel, null);
    return { logger, metricsAddress: null };
  }
}

function install(logger: Logger, level: string, metricsAddress: string | null): void {
  // Core's own lines are noisy below WARN; they follow LOG_LEVEL only when it asks for more detail.
  const coreLevel = level === 'debug' || level === 'trace' ? 'DEBUG' : 'WARN';
  Runtime.install({
    logger: sdkLoggerFor(logger),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: coreLevel }), forward: {} },
      ...(metricsAddress && {
        metrics: {
          prometheus: {
            bindAddress: metricsAddress,
            countersTotalSuffix: true,
            useSecondsForDurations: true,
            histogramBucketOverrides: HISTOGRAM_BUCKETS,
          },
        },
      }),
    },
  });
}
