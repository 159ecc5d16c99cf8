/**
 * The one schema for a loop's configuration. The client checks it before a start, the workflow
 * checks its input with it (so the stock `temporal` CLI and the original Python client hit the
 * same wall), and every later entry point (CLI flags, env, files, `update_config`) goes through it.
 *
 * Keys are snake_case, as the original Python service sends them; defaults are the seed's.
 * Imported by workflow code: no Node built-ins, no `URL`, nothing that reads the environment.
 */
import { ALIGN_EVERY_RULE, CADENCES, SECONDS_PER_DAY } from './cadence';
import { noNotifications, notificationsStateSchema } from './notifications';
import { findingsShape, orderCountsSchema } from './findings';
import { OUTCOMES } from './outcomes';
import { tradesSchema } from './trades';
import * as s from './schema';

export const TIMEFRAMES = ['4h', '1h', '15m', '5m', '1m'] as const;

const positiveSeconds = () => s.number('must be a number of seconds', s.positive('must be greater than 0 seconds'));
const wholeNumber = (least: number, most?: number) =>
  s.number(
    'must be a whole number',
    s.int('must be a whole number'),
    s.min(least, `must be at least ${least}`),
    ...(most === undefined ? [] : [s.max(most, `must be at most ${most}`)]),
  );
const flag = () => s.boolean('must be true or false');

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
const httpUrl = () => s.string('must be a URL string', checkHttpUrl);

const symbol = s.string('each symbol must be a string', s.matches(/^[A-Z0-9]{2,30}$/, 'each symbol must be 2-30 upper-case letters or digits, like BTCUSDT'));

/** How the CLI and the env say `symbols: []` (an empty variable counts as unset). */
export const ALL_SYMBOLS_WORD = 'all';

/** Why a symbols text that names no symbol is refused: all contracts is said in so many words. */
export const NO_SYMBOL_NAMED = `must name at least one symbol, or ${ALL_SYMBOLS_WORD} for the app's own active contracts`;

/**
 * `A,B,…` (items trimmed, empty ones dropped) or `all` (`[]`), as the CLI and the env write
 * symbols; null when the text names none (`,`), which never means all.
 */
export function symbolsFromText(text: string): string[] | null {
  if (text.trim().toLowerCase() === ALL_SYMBOLS_WORD) return [];
  const symbols = text
    .split(',')
    .map((symbol) => symbol.trim())
    .filter((symbol) => symbol !== '');
  return symbols.length > 0 ? symbols : null;
}

/** `symbols: []`: the app runs its own active contracts (150+ in production), present and future. */
export function allSymbols(config: Pick<LoopConfig, 'symbols'>): boolean {
  return config.symbols.length === 0;
}

/** The symbols as people read them. */
export function symbolsText(config: Pick<LoopConfig, 'symbols'>, separator = ','): string {
  return allSymbols(config) ? "all active contracts (the app's own list)" : config.symbols.join(separator);
}

/** `request_extra` as the app reads it: one JSON body, so its size is the size of its JSON. */
export const MAX_REQUEST_EXTRA_BYTES = 4096;

/** The body keys the schema owns: each is set as the loop's own key. */
const SCHEMA_BODY_KEYS = ['symbols', 'dry_run', 'force_run', 'force_timeframe_check', 'current_tf', 'workers'];
/** Lineage and identity the loop owns through its headers (X-Run-Id), or that the app checks against them: it would answer 422 every cycle. */
const LINEAGE_KEYS = ['run_id', 'original_run_id', 'correlation_run_id', 'dashboard_id', 'set_id', 'trading_identity'];
/**
 * Fields the app misreads or that defeat it, each with why: refused on every loop. The aliases
 * invite a 422 beside their field; a snapshot goes stale between two cycles.
 */
const MISREAD_KEYS = new Map([
  [
    'open_state_snapshot',
    'open_state_snapshot hands the app a snapshot of open positions and orders instead of its own fresh read; a stale one defeats its open-position filter on a live run',
  ],
  ['cex', 'cex is an alias of exchange: send exchange (two spellings of one field invite a 422)'],
  ['type_contract', 'type_contract is an alias of market_type: send market_type (two spellings of one field invite a 422)'],
]);
/** Fields that switch off one of the app's own safety nets, and the value that does it: refused on a live loop. */
const SAFETY_NET_OFF: Record<string, boolean> = { skip_open_state_filter: true, skip_context: true, process_tp_sl: false };

/** UTF-8 bytes of a text, without Node's Buffer (workflow code imports this file). */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** Why a key of `request_extra` may never be sent this way, or null. */
function refusedExtraKey(key: string): string | null {
  if (SCHEMA_BODY_KEYS.includes(key)) return `${key} is a config key of its own: set ${key} instead`;
  const misread = MISREAD_KEYS.get(key);
  if (misread) return misread;
  if (LINEAGE_KEYS.includes(key) || key.startsWith('orchestration_')) {
    return `${key} is the run's lineage, which the loop owns through its X-Run-Id header; the app would refuse every cycle with 422`;
  }
  return null;
}

function checkRequestExtra(extra: Record<string, unknown>): string | null {
  const refused = Object.keys(extra).map(refusedExtraKey).filter((why) => why !== null);
  if (refused.length > 0) return `must not carry ${refused.join('; ')}`;
  if (Object.keys(extra).some((key) => key.trim() === '')) return 'must not have an empty key';
  const bytes = utf8Bytes(JSON.stringify(extra));
  return bytes > MAX_REQUEST_EXTRA_BYTES ? `must be at most ${MAX_REQUEST_EXTRA_BYTES} bytes of JSON (it is ${bytes})` : null;
}

/** The configuration keys, their types, rules and defaults: the single place a default lives. */
const configShape = {
  mtf_url: httpUrl().default('http://trading-app-nginx:80/api/mtf/run'),
  /** Empty: the app's own active contracts (see allSymbols). */
  symbols: s
    .list(symbol, 'must be a list of symbols', (list) => (new Set(list).size === list.length ? null : 'must not list a symbol twice'))
    .default(['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT']),
  dry_run: flag().default(true),
  force_run: flag().default(false),
  force_timeframe_check: flag().default(false),
  current_tf: s.choice(TIMEFRAMES, `must be one of ${TIMEFRAMES.join(', ')} or null`).nullable().default(null),
  workers: wholeNumber(1, 64).default(1),
  /** The budget of one cycle (call + wait for completion), seconds. */
  max_execution_time: positiveSeconds().default(420),
  /** The pause between two cycles, seconds (`cadence: interval`). */
  ping_interval: positiveSeconds().default(30),
  /** `interval`: pause `ping_interval` after each cycle; `aligned`: start cycles on candle closes (cadence.ts). */
  cadence: s.choice(CADENCES, 'must be "interval" or "aligned"').default('interval'),
  /** `cadence: aligned`: the period, seconds from midnight UTC; it divides a day, so every day has the same beats. */
  align_every: s
    .number('must be a whole number of seconds', s.int('must be a whole number of seconds'), (n) => (n > 0 && SECONDS_PER_DAY % n === 0 ? null : ALIGN_EVERY_RULE))
    .default(60),
  /** `cadence: aligned`: seconds after each boundary, so the candle has closed on the exchange. */
  align_offset: s.number('must be a number of seconds', s.min(0, 'must be at least 0 seconds')).default(2),
  /**
   * `cadence: aligned`: each loop starts at its own point of the next `align_spread` seconds after
   * the offset, from its workflow ID (cadence.ts), so many loops on one period do not queue on one second.
   */
  align_spread: s.number('must be a number of seconds', s.min(0, 'must be at least 0 seconds')).default(0),
  /** The timeout of one activity attempt, seconds. */
  activity_timeout: positiveSeconds().default(120),
  max_attempts: wholeNumber(1, 20).default(3),
  retry_initial_interval: positiveSeconds().default(5),
  retry_backoff: s.number('must be a number', s.min(1, 'must be at least 1')).default(2),
  retry_max_interval: positiveSeconds().default(30),
  /** `auto`: the loop runs by itself; `signal`: each cycle waits for `continue_signal`. */
  continue_mode: s.choice(['auto', 'signal'], 'must be "auto" or "signal"').default('auto'),
  /** In `signal` mode, how long to wait for `continue_signal` before going on anyway; null = forever. */
  continue_timeout: positiveSeconds().nullable().default(null),
  /** How often an accepted (202) run's status is read, seconds. */
  poll_interval: positiveSeconds().default(5),
  /** Template of an accepted run's status URL; `{run_id}` is replaced. null = the run URL's origin + /api/mtf/runs/{run_id}. */
  status_url: httpUrl()
    .refine((value) => (value.includes('{run_id}') ? null : 'must contain {run_id}'))
    .nullable()
    .default(null),
  /**
   * Where `health` (and the health-check activity) reads the app's health. null = the run URL's
   * origin: `/health` (today's app, plain-text OK), then `/api/mtf/health` (the seed-era app).
   */
  health_url: httpUrl().nullable().default(null),
  /** Read the trades each run caused from the app's lineage API (src/activities/lineage.ts); false: not read. */
  lineage: flag().default(true),
  /** The lineage API's search URL; null = the run URL's origin + /api/lineage/v1/search. */
  lineage_url: httpUrl().nullable().default(null),
  /**
   * How long, seconds, a cycle waits after the app's answer for the trades of its READY contracts
   * (they land seconds later); those not there by then are read after the next cycle's answer.
   */
  lineage_wait: s.number('must be a number of seconds', s.min(0, 'must be at least 0 seconds'), s.max(60, 'must be at most 60 seconds')).default(3),
  /** Cycles per workflow run before continue-as-new (earlier if the SDK suggests it). */
  max_cycles_per_run: wholeNumber(1).default(200),
  /** Must be true in the same config for `dry_run: false`: a live run can place real orders. */
  confirm_live: flag().default(false),
  /** Must be true in the same config for a live loop with `symbols: []`: it trades every active contract, present and future. */
  confirm_all_symbols: flag().default(false),
  /**
   * Further fields of the run request's body, sent as they are (`mtf_profile`, `exchange`,
   * `market_type`, `validation_mode`, …): the app's own steering, which the schema does not model.
   */
  request_extra: s.jsonObject('must be a JSON object of request fields, like {"mtf_profile": "scalper"}', checkRequestExtra).default({}),
  /** The app deduplicates on Idempotency-Key, so a live POST may be retried. */
  mtf_idempotent: flag().default(false),
  /**
   * Tell a human on transitions (started, failing, recovered, protection alert, …) through the
   * worker's MTF_NOTIFY_URL (src/workflows/notifier.ts); false: this loop sends none.
   */
  notify: flag().default(true),
};

/** Rules across keys, shared by every schema that carries a config. */
const rulesAcrossKeys: s.CrossRule<s.ShapeOutput<typeof configShape>>[] = [
  {
    uses: ['dry_run', 'confirm_live'],
    blame: 'dry_run',
    check: (c) => (!c.dry_run && !c.confirm_live ? 'false means a live run that can place real orders; it needs confirm_live: true in the same config' : null),
  },
  {
    uses: ['symbols', 'dry_run', 'confirm_all_symbols'],
    blame: 'symbols',
    check: (c) =>
      c.symbols.length === 0 && !c.dry_run && !c.confirm_all_symbols
        ? 'an empty list means every active contract of the app, present and future; a live loop needs confirm_all_symbols: true in the same config'
        : null,
  },
  {
    uses: ['request_extra', 'dry_run'],
    blame: 'request_extra',
    check: (c) => {
      if (c.dry_run) return null;
      const off = Object.entries(SAFETY_NET_OFF).filter(([key, value]) => c.request_extra[key] === value);
      if (off.length === 0) return null;
      const which = off.map(([key, value]) => `${key}: ${String(value)}`).join(', ');
      return `${which} switches off one of the app's own safety nets; a live loop must not send it`;
    },
  },
  {
    uses: ['align_offset', 'align_every'],
    blame: 'align_offset',
    check: (c) => (c.align_offset >= c.align_every ? `must be smaller than align_every (${c.align_every} s)` : null),
  },
  {
    uses: ['align_spread', 'align_offset', 'align_every'],
    blame: 'align_spread',
    check: (c) =>
      c.align_offset + c.align_spread >= c.align_every ? `with align_offset (${c.align_offset} s) must stay smaller than align_every (${c.align_every} s), or a loop would start on the next beat` : null,
  },
  {
    uses: ['retry_max_interval', 'retry_initial_interval'],
    blame: 'retry_max_interval',
    check: (c) => (c.retry_max_interval < c.retry_initial_interval ? 'must not be shorter than retry_initial_interval' : null),
  },
  // No rule ties activity_timeout to max_execution_time: each attempt is cut to what is left of the
  // cycle's budget (workflows/policy.ts), and the original's own test config sets a 60 s budget
  // beside the default 120 s attempt. `status` shows the attempt timeout in force.
];

export const loopConfigSchema = s.object(configShape, { unknownKeys: 'strict', typeMessage: 'expected an object of config keys, like {"ping_interval": 60}', across: rulesAcrossKeys });

/** A loop's configuration with every default filled in. */
export type LoopConfig = s.Output<typeof loopConfigSchema>;
/** What a caller may send: any subset of the keys. */
export type LoopConfigInput = s.Input<typeof loopConfigSchema>;

export const CONFIG_KEYS = Object.keys(configShape) as (keyof LoopConfig)[];

/** What one call attempt may last at most: `activity_timeout`, cut to the cycle's budget. */
export function attemptTimeout(config: Pick<LoopConfig, 'activity_timeout' | 'max_execution_time'>): number {
  return Math.min(config.activity_timeout, config.max_execution_time);
}

// What the workflow writes itself (carried state): its own checks, in its own words.
const count = s.number('must be a number', s.int('must be a whole number'), s.min(0, 'must be at least 0'));
const text = () => s.string('must be a string');
const anyNumber = () => s.number('must be a number');
const wholeOrNull = () => s.number('must be a number', s.int('must be a whole number')).nullable();
const outcome = () => s.choice(OUTCOMES, `must be one of ${OUTCOMES.join(', ')}`);
/**
 * The workflow writes these itself. Keys this version does not know are kept as they are: they
 * come from a newer release (a worker rolled back, or an older worker beside a newer one), and a
 * newer worker that takes the loop over later must find them again.
 */
const keep = { unknownKeys: 'keep' } as const;

export const countersSchema = s.object({
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
  /** `cadence: aligned`: beats that passed without a cycle starting at them (not while paused). Added after the first release. */
  missed_beats: count.default(0),
}, keep);
export type Counters = s.Output<typeof countersSchema>;


const iterationNumber = () => s.number('must be a number', s.int('must be a whole number'), s.min(1, 'must be at least 1'));
const seconds = () => s.number('must be a number', s.min(0, 'must be at least 0'));

export const cycleRecordSchema = s.object({
  iteration: iterationNumber(),
  outcome: outcome(),
  mtf_run_id: text().nullable(),
  started_at: text(),
  finished_at: text(),
  /** Wall time of call + wait for completion, seconds (workflow time). */
  cycle_seconds: seconds(),
  /** The run's own `execution_time_seconds`, when the app reported it. */
  mtf_execution_seconds: anyNumber().nullable(),
  symbols_requested: wholeOrNull(),
  symbols_successful: wholeOrNull(),
  /** The app's own `success_rate`, kept under its original name: today it is the ready share (see ready_share). */
  success_rate: anyNumber().nullable(),
  message: text().nullable(),
  // From here on, keys added after the first release: each has the default an older record reads as.
  /**
   * The share of contracts the run found READY, percent: the app's `success_rate`, under a name
   * that does not read as an outage (2 % is a normal day).
   */
  ready_share: anyNumber().nullable().default(null),
  /** `data.errors`' count; null when no answer said. */
  errors: wholeOrNull().default(null),
  /**
   * The `X-Run-Id` the cycle's POST carried (`mtfpp.<h>.<iteration>`, src/lib/run-id.ts); null
   * when the call failed, or was recorded before it was sent. `mtf_run_id` is the app's own id.
   */
  x_run_id: text().nullable().default(null),
  /** `cadence: aligned`: the beats missed since the cycle before this one started. */
  missed_beats: count.default(0),
  /**
   * The run's own status word as the app gave it, lower-case (`success`, `partial_failure`,
   * `completed_with_errors` …): the outcome follows what happened to the contracts, the word is kept.
   */
  app_status: text().nullable().default(null),
  ...findingsShape,
  /** The trades the run caused, from the app's lineage API (shared/trades.ts); null in records written before they were read. */
  trades: tradesSchema.nullable().default(null),
}, keep);
export type CycleRecord = s.Output<typeof cycleRecordSchema>;

/** One point of the recent-cycles window that the dashboard plots: small, so the window is cheap to carry. */
export const cyclePointSchema = s.object({
  iteration: iterationNumber(),
  outcome: outcome(),
  finished_at: text(),
  cycle_seconds: seconds(),
  /** READY contracts; null when the answer did not say (and in points written before this key). */
  ready: wholeOrNull().default(null),
  orders: orderCountsSchema.nullable().default(null),
  protection_alert: s.boolean('must be true or false').default(false),
  /** The cycle's trades, at most POINT_TRADES of them named; late trades are attached here (shared/trades.ts). */
  trades: tradesSchema.nullable().default(null),
}, keep);
export type CyclePoint = s.Output<typeof cyclePointSchema>;

/** A pause: asked for by the `pause` update, in force from `since` (null while the cycle it waits for runs). */
export const pauseSchema = s.object({
  reason: text().nullable(),
  requested_at: text(),
  since: text().nullable(),
}, keep);
export type Pause = s.Output<typeof pauseSchema>;

/**
 * What one workflow run hands to the next through continue-as-new, so numbering never restarts.
 * Unknown keys (here and in its parts) are kept, not refused: see `keep` above.
 */
export const carriedStateSchema = s.object({
  iteration: count,
  counters: countersSchema,
  last_cycle: cycleRecordSchema.nullable(),
  last_error: text().nullable(),
  continue_pending: s.boolean('must be true or false'),
  started_at: text(),
  /** Absent in runs started before the window existed. */
  recent_cycles: s.list(cyclePointSchema, 'must be a list').default([]),
  /** A pause asked for or in force (absent in runs of releases before pause). */
  pause: pauseSchema.nullable().default(null),
  /** Beats missed since the last cycle started, for the next cycle's record. */
  missed_beats_unrecorded: count.default(0),
  /** What the loop's notifications did, and those still to send (absent before notifications). */
  notifications: notificationsStateSchema.default(noNotifications()),
  /** The app answered that it has no lineage API: the loop stops asking until its config changes. */
  lineage_absent: s.boolean('must be true or false').default(false),
}, keep);
export type CarriedState = s.Output<typeof carriedStateSchema>;
/** Carried state as a run may receive it: written by this release or an older one (keys added since are optional). */
export type CarriedStateInput = s.Input<typeof carriedStateSchema>;

/** The workflow's single argument: a config (as the original sends it) plus, after continue-as-new, its state. */
export const workflowInputSchema = loopConfigSchema.extend({ carried_state: carriedStateSchema.optional() });
export type WorkflowInput = s.Input<typeof workflowInputSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** One readable line per problem, each naming the key and the rule. */
export function describeIssues(issues: readonly s.Issue[]): string {
  return issues
    .map((issue) => {
      if (issue.unknownKeys) {
        const keys = issue.unknownKeys;
        return `${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''} (known keys: ${CONFIG_KEYS.join(', ')})`;
      }
      const key = issue.path.length > 0 ? issue.path.join('.') : 'config';
      return `${key}: ${issue.message}`;
    })
    .join('; ');
}

function parseWith<T>(schema: s.Schema<T, unknown>, input: unknown): T {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(`invalid config: ${describeIssues(result.issues)}`);
  return result.data;
}

/** Parses a loop configuration, filling defaults; throws a {@link ConfigError} naming every bad key. */
export function parseLoopConfig(input: unknown): LoopConfig {
  return parseWith(loopConfigSchema, input);
}

/** Parses the workflow's argument (config + optional carried state); unknown config keys are refused, naming them. */
export function parseWorkflowInput(input: unknown): s.Output<typeof workflowInputSchema> {
  return parseWith(workflowInputSchema, input);
}

/**
 * A continued run's argument was written by a loop of this release or a newer one: config keys
 * this version does not know are set aside (and handed on at the next continue-as-new), never a
 * reason to kill the loop. A fresh start does not come through here: it still refuses them.
 */
export function setAsideUnknownConfig(input: unknown): { known: unknown; unknown_config: Record<string, unknown> } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { known: input, unknown_config: {} };
  const entries = Object.entries(input as Record<string, unknown>);
  const isKnown = (key: string) => key === 'carried_state' || (CONFIG_KEYS as string[]).includes(key);
  return {
    known: Object.fromEntries(entries.filter(([key]) => isKnown(key))),
    unknown_config: Object.fromEntries(entries.filter(([key]) => !isKnown(key))),
  };
}

/** The carried state's keys this version does not know (kept as they are), for one log line. */
export function unknownCarriedKeys(carried: CarriedState | undefined): string[] {
  if (!carried) return [];
  const counters = carried.counters as Record<string, unknown>;
  return [
    ...carriedStateSchema.unknownKeysOf(carried as Record<string, unknown>).map((key) => `carried_state.${key}`),
    ...countersSchema.unknownKeysOf(counters).map((key) => `carried_state.counters.${key}`),
  ];
}

/**
 * The config keys of the first release whose continued runs tolerate unknown keys. A key added
 * after it is sent by the client only when it differs from its default ({@link wireConfig}), so
 * a newer client starting a loop on an older worker of this line does not get it refused.
 */
const TOLERANT_RELEASE_KEYS: readonly string[] = [
  'mtf_url', 'symbols', 'dry_run', 'force_run', 'force_timeframe_check', 'current_tf', 'workers',
  'max_execution_time', 'ping_interval', 'activity_timeout', 'max_attempts', 'retry_initial_interval',
  'retry_backoff', 'retry_max_interval', 'continue_mode', 'continue_timeout', 'poll_interval',
  'status_url', 'max_cycles_per_run', 'confirm_live', 'mtf_idempotent',
];

/** A start's config as the client sends it: whole, defaults included, except later keys left at their default. */
export function wireConfig(config: LoopConfig, releaseKeys: readonly string[] = TOLERANT_RELEASE_KEYS): Partial<LoopConfig> {
  const defaults = parseLoopConfig({});
  return Object.fromEntries(
    Object.entries(config).filter(([key, value]) => releaseKeys.includes(key) || JSON.stringify(value) !== JSON.stringify(defaults[key as keyof LoopConfig])),
  ) as Partial<LoopConfig>;
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
  const liveOnAll = (c: LoopConfig) => !c.dry_run && allSymbols(c);
  if (!liveOnAll(current) && liveOnAll(next) && (patch as ConfigPatch).confirm_all_symbols !== true) {
    throw new ConfigError(
      'invalid config: symbols: a live loop on every active contract of the app (symbols: []) needs confirm_all_symbols: true in the same update',
    );
  }
  return next;
}

/** `path` on the run URL's origin (scheme and authority), without `URL`: workflow code imports this file. */
function onRunOrigin(config: Pick<LoopConfig, 'mtf_url'>, path: string): string {
  const match = URL_PATTERN.exec(config.mtf_url);
  return `${match?.[1] ?? 'http'}://${match?.[2] ?? ''}${path}`;
}

/** Where a run's trades are read: `lineage_url`, or the run URL's origin + /api/lineage/v1/search. */
export function lineageUrl(config: Pick<LoopConfig, 'mtf_url' | 'lineage_url'>): string {
  return config.lineage_url ?? onRunOrigin(config, '/api/lineage/v1/search');
}

/** The status URL template an accepted run falls back on: the run URL's origin + /api/mtf/runs/{run_id}. */
export function statusUrlTemplate(config: Pick<LoopConfig, 'mtf_url' | 'status_url'>): string {
  return config.status_url ?? onRunOrigin(config, '/api/mtf/runs/{run_id}');
}
