/**
 * One structured logger for the process: pino writing JSON lines (or a readable line on a
 * terminal), with every secret removed before a line is written. The SDK's runtime logger is an
 * adapter onto it, so worker, activity, workflow and core lines come out in one stream and shape.
 */
import { pino, type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';

export type LogFormat = 'json' | 'pretty';
export type Logger = PinoLogger;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
const REDACTED = '[redacted]';

/** Keys that may hold a secret wherever they appear: pino blanks them before serialising. */
const SECRET_PATHS = [
  'token',
  'api_token',
  'authorization',
  'password',
  'headers.authorization',
  '*.token',
  '*.api_token',
  '*.authorization',
  '*.password',
  '*.headers.authorization',
];

export interface LoggerOptions {
  /** LOG_LEVEL; default info. */
  level?: string;
  /** LOG_FORMAT; default pretty on a terminal, JSON elsewhere. */
  format?: LogFormat;
  /** Values that must never be written, whatever key or message carries them (the MTF API token). */
  secrets?: (string | null | undefined)[];
  /** Default stdout; tests pass a collector. */
  write?: (line: string) => void;
}

export function logLevelFrom(text: string | undefined): Level {
  const level = (text ?? '').trim().toLowerCase();
  if (level === '') return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as Level;
  throw new Error(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}, not "${text}"`);
}

export function logFormatFrom(text: string | undefined, isTerminal: boolean): LogFormat {
  const format = (text ?? '').trim().toLowerCase();
  if (format === '') return isTerminal ? 'pretty' : 'json';
  if (format === 'json' || format === 'pretty') return format;
  throw new Error(`LOG_FORMAT: must be json or pretty, not "${text}"`);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? logFormatFrom(undefined, process.stdout.isTTY);
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  // Each secret as written and as JSON escapes it (a quote or a backslash in a token changes its bytes in a line).
  const secrets = (options.secrets ?? [])
    .filter((s): s is string => typeof s === 'string' && s.length >= 4)
    .flatMap((s) => [...new Set([s, JSON.stringify(s).slice(1, -1)])]);
  const scrub = (line: string) => secrets.reduce((text, secret) => text.split(secret).join(REDACTED), line);
  const destination: DestinationStream = {
    write: (line) => write(format === 'pretty' ? prettyLine(scrub(line)) : scrub(line)),
  };
  return pino(
    {
      level: logLevelFrom(options.level),
      base: { service: 'mtf-ping-pong' },
      redact: { paths: SECRET_PATHS, censor: REDACTED },
      // The SDK passes failures as `error`: keep their type and message (JSON.stringify drops both).
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** The SDK's attribute names, renamed to the snake_case that the service's own fields use. */
const SDK_KEYS: Record<string, string> = {
  sdkComponent: 'component',
  workflowId: 'workflow_id',
  runId: 'run_id',
  workflowRunId: 'run_id',
  workflowType: 'workflow_type',
  activityType: 'activity',
  activityId: 'activity_id',
  taskQueue: 'task_queue',
  isLocal: 'is_local',
};

/** The SDK's `Logger` onto pino: the runtime, the workflow sink and activity contexts all log through it. */
export function sdkLoggerFor(logger: Logger): SdkLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    const method = level.toLowerCase() as Level;
    if (!logger.isLevelEnabled(method)) return;
    const fields: Record<string, unknown> = {};
    // Symbol keys (the SDK's timestamp) are not enumerable by Object.entries and are left out.
    for (const [key, value] of Object.entries(meta ?? {})) {
      if (key === 'taskToken' || value === undefined) continue;
      fields[SDK_KEYS[key] ?? key] = value;
    }
    logger[method](fields, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/** Fields a reader does not need on a terminal: the same for every line of a process. */
const QUIET_KEYS = new Set([
  'time',
  'level',
  'msg',
  'service',
  'namespace',
  'workflow_type',
  'task_queue',
  'component',
  'activity_id',
  'is_local',
]);

/** One JSON line → `12:00:01 INFO  cycle finished workflow_id=mtf-ping-pong iteration=3 …`. */
export function prettyLine(jsonLine: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
  const text = (value: unknown) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
  const level = text(entry.level).toUpperCase().padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key]) => !QUIET_KEYS.has(key))
    .map(([key, value]) => `${key}=${text(value)}`);
  return `${time} ${level} ${text(entry.msg)}${fields.length ? ' ' + fields.join(' ') : ''}\n`;
}
