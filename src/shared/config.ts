/**
 * The one schema for a loop's configuration. The client checks it before a start, the workflow
 * checks its input with it (so the stock `temporal` CLI and the original Python client hit the
 * same wall), and every later entry point (CLI flags, env, files, `update_config`) goes through it.
 *
 * Keys are snake_case, as the original Python service sends them; defaults are the seed's.
 * Imported by workflow code: no Node built-ins, no `URL`, nothing that reads the environment.
 */
import { ALIGN_EVERY_RULE, CADENCES, SECONDS_PER_DAY } from './cadence';
import { SAFETY_NET_OFF, checkRequestExtra } from './request-body';
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
/**
 * checkHttpUrl's rule, and the same rule as one JSON Schema pattern for editors (ECMA-262, no flags;
 * `\s` is the same set in both), condition by condition. The unit test holds the two to the same answers.
 */
const HTTP_URL = s.check(checkHttpUrl, 'must be an http:// or https:// URL that names a host, with no spaces and no user:password@', {
  pattern:
    '^[Hh][Tt][Tt][Pp][Ss]?://[^\\s\\u0000-\\u001f\\u007f/?#@:][^\\s\\u0000-\\u001f\\u007f/?#@]*([/?#][^\\s\\u0000-\\u001f\\u007f]*)?$',
});
const httpUrl = () => s.string('must be a URL string', HTTP_URL);

/**
 * A fleet's or a group's name: it goes into a search attribute and a visibility query as it is,
 * so it holds no quote, space or operator (nothing ever needs escaping).
 */
export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const LABEL_RULE = 'must be 1-63 letters, digits, dots, dashes or underscores, starting with a letter or digit, like bitmart-prod';
export const label = () => s.string(LABEL_RULE, s.matches(LABEL_PATTERN, LABEL_RULE));

const symbol = s.string(
  'each symbol must be a string',
  s.matches(/^[A-Z0-9]{2,30}$/, 'each symbol must be 2-30 upper-case letters or digits, like BTCUSDT'),
);

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

/** A live loop on every active contract of the app, present and future: what confirm_all_symbols confirms. */
export function liveOnAll(config: Pick<LoopConfig, 'dry_run' | 'symbols'>): boolean {
  return !config.dry_run && allSymbols(config);
}

/** The symbols as people read them. */
export function symbolsText(config: Pick<LoopConfig, 'symbols'>, separator = ','): string {
  return allSymbols(config) ? "all active contracts (the app's own list)" : config.symbols.join(separator);
}

const SYMBOL_TWICE = 'must not list a symbol twice';
const RUN_ID_IN_URL = 'must contain {run_id}';

/** The configuration keys, their types, rules and defaults: the single place a default lives. */
const configShape = {
  mtf_url: httpUrl().default('http://trading-app-nginx:80/api/mtf/run'),
  /** Empty: the app's own active contracts (see allSymbols). */
  symbols: s
    .list(
      symbol,
      'must be a list of symbols',
      s.check((list) => (new Set(list).size === list.length ? null : SYMBOL_TWICE), SYMBOL_TWICE, { uniqueItems: true }),
    )
    .default(['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT']),
  dry_run: flag().default(true),
  force_run: flag().default(false),
  force_timeframe_check: flag().default(false),
  current_tf: s
    .choice(TIMEFRAMES, `must be one of ${TIMEFRAMES.join(', ')} or null`)
    .nullable()
    .default(null),
  workers: wholeNumber(1, 64).default(1),
  /** The budget of one cycle (call + wait for completion), seconds. */
  max_execution_time: positiveSeconds().default(420),
  /** The pause between two cycles, seconds (`cadence: interval`). */
  ping_interval: positiveSeconds().default(30),
  /** `interval`: pause `ping_interval` after each cycle; `aligned`: start cycles on candle closes (cadence.ts). */
  cadence: s.choice(CADENCES, 'must be "interval" or "aligned"').default('interval'),
  /** `cadence: aligned`: the period, seconds from midnight UTC; it divides a day, so every day has the same beats. */
  align_every: s
    .number(
      'must be a whole number of seconds',
      s.int('must be a whole number of seconds'),
      // JSON Schema can bound it, not say "divides a day": the rest is in the words.
      s.check((n) => (n > 0 && SECONDS_PER_DAY % n === 0 ? null : ALIGN_EVERY_RULE), ALIGN_EVERY_RULE, {
        exclusiveMinimum: 0,
        maximum: SECONDS_PER_DAY,
      }),
    )
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
    .refine(s.check((value) => (value.includes('{run_id}') ? null : RUN_ID_IN_URL), RUN_ID_IN_URL, { pattern: '\\{run_id\\}' }))
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
  lineage_wait: s
    .number('must be a number of seconds', s.min(0, 'must be at least 0 seconds'), s.max(60, 'must be at most 60 seconds'))
    .default(3),
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
  /**
   * The fleet file that manages this loop (`mtf-ping-pong apply` stamps it; src/fleet/); null: a
   * loop started by hand. A label: it changes nothing the loop does, and applies at once.
   */
  fleet: label().nullable().default(null),
  /** A label for steering several loops at once (`pause --group`, the dashboard's groups); applies at once. */
  group: label().nullable().default(null),
};

/** The config keys that only label a loop: an update applies them at once (search attributes, metrics), not from the next cycle. */
export const LABEL_KEYS = ['fleet', 'group'] as const;

const LIVE_NEEDS_CONFIRM = 'false means a live run that can place real orders; it needs confirm_live: true in the same config';
const fieldsText = (fields: [string, boolean][]) => fields.map(([key, value]) => `${key}: ${String(value)}`).join(', ');
const RETRY_MAX_RULE = 'must not be shorter than retry_initial_interval';
const ALL_SYMBOLS_LIVE =
  'an empty list means every active contract of the app, present and future; a live loop needs confirm_all_symbols: true in the same config';

/** Rules across keys, shared by every schema that carries a config; `rule` says each in words where its message names values. */
const rulesAcrossKeys: s.CrossRule<s.ShapeOutput<typeof configShape>>[] = [
  {
    uses: ['dry_run', 'confirm_live'],
    blame: 'dry_run',
    rule: LIVE_NEEDS_CONFIRM,
    check: (c) => (!c.dry_run && !c.confirm_live ? LIVE_NEEDS_CONFIRM : null),
  },
  {
    uses: ['symbols', 'dry_run', 'confirm_all_symbols'],
    blame: 'symbols',
    rule: ALL_SYMBOLS_LIVE,
    check: (c) => (c.symbols.length === 0 && !c.dry_run && !c.confirm_all_symbols ? ALL_SYMBOLS_LIVE : null),
  },
  {
    uses: ['request_extra', 'dry_run'],
    blame: 'request_extra',
    rule: `a live loop must not send a field that switches off one of the app's own safety nets (${fieldsText(Object.entries(SAFETY_NET_OFF))})`,
    check: (c) => {
      if (c.dry_run) return null;
      const off = Object.entries(SAFETY_NET_OFF).filter(([key, value]) => c.request_extra[key] === value);
      if (off.length === 0) return null;
      return `${fieldsText(off)} switches off one of the app's own safety nets; a live loop must not send it`;
    },
  },
  {
    uses: ['align_offset', 'align_every'],
    blame: 'align_offset',
    rule: 'must be smaller than align_every',
    check: (c) => (c.align_offset >= c.align_every ? `must be smaller than align_every (${c.align_every} s)` : null),
  },
  {
    uses: ['align_spread', 'align_offset', 'align_every'],
    blame: 'align_spread',
    rule: 'with align_offset must stay smaller than align_every, or a loop would start on the next beat',
    check: (c) =>
      c.align_offset + c.align_spread >= c.align_every
        ? `with align_offset (${c.align_offset} s) must stay smaller than align_every (${c.align_every} s), or a loop would start on the next beat`
        : null,
  },
  {
    uses: ['retry_max_interval', 'retry_initial_interval'],
    blame: 'retry_max_interval',
    rule: RETRY_MAX_RULE,
    check: (c) => (c.retry_max_interval < c.retry_initial_interval ? RETRY_MAX_RULE : null),
  },
  // No rule ties activity_timeout to max_execution_time: each attempt is cut to what is left of the
  // cycle's budget (workflows/policy.ts), and the original's own test config sets a 60 s budget
  // beside the default 120 s attempt. `status` shows the attempt timeout in force.
];

export const loopConfigSchema = s.object(configShape, {
  unknownKeys: 'strict',
  typeMessage: 'expected an object of config keys, like {"ping_interval": 60}',
  across: rulesAcrossKeys,
});

/** A loop's configuration with every default filled in. */
export type LoopConfig = s.Output<typeof loopConfigSchema>;
/** What a caller may send: any subset of the keys. */
export type LoopConfigInput = s.Input<typeof loopConfigSchema>;

export const CONFIG_KEYS = Object.keys(configShape) as (keyof LoopConfig)[];

/** What one call attempt may last at most: `activity_timeout`, cut to the cycle's budget. */
export function attemptTimeout(config: Pick<LoopConfig, 'activity_timeout' | 'max_execution_time'>): number {
  return Math.min(config.activity_timeout, config.max_execution_time);
}

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

export function parseWith<T>(schema: s.Schema<T, unknown>, input: unknown): T {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(`invalid config: ${describeIssues(result.issues)}`);
  return result.data;
}

/** Parses a loop configuration, filling defaults; throws a {@link ConfigError} naming every bad key. */
export function parseLoopConfig(input: unknown): LoopConfig {
  return parseWith(loopConfigSchema, input);
}

/**
 * The config keys of the first release whose continued runs tolerate unknown keys. A key added
 * after it is sent by the client only when it differs from its default ({@link wireConfig}), so
 * a newer client starting a loop on an older worker of this line does not get it refused.
 */
const TOLERANT_RELEASE_KEYS: readonly string[] = [
  'mtf_url',
  'symbols',
  'dry_run',
  'force_run',
  'force_timeframe_check',
  'current_tf',
  'workers',
  'max_execution_time',
  'ping_interval',
  'activity_timeout',
  'max_attempts',
  'retry_initial_interval',
  'retry_backoff',
  'retry_max_interval',
  'continue_mode',
  'continue_timeout',
  'poll_interval',
  'status_url',
  'max_cycles_per_run',
  'confirm_live',
  'mtf_idempotent',
];

/** A start's config as the client sends it: whole, defaults included, except later keys left at their default. */
export function wireConfig(config: LoopConfig, releaseKeys: readonly string[] = TOLERANT_RELEASE_KEYS): Partial<LoopConfig> {
  const defaults = parseLoopConfig({});
  return Object.fromEntries(
    Object.entries(config).filter(
      ([key, value]) => releaseKeys.includes(key) || JSON.stringify(value) !== JSON.stringify(defaults[key as keyof LoopConfig]),
    ),
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
