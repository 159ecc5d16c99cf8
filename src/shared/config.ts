/**
 * The one schema for a loop's configuration. The client checks it before a start, the workflow
 * checks its input with it (so the stock `temporal` CLI and the original Python client hit the
 * same wall), and every later entry point (CLI flags, env, files, `update_config`) goes through it.
 *
 * Keys are snake_case, as the original Python service sends them; defaults are the seed's.
 * Imported by workflow code: no Node built-ins, no `URL`, nothing that reads the environment.
 */
import { z } from 'zod';

// The sandbox that runs workflow code allows eval-free code only.
z.config({ jitless: true });

export const TIMEFRAMES = ['4h', '1h', '15m', '5m', '1m'] as const;

const positiveSeconds = () =>
  z.number({ error: 'must be a number of seconds' }).positive({ error: 'must be greater than 0 seconds' });

/** http(s) only, a host, no white space, and no `user:password@` in the URL: credentials never enter history. */
const URL_PATTERN = /^(https?):\/\/([^/?#]*)([/?#].*)?$/i;
// eslint-disable-next-line no-control-regex -- control characters are exactly what this rejects
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/;
function checkHttpUrl(value: string): string | null {
  // A space or a line break can never reach the app as written (a host with a space is no host),
  // yet the config would be accepted and every cycle would fail: refuse it up front.
  if (SPACE_OR_CONTROL.test(value)) return 'must not contain spaces, tabs or line breaks';
  const match = URL_PATTERN.exec(value);
  if (!match) return 'must be an http:// or https:// URL';
  const authority = match[2] ?? '';
  if (authority.includes('@')) return 'must not embed credentials (user:password@); give the worker an API token instead';
  if (authority === '' || authority.startsWith(':')) return 'must name a host';
  return null;
}
const httpUrl = z.string({ error: 'must be a URL string' }).superRefine((value, ctx) => {
  const problem = checkHttpUrl(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const symbol = z
  .string({ error: 'each symbol must be a string' })
  .regex(/^[A-Z0-9]{2,30}$/, { error: 'each symbol must be 2-30 upper-case letters or digits, like BTCUSDT' });

/** The configuration keys, their types, rules and defaults: the single place a default lives. */
const configShape = {
  mtf_url: httpUrl.default('http://trading-app-nginx:80/api/mtf/run'),
  symbols: z
    .array(symbol, { error: 'must be a list of symbols' })
    .min(1, { error: 'must list at least one symbol' })
    .refine((list) => new Set(list).size === list.length, { error: 'must not list a symbol twice' })
    .default(['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT']),
  dry_run: z.boolean({ error: 'must be true or false' }).default(true),
  force_run: z.boolean({ error: 'must be true or false' }).default(false),
  force_timeframe_check: z.boolean({ error: 'must be true or false' }).default(false),
  current_tf: z.enum(TIMEFRAMES, { error: `must be one of ${TIMEFRAMES.join(', ')} or null` }).nullable().default(null),
  workers: z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }).max(64, { error: 'must be at most 64' }).default(1),
  /** The budget of one cycle (call + wait for completion), seconds. */
  max_execution_time: positiveSeconds().default(420),
  /** The pause between two cycles, seconds. */
  ping_interval: positiveSeconds().default(30),
  /** The timeout of one activity attempt, seconds. */
  activity_timeout: positiveSeconds().default(120),
  max_attempts: z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }).max(20, { error: 'must be at most 20' }).default(3),
  retry_initial_interval: positiveSeconds().default(5),
  retry_backoff: z.number({ error: 'must be a number' }).min(1, { error: 'must be at least 1' }).default(2),
  retry_max_interval: positiveSeconds().default(30),
  /** `auto`: the loop runs by itself; `signal`: each cycle waits for `continue_signal`. */
  continue_mode: z.enum(['auto', 'signal'], { error: 'must be "auto" or "signal"' }).default('auto'),
  /** In `signal` mode, how long to wait for `continue_signal` before going on anyway; null = forever. */
  continue_timeout: positiveSeconds().nullable().default(null),
  /** How often an accepted (202) run's status is read, seconds. */
  poll_interval: positiveSeconds().default(5),
  /** Template of an accepted run's status URL; `{run_id}` is replaced. null = the run URL's origin + /api/mtf/runs/{run_id}. */
  status_url: httpUrl
    .refine((value) => value.includes('{run_id}'), { error: 'must contain {run_id}' })
    .nullable()
    .default(null),
  /** Cycles per workflow run before continue-as-new (earlier if the SDK suggests it). */
  max_cycles_per_run: z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }).default(200),
  /** Must be true in the same config for `dry_run: false`: a live run can place real orders. */
  confirm_live: z.boolean({ error: 'must be true or false' }).default(false),
  /** The app deduplicates on Idempotency-Key, so a live POST may be retried. */
  mtf_idempotent: z.boolean({ error: 'must be true or false' }).default(false),
};

type ShapeOutput = { [K in keyof typeof configShape]: z.output<(typeof configShape)[K]> };

/** Rules across keys, shared by every schema that carries a config. */
function checkAcrossKeys(config: ShapeOutput, ctx: z.RefinementCtx): void {
  if (!config.dry_run && !config.confirm_live) {
    ctx.addIssue({
      code: 'custom',
      path: ['dry_run'],
      message: 'false means a live run that can place real orders; it needs confirm_live: true in the same config',
    });
  }
  if (config.retry_max_interval < config.retry_initial_interval) {
    ctx.addIssue({ code: 'custom', path: ['retry_max_interval'], message: 'must not be shorter than retry_initial_interval' });
  }
  if (config.activity_timeout > config.max_execution_time) {
    ctx.addIssue({ code: 'custom', path: ['activity_timeout'], message: 'must not exceed max_execution_time (the budget of a whole cycle)' });
  }
}

export const loopConfigSchema = z.strictObject(configShape).superRefine(checkAcrossKeys);

/** A loop's configuration with every default filled in. */
export type LoopConfig = z.output<typeof loopConfigSchema>;
/** What a caller may send: any subset of the keys. */
export type LoopConfigInput = z.input<typeof loopConfigSchema>;

export const CONFIG_KEYS = Object.keys(configShape) as (keyof LoopConfig)[];

const count = z.number().int().min(0);
export const countersSchema = z.object({
  cycles: count,
  succeeded: count,
  partial: count,
  failed: count,
  skipped: count,
  timed_out: count,
  consecutive_failures: count,
  continue_timeouts: count,
  symbols_requested: count,
  symbols_successful: count,
});
export type Counters = z.output<typeof countersSchema>;

export const OUTCOMES = ['succeeded', 'partial', 'failed', 'skipped', 'timed_out'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const cycleRecordSchema = z.object({
  iteration: z.number().int().min(1),
  outcome: z.enum(OUTCOMES),
  mtf_run_id: z.string().nullable(),
  started_at: z.string(),
  finished_at: z.string(),
  /** Wall time of call + wait for completion, seconds (workflow time). */
  cycle_seconds: z.number().min(0),
  /** The run's own `execution_time_seconds`, when the app reported it. */
  mtf_execution_seconds: z.number().nullable(),
  symbols_requested: z.number().int().nullable(),
  symbols_successful: z.number().int().nullable(),
  success_rate: z.number().nullable(),
  message: z.string().nullable(),
});
export type CycleRecord = z.output<typeof cycleRecordSchema>;

/** One point of the recent-cycles window that the dashboard plots: small, so the window is cheap to carry. */
export const cyclePointSchema = z.object({
  iteration: z.number().int().min(1),
  outcome: z.enum(OUTCOMES),
  finished_at: z.string(),
  cycle_seconds: z.number().min(0),
});
export type CyclePoint = z.output<typeof cyclePointSchema>;

/**
 * What one workflow run hands to the next through continue-as-new, so numbering never restarts.
 * Unknown keys (here and in its parts) are dropped, not refused: the workflow writes this itself,
 * and a worker rolled back to an older release must go on with the keys it knows rather than fail
 * the loop.
 */
export const carriedStateSchema = z.object({
  iteration: count,
  counters: countersSchema,
  last_cycle: cycleRecordSchema.nullable(),
  last_error: z.string().nullable(),
  continue_pending: z.boolean(),
  started_at: z.string(),
  /** Absent in runs started before the window existed. */
  recent_cycles: z.array(cyclePointSchema).default([]),
});
export type CarriedState = z.output<typeof carriedStateSchema>;

/** The workflow's single argument: a config (as the original sends it) plus, after continue-as-new, its state. */
export const workflowInputSchema = z
  .strictObject({ ...configShape, carried_state: carriedStateSchema.optional() })
  .superRefine(checkAcrossKeys);
export type WorkflowInput = z.input<typeof workflowInputSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** One readable line per problem, each naming the key and the rule. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `${issue.keys.join(', ')}: unknown key${issue.keys.length > 1 ? 's' : ''} (known keys: ${CONFIG_KEYS.join(', ')})`;
      }
      const key = issue.path.length > 0 ? issue.path.join('.') : 'config';
      return `${key}: ${issue.message}`;
    })
    .join('; ');
}

function parseWith<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(`invalid config: ${describeIssues(result.error)}`);
  return result.data;
}

/** Parses a loop configuration, filling defaults; throws a {@link ConfigError} naming every bad key. */
export function parseLoopConfig(input: unknown): LoopConfig {
  return parseWith(loopConfigSchema, input);
}

/** Parses the workflow's argument (config + optional carried state). */
export function parseWorkflowInput(input: unknown): z.output<typeof workflowInputSchema> {
  return parseWith(workflowInputSchema, input);
}

/** The keys an `update_config` may change, any subset of them. */
export type ConfigPatch = Partial<LoopConfigInput>;

/**
 * The config a running loop would have after `patch`: the whole result is checked by the same
 * schema, and turning a dry loop live needs `confirm_live: true` in the patch itself, so an
 * operator cannot go live by accident on a loop that was confirmed long ago.
 */
export function parseConfigUpdate(current: LoopConfig, patch: unknown): LoopConfig {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new ConfigError('invalid config update: expected an object of config keys, like {"ping_interval": 60}');
  }
  const next = parseLoopConfig({ ...current, ...patch });
  if (current.dry_run && !next.dry_run && (patch as ConfigPatch).confirm_live !== true) {
    throw new ConfigError(
      'invalid config: dry_run: switching a running loop to live runs that can place real orders needs confirm_live: true in the same update',
    );
  }
  return next;
}

/** The status URL template an accepted run falls back on: the run URL's origin + /api/mtf/runs/{run_id}. */
export function statusUrlTemplate(config: Pick<LoopConfig, 'mtf_url' | 'status_url'>): string {
  if (config.status_url) return config.status_url;
  const match = URL_PATTERN.exec(config.mtf_url);
  return `${match?.[1] ?? 'http'}://${match?.[2] ?? ''}/api/mtf/runs/{run_id}`;
}
