import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONFIG_KEYS,
  attemptTimeout,
  ConfigError,
  parseConfigUpdate,
  parseLoopConfig,
  statusUrlTemplate,
  wireConfig,
} from '../../src/shared/config';
import { parseWorkflowInput, setAsideUnknownConfig, unknownCarriedKeys } from '../../src/shared/carried-state';
import { runRequestBody } from '../../src/shared/mtf';
import type { LoopConfig } from '../../src/shared/config';
import type { CarriedStateInput } from '../../src/shared/carried-state';
import { attemptLine } from '../../src/cli/format';

const DEFAULT_URL = 'http://trading-app-nginx:80/api/mtf/run';
const DEFAULT_SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'ADAUSDT', 'SOLUSDT', 'DOTUSDT'];

/** The seed's defaults, spelled out once: a new key or a changed default must fail a test. */
const SEED_DEFAULTS: LoopConfig = {
  mtf_url: DEFAULT_URL,
  symbols: DEFAULT_SYMBOLS,
  dry_run: true,
  force_run: false,
  force_timeframe_check: false,
  current_tf: null,
  workers: 1,
  max_execution_time: 420,
  ping_interval: 30,
  cadence: 'interval',
  align_every: 60,
  align_offset: 2,
  align_spread: 0,
  activity_timeout: 120,
  max_attempts: 3,
  retry_initial_interval: 5,
  retry_backoff: 2,
  retry_max_interval: 30,
  continue_mode: 'auto',
  continue_timeout: null,
  poll_interval: 5,
  status_url: null,
  health_url: null,
  lineage: true,
  lineage_url: null,
  lineage_wait: 3,
  max_cycles_per_run: 200,
  confirm_live: false,
  confirm_all_symbols: false,
  request_extra: {},
  mtf_idempotent: false,
  notify: true,
  fleet: null,
  group: null,
};

/** Exactly what the original Python client (start_workflow.py) sends to start a loop. */
const PYTHON_CLIENT_CONFIG = {
  mtf_url: DEFAULT_URL,
  symbols: DEFAULT_SYMBOLS,
  dry_run: true,
  force_run: false,
  max_execution_time: 420,
  ping_interval: 30,
};

/** Asserts that `parse(input)` throws a ConfigError whose message matches every pattern. */
function assertRejected(input: unknown, patterns: RegExp | RegExp[], parse: (input: unknown) => unknown = parseLoopConfig): ConfigError {
  let caught: unknown;
  try {
    parse(input);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected ${JSON.stringify(input)} to be rejected, but it was accepted`);
  assert.ok(
    caught instanceof ConfigError,
    `expected a ConfigError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : typeof caught}`,
  );
  assert.equal(caught.name, 'ConfigError');
  assert.match(caught.message, /^invalid config: /);
  for (const pattern of Array.isArray(patterns) ? patterns : [patterns]) assert.match(caught.message, pattern);
  return caught;
}

/** A table of rejections: one test per row, each naming the key and the rule. */
function rejects(rows: [name: string, input: Record<string, unknown>, pattern: RegExp][]): void {
  for (const [name, input, pattern] of rows)
    void test(name, () => {
      assertRejected(input, pattern);
    });
}

/** A last cycle as releases before the findings wrote it. */
const LAST_CYCLE_BEFORE_FINDINGS = {
  iteration: 7,
  outcome: 'succeeded',
  mtf_run_id: 'run-1',
  started_at: '2024-01-01T00:06:00.000Z',
  finished_at: '2024-01-01T00:06:42.000Z',
  cycle_seconds: 42,
  mtf_execution_seconds: 40.5,
  symbols_requested: 5,
  symbols_successful: 4,
  success_rate: 80,
  message: null,
} as const;

function freshState(overrides: Partial<CarriedStateInput> = {}): CarriedStateInput {
  return {
    iteration: 7,
    counters: {
      cycles: 7,
      succeeded: 5,
      partial: 1,
      failed: 1,
      skipped: 0,
      timed_out: 0,
      consecutive_failures: 1,
      continue_timeouts: 0,
      symbols_requested: 35,
      symbols_successful: 30,
      missed_beats: 0,
    },
    last_cycle: null,
    last_error: null,
    continue_pending: false,
    started_at: '2024-01-01T00:00:00.000Z',
    recent_cycles: [
      {
        iteration: 7,
        outcome: 'failed',
        finished_at: '2024-01-01T00:07:00.000Z',
        cycle_seconds: 1.5,
        ready: null,
        orders: null,
        protection_alert: false,
        trades: null,
      },
    ],
    pause: null,
    missed_beats_unrecorded: 0,
    notifications: { sent: 0, failed: 0, no_endpoint: 0, last_failure: null, pause_said: null, queued: [] },
    lineage_absent: false,
    ...overrides,
  };
}

void describe('defaults', () => {
  void test('an empty config gives the seed defaults exactly', () => {
    assert.deepEqual(parseLoopConfig({}), SEED_DEFAULTS);
  });

  void test('no config at all (undefined or null) gives the seed defaults exactly', () => {
    assert.deepEqual(parseLoopConfig(undefined), SEED_DEFAULTS);
    assert.deepEqual(parseLoopConfig(null), SEED_DEFAULTS);
  });

  void test('a key sent as undefined takes its default', () => {
    assert.deepEqual(parseLoopConfig({ ping_interval: undefined, symbols: undefined }), SEED_DEFAULTS);
  });

  void test('CONFIG_KEYS lists exactly the keys of the defaults', () => {
    assert.deepEqual([...CONFIG_KEYS].sort(), Object.keys(SEED_DEFAULTS).sort());
  });

  void test('changing the symbols of one parsed config does not change the default of the next', () => {
    const first = parseLoopConfig({});
    first.symbols.push('XRPUSDT');
    assert.deepEqual(parseLoopConfig({}).symbols, DEFAULT_SYMBOLS);
  });

  void test('a partial config keeps what it sets and fills the rest with defaults', () => {
    assert.deepEqual(parseLoopConfig({ symbols: ['BTCUSDT'], ping_interval: 10 }), {
      ...SEED_DEFAULTS,
      symbols: ['BTCUSDT'],
      ping_interval: 10,
    });
  });
});

void describe('the original Python client', () => {
  void test('its six keys, as it sends them, are accepted and kept', () => {
    const config = parseLoopConfig(PYTHON_CLIENT_CONFIG);
    assert.deepEqual(config, { ...SEED_DEFAULTS, ...PYTHON_CLIENT_CONFIG });
  });

  void test('its six keys survive a JSON round trip (as they cross Temporal)', () => {
    const config = parseLoopConfig(JSON.parse(JSON.stringify(PYTHON_CLIENT_CONFIG)));
    assert.deepEqual(config, { ...SEED_DEFAULTS, ...PYTHON_CLIENT_CONFIG });
  });

  void test('its six keys are accepted as a workflow input too', () => {
    assert.deepEqual(parseWorkflowInput(PYTHON_CLIENT_CONFIG), { ...SEED_DEFAULTS, ...PYTHON_CLIENT_CONFIG });
  });
});

void describe('accepted values', () => {
  void test('every optional key can be set to a valid value', () => {
    const input: LoopConfig = {
      mtf_url: 'https://app.example.com:8443/api/mtf/run',
      symbols: ['BTCUSDT', '1INCHUSDT'],
      dry_run: false,
      force_run: true,
      force_timeframe_check: true,
      current_tf: '15m',
      workers: 4,
      max_execution_time: 600,
      ping_interval: 0.5,
      cadence: 'aligned',
      align_every: 900,
      align_offset: 5.5,
      align_spread: 60,
      activity_timeout: 600,
      max_attempts: 1,
      retry_initial_interval: 1,
      retry_backoff: 1,
      retry_max_interval: 1,
      continue_mode: 'signal',
      continue_timeout: 3600,
      poll_interval: 2,
      status_url: 'https://app.example.com/api/mtf/runs/{run_id}/status',
      health_url: 'https://app.example.com/health',
      lineage: false,
      lineage_url: 'https://app.example.com/api/lineage/v1/search',
      lineage_wait: 0,
      max_cycles_per_run: 1,
      confirm_live: true,
      confirm_all_symbols: true,
      request_extra: { mtf_profile: 'scalper', exchange: 'bitmart', sync_tables: false, limits: [1, 2], nested: { a: null } },
      mtf_idempotent: true,
      notify: false,
      fleet: 'bitmart-prod',
      group: 'bitmart_1.scalper',
    };
    assert.deepEqual(parseLoopConfig(input), input);
  });

  for (const tf of ['4h', '1h', '15m', '5m', '1m'] as const) {
    void test(`current_tf ${tf} is accepted`, () => {
      assert.equal(parseLoopConfig({ current_tf: tf }).current_tf, tf);
    });
  }

  void test('null is accepted where null is the default', () => {
    assert.deepEqual(parseLoopConfig({ current_tf: null, continue_timeout: null, status_url: null }), SEED_DEFAULTS);
  });

  void test('an upper-case scheme and an IPv6 host are accepted', () => {
    assert.equal(parseLoopConfig({ mtf_url: 'HTTPS://[::1]:8080/api/mtf/run' }).mtf_url, 'HTTPS://[::1]:8080/api/mtf/run');
  });

  void test('an @ in the query string is not mistaken for credentials', () => {
    assert.equal(
      parseLoopConfig({ mtf_url: 'http://host/api/mtf/run?by=ops@example.com' }).mtf_url,
      'http://host/api/mtf/run?by=ops@example.com',
    );
  });

  void test('the cross-key limits are inclusive', () => {
    const config = parseLoopConfig({ activity_timeout: 420, retry_initial_interval: 30 });
    assert.equal(config.activity_timeout, config.max_execution_time);
    assert.equal(config.retry_max_interval, config.retry_initial_interval);
  });
});

void describe('rejected: the whole config', () => {
  void test('a config that is not an object is rejected', () => {
    assertRejected([], /config: expected an object of config keys/);
    assertRejected('dry_run=false', /config: expected an object of config keys/);
    assertRejected(42, /config: expected an object of config keys/);
  });

  void test('an unknown key is named and the known keys are listed', () => {
    const error = assertRejected({ pingInterval: 10 }, /pingInterval: unknown key \(known keys: /);
    for (const key of CONFIG_KEYS) assert.ok(error.message.includes(key), `known keys should list ${key}`);
  });

  void test('several unknown keys are all named', () => {
    assertRejected({ foo: 1, bar: 2 }, /foo, bar: unknown keys/);
  });

  void test('a key in the wrong case is unknown', () => {
    assertRejected({ DRY_RUN: true }, /DRY_RUN: unknown key/);
  });
});

void describe('rejected: wrong types', () => {
  rejects([
    ["dry_run as the string 'false'", { dry_run: 'false' }, /dry_run: must be true or false/],
    ['dry_run as 0', { dry_run: 0 }, /dry_run: must be true or false/],
    ["force_run as the string 'true'", { force_run: 'true' }, /force_run: must be true or false/],
    ['force_timeframe_check as a string', { force_timeframe_check: 'yes' }, /force_timeframe_check: must be true or false/],
    ['confirm_live as a string', { confirm_live: 'true' }, /confirm_live: must be true or false/],
    ['mtf_idempotent as null', { mtf_idempotent: null }, /mtf_idempotent: must be true or false/],
    ["ping_interval as the string '30'", { ping_interval: '30' }, /ping_interval: must be a number of seconds/],
    ["max_execution_time as the string '420'", { max_execution_time: '420' }, /max_execution_time: .*must be a number of seconds/],
    ['ping_interval as NaN', { ping_interval: NaN }, /ping_interval: .*must be a number of seconds/],
    ['ping_interval as Infinity', { ping_interval: Infinity }, /ping_interval: .*must be a number of seconds/],
    ['ping_interval as null', { ping_interval: null }, /ping_interval: .*must be a number of seconds/],
    ["workers as the string '2'", { workers: '2' }, /workers: must be a whole number/],
    ["max_attempts as the string '3'", { max_attempts: '3' }, /max_attempts: must be a whole number/],
    ["retry_backoff as the string '2'", { retry_backoff: '2' }, /retry_backoff: must be a number/],
    ['mtf_url as a number', { mtf_url: 80 }, /mtf_url: must be a URL string/],
    ['symbols as one string', { symbols: 'BTCUSDT' }, /symbols: must be a list of symbols/],
    ['symbols as a comma-separated string', { symbols: 'BTCUSDT,ETHUSDT' }, /symbols: must be a list of symbols/],
    ['a symbol as a number', { symbols: [42] }, /symbols\.0: each symbol must be a string/],
  ]);
});

void describe('rejected: symbols', () => {
  rejects([
    ['a lower-case symbol', { symbols: ['BTCUSDT', 'ethusdt'] }, /symbols\.1: each symbol must be 2-30 upper-case letters or digits/],
    ['a symbol with a slash', { symbols: ['BTC/USDT'] }, /symbols\.0: each symbol must be 2-30 upper-case letters or digits/],
    ['a symbol with a space', { symbols: ['BTC USDT'] }, /symbols\.0: each symbol must be 2-30 upper-case letters or digits/],
    ['an empty symbol', { symbols: [''] }, /symbols\.0: each symbol must be 2-30 upper-case letters or digits/],
    ['a one-letter symbol', { symbols: ['B'] }, /symbols\.0: each symbol must be 2-30 upper-case letters or digits/],
    ['a 31-character symbol', { symbols: ['A'.repeat(31)] }, /symbols\.0: each symbol must be 2-30 upper-case letters or digits/],
    ['a duplicated symbol', { symbols: ['BTCUSDT', 'ETHUSDT', 'BTCUSDT'] }, /symbols: must not list a symbol twice/],
  ]);
});

void describe('all active contracts (symbols: [])', () => {
  void test('an empty list is accepted: the app runs its own active contracts', () => {
    assert.deepEqual(parseLoopConfig({ symbols: [] }).symbols, []);
  });

  void test('a live loop on every active contract needs confirm_all_symbols: true in the same config', () => {
    assertRejected(
      { symbols: [], dry_run: false, confirm_live: true },
      /symbols: an empty list means every active contract of the app, present and future; a live loop needs confirm_all_symbols: true in the same config/,
    );
    const confirmed = parseLoopConfig({ symbols: [], dry_run: false, confirm_live: true, confirm_all_symbols: true });
    assert.equal(confirmed.confirm_all_symbols, true);
    assert.equal(
      parseLoopConfig({ symbols: ['BTCUSDT'], dry_run: false, confirm_live: true }).confirm_all_symbols,
      false,
      'a listed live loop needs no such word',
    );
  });

  void test('update_config: going live on every contract, or every contract while live, needs confirm_all_symbols: true in the update itself', () => {
    const dryAll = parseLoopConfig({ symbols: [] });
    const liveListed = parseLoopConfig({ dry_run: false, confirm_live: true });
    const refused =
      /symbols: a live loop on every active contract of the app \(symbols: \[\]\) needs confirm_all_symbols: true in the same update/;
    assert.throws(() => parseConfigUpdate(dryAll, { dry_run: false, confirm_live: true }), /confirm_all_symbols: true in the same config/);
    assert.throws(() => parseConfigUpdate(liveListed, { symbols: [] }), /confirm_all_symbols: true in the same config/);
    // A confirmation left over from long ago does not count: the update must say it again.
    const confirmedBefore = parseLoopConfig({ symbols: ['BTCUSDT'], dry_run: false, confirm_live: true, confirm_all_symbols: true });
    assert.throws(() => parseConfigUpdate(confirmedBefore, { symbols: [] }), refused);
    assert.deepEqual(parseConfigUpdate(liveListed, { symbols: [], confirm_all_symbols: true }).symbols, []);
    const liveAll = parseConfigUpdate(liveListed, { symbols: [], confirm_all_symbols: true });
    assert.equal(
      parseConfigUpdate(liveAll, { ping_interval: 60 }).ping_interval,
      60,
      'an unrelated update of a confirmed loop goes through',
    );
  });
});

void describe("request_extra: the app's other request fields", () => {
  void test("sent beside the seed's fields, as they are", () => {
    const config = parseLoopConfig({ request_extra: { mtf_profile: 'scalper', market_type: 'perpetual', process_tp_sl: true } });
    const body = runRequestBody(config);
    assert.equal(body.mtf_profile, 'scalper');
    assert.equal(body.market_type, 'perpetual');
    assert.deepEqual(body.symbols, config.symbols);
    assert.deepEqual(runRequestBody(parseLoopConfig({})), {
      symbols: config.symbols,
      dry_run: true,
      force_run: false,
      force_timeframe_check: false,
      current_tf: null,
      workers: 1,
    });
  });

  rejects([
    ['not an object', { request_extra: ['mtf_profile'] }, /request_extra: must be a JSON object of request fields/],
    [
      'a key the schema owns',
      { request_extra: { workers: 4 } },
      /request_extra: must not carry workers is a config key of its own: set workers instead/,
    ],
    [
      'two keys the schema owns',
      { request_extra: { symbols: [], dry_run: false } },
      /symbols is a config key of its own.*; dry_run is a config key of its own/,
    ],
    [
      'a lineage key',
      { request_extra: { run_id: 'x' } },
      /run_id is the run's lineage, which the loop owns through its X-Run-Id header; the app would refuse every cycle with 422/,
    ],
    ['an orchestration_* key', { request_extra: { orchestration_set_id: 'x' } }, /orchestration_set_id is the run's lineage/],
    ...['original_run_id', 'correlation_run_id', 'dashboard_id', 'set_id', 'trading_identity', 'orchestration_dashboard_id'].map(
      (key): [string, Record<string, unknown>, RegExp] => [
        `the lineage key ${key}`,
        { request_extra: { [key]: 'x' } },
        new RegExp(`${key} is the run's lineage`),
      ],
    ),
    ['over 4 KiB', { request_extra: { note: 'x'.repeat(4100) } }, /request_extra: must be at most 4096 bytes of JSON \(it is 4111\)/],
    // 2,056 characters, 4,101 bytes: the limit counts bytes.
    ['over 4 KiB in UTF-8 bytes', { request_extra: { note: 'é'.repeat(2045) } }, /must be at most 4096 bytes of JSON \(it is 4101\)/],
    // The app reads these wrongly or against the loop's interest (mtf-api.md, "Request fields that are dangerous to pass through").
    [
      'an open-state snapshot, even on a dry loop',
      { request_extra: { open_state_snapshot: { positions: [] } } },
      /^invalid config: request_extra: must not carry open_state_snapshot hands the app a snapshot of open positions and orders instead of its own fresh read; a stale one defeats its open-position filter on a live run$/,
    ],
    [
      'the alias cex',
      { request_extra: { cex: 'bitmart' } },
      /^invalid config: request_extra: must not carry cex is an alias of exchange: send exchange \(two spellings of one field invite a 422\)$/,
    ],
    [
      'the alias type_contract',
      { request_extra: { type_contract: 'perpetual' } },
      /must not carry type_contract is an alias of market_type: send market_type/,
    ],
    // The app reads "", 2 or "maybe" as false, that is live: dry_run is never sent this way.
    ...(['', 'maybe', 2, 'true'] as const).map((value): [string, Record<string, unknown>, RegExp] => [
      `dry_run ${JSON.stringify(value)} in request_extra`,
      { request_extra: { dry_run: value } },
      /dry_run is a config key of its own: set dry_run instead/,
    ]),
  ]);

  void test('dry_run reaches the app as a JSON boolean, nothing else: the app reads "", 2 or "maybe" as live', () => {
    for (const value of ['', 'maybe', 'yes', 2, 1, null]) assertRejected({ dry_run: value }, /dry_run: must be true or false/);
    for (const dry_run of [true, false]) {
      const body = runRequestBody(parseLoopConfig({ dry_run, confirm_live: !dry_run }));
      assert.equal((JSON.parse(JSON.stringify(body)) as { dry_run: unknown }).dry_run, dry_run, 'the wire carries the boolean itself');
      assert.equal(typeof body.dry_run, 'boolean');
    }
  });

  void test("on a live loop, a field that switches off one of the app's safety nets is refused; on a dry one it is sent", () => {
    const live = { dry_run: false, confirm_live: true };
    assertRejected(
      { ...live, request_extra: { skip_open_state_filter: true } },
      /request_extra: skip_open_state_filter: true switches off one of the app's own safety nets; a live loop must not send it/,
    );
    assertRejected(
      { ...live, request_extra: { skip_context: true, process_tp_sl: false } },
      /skip_context: true, process_tp_sl: false switches off/,
    );
    assert.equal(
      parseLoopConfig({ ...live, request_extra: { process_tp_sl: true, skip_context: false } }).request_extra.process_tp_sl,
      true,
    );
    assert.equal(
      parseLoopConfig({ request_extra: { skip_open_state_filter: true } }).request_extra.skip_open_state_filter,
      true,
      'a dry run may',
    );
    assert.throws(
      () => parseConfigUpdate(parseLoopConfig({ request_extra: { skip_context: true } }), { dry_run: false, confirm_live: true }),
      /skip_context: true switches off/,
      'going live keeps the rule',
    );
  });
});

void describe('rejected: URLs', () => {
  rejects([
    ['an ftp:// mtf_url', { mtf_url: 'ftp://trading-app/api/mtf/run' }, /mtf_url: must be an http:\/\/ or https:\/\/ URL/],
    ["'not a url'", { mtf_url: 'not a url' }, /mtf_url: must /],
    ['a javascript: URL', { mtf_url: 'javascript:alert(1)' }, /mtf_url: must be an http:\/\/ or https:\/\/ URL/],
    ['a URL without a scheme', { mtf_url: 'trading-app-nginx:80/api/mtf/run' }, /mtf_url: must be an http:\/\/ or https:\/\/ URL/],
    ['an empty URL', { mtf_url: '' }, /mtf_url: must be an http:\/\/ or https:\/\/ URL/],
    ['user:password@ in the URL', { mtf_url: 'http://user:pass@trading-app/api/mtf/run' }, /mtf_url: must not embed credentials/],
    ['user@ in the URL', { mtf_url: 'https://user@trading-app/api/mtf/run' }, /mtf_url: must not embed credentials/],
    ['no host', { mtf_url: 'http:///api/mtf/run' }, /mtf_url: must name a host/],
    ['a port but no host', { mtf_url: 'http://:80/api/mtf/run' }, /mtf_url: must name a host/],
    ['nothing after the scheme', { mtf_url: 'https://' }, /mtf_url: must name a host/],
    ['a space in the host', { mtf_url: 'http://trading app/api/mtf/run' }, /mtf_url: must not contain spaces/],
    [
      'a line break in the URL',
      { mtf_url: 'http://trading-app/api/mtf/run\nX-Injected: 1' },
      /mtf_url: must not contain spaces, tabs or line breaks/,
    ],
    ['a status_url without {run_id}', { status_url: 'http://trading-app/api/mtf/runs/' }, /status_url: must contain \{run_id\}/],
    [
      'an ftp:// status_url',
      { status_url: 'ftp://trading-app/api/mtf/runs/{run_id}' },
      /status_url: must be an http:\/\/ or https:\/\/ URL/,
    ],
    ['credentials in status_url', { status_url: 'http://u:p@trading-app/api/mtf/runs/{run_id}' }, /status_url: must not embed credentials/],
  ]);

  void test('the credentials never appear in the error message', () => {
    const error = assertRejected({ mtf_url: 'http://admin:s3cret@trading-app/api/mtf/run' }, /mtf_url: must not embed credentials/);
    assert.doesNotMatch(error.message, /s3cret/);
  });
});

void describe('rejected: numbers', () => {
  const seconds = [
    'ping_interval',
    'max_execution_time',
    'activity_timeout',
    'poll_interval',
    'continue_timeout',
    'retry_initial_interval',
    'retry_max_interval',
  ];
  for (const key of seconds) {
    for (const value of [0, -1]) {
      void test(`${key} ${value}`, () => {
        assertRejected({ [key]: value }, new RegExp(`${key}: .*must be greater than 0 seconds`));
      });
    }
  }

  rejects([
    ['max_attempts 0', { max_attempts: 0 }, /max_attempts: must be at least 1/],
    ['max_attempts 1.5', { max_attempts: 1.5 }, /max_attempts: must be a whole number/],
    ['max_attempts 21', { max_attempts: 21 }, /max_attempts: must be at most 20/],
    ['workers 0', { workers: 0 }, /workers: must be at least 1/],
    ['workers 2.5', { workers: 2.5 }, /workers: must be a whole number/],
    ['workers 65', { workers: 65 }, /workers: must be at most 64/],
    ['retry_backoff 0.5', { retry_backoff: 0.5 }, /retry_backoff: must be at least 1/],
    ['retry_backoff 0', { retry_backoff: 0 }, /retry_backoff: must be at least 1/],
    ['max_cycles_per_run 0', { max_cycles_per_run: 0 }, /max_cycles_per_run: must be at least 1/],
    ['max_cycles_per_run 1.5', { max_cycles_per_run: 1.5 }, /max_cycles_per_run: must be a whole number/],
    ['cadence hourly', { cadence: 'hourly' }, /cadence: must be "interval" or "aligned"/],
    [
      'align_every 7 (does not divide a day)',
      { cadence: 'aligned', align_every: 7 },
      /align_every: must be a whole number of seconds that divides a day \(86400\), like 60, 300/,
    ],
    ['align_every 0', { align_every: 0 }, /align_every: must be a whole number of seconds that divides a day/],
    ['align_every 172800 (two days)', { align_every: 172_800 }, /align_every: must be a whole number of seconds that divides a day/],
    ['align_every 1.5', { align_every: 1.5 }, /align_every: must be a whole number of seconds/],
    ['align_offset -1', { align_offset: -1 }, /align_offset: must be at least 0 seconds/],
    [
      'align_offset as long as the period',
      { cadence: 'aligned', align_every: 60, align_offset: 60 },
      /align_offset: must be smaller than align_every \(60 s\)/,
    ],
    ['align_spread -1', { align_spread: -1 }, /align_spread: must be at least 0 seconds/],
    [
      'align_spread past the next beat',
      { cadence: 'aligned', align_every: 60, align_offset: 2, align_spread: 58 },
      /align_spread: with align_offset \(2 s\) must stay smaller than align_every \(60 s\), or a loop would start on the next beat/,
    ],
    [
      'retry_max_interval shorter than retry_initial_interval',
      { retry_initial_interval: 10, retry_max_interval: 5 },
      /retry_max_interval: must not be shorter than retry_initial_interval/,
    ],
    [
      'retry_initial_interval above the default retry_max_interval (30) without raising it',
      { retry_initial_interval: 60 },
      /retry_max_interval: must not be shorter than retry_initial_interval/,
    ],
  ]);
});

void describe('rejected: enumerations', () => {
  rejects([
    ['current_tf 2h', { current_tf: '2h' }, /current_tf: must be one of 4h, 1h, 15m, 5m, 1m or null/],
    ['current_tf 1H', { current_tf: '1H' }, /current_tf: must be one of 4h, 1h, 15m, 5m, 1m or null/],
    ['current_tf as a number', { current_tf: 60 }, /current_tf: must be one of/],
    ['continue_mode manual', { continue_mode: 'manual' }, /continue_mode: must be "auto" or "signal"/],
    ['continue_mode Auto', { continue_mode: 'Auto' }, /continue_mode: must be "auto" or "signal"/],
    ['continue_mode null', { continue_mode: null }, /continue_mode: must be "auto" or "signal"/],
  ]);
});

void describe('rejected: labels (fleet, group)', () => {
  const RULE = /must be 1-63 letters, digits, dots, dashes or underscores, starting with a letter or digit/;
  rejects([
    ['a group with a space', { group: 'bit mart' }, new RegExp(`group: ${RULE.source}`)],
    ['a group with a quote, which would reach a visibility query', { group: "x' OR 'a'='a" }, RULE],
    ['an empty group (null says none)', { group: '' }, RULE],
    ['a fleet starting with a dash', { fleet: '-prod' }, new RegExp(`fleet: ${RULE.source}`)],
    ['a fleet of 64 characters', { fleet: 'a'.repeat(64) }, RULE],
    ['a group as a number', { group: 7 }, RULE],
  ]);
});

void describe('live runs', () => {
  const LIVE_REFUSAL = [/dry_run: /, /live/, /real orders/, /confirm_live: true/];

  void test('dry_run: false without confirm_live is refused', () => {
    assertRejected({ dry_run: false }, LIVE_REFUSAL);
  });

  void test('dry_run: false with confirm_live: false is refused', () => {
    assertRejected({ dry_run: false, confirm_live: false }, LIVE_REFUSAL);
  });

  void test("the Python client's config with dry_run: false is refused", () => {
    assertRejected({ ...PYTHON_CLIENT_CONFIG, dry_run: false }, LIVE_REFUSAL);
  });

  void test('dry_run: false with confirm_live: true is accepted', () => {
    const config = parseLoopConfig({ dry_run: false, confirm_live: true });
    assert.deepEqual(config, { ...SEED_DEFAULTS, dry_run: false, confirm_live: true });
  });

  void test('confirm_live: true on a dry run is harmless', () => {
    assert.deepEqual(parseLoopConfig({ confirm_live: true }), { ...SEED_DEFAULTS, confirm_live: true });
  });
});

void describe('several problems at once', () => {
  void test('every bad key is reported in one message', () => {
    const error = assertRejected(
      {
        symbols: ['btc'],
        mtf_url: 'ftp://x/run',
        ping_interval: 0,
        max_attempts: 1.5,
        workers: 0,
        retry_backoff: 0.5,
        current_tf: '2h',
        continue_mode: 'manual',
        status_url: 'http://x/runs/',
      },
      [
        /symbols\.0: each symbol must be 2-30 upper-case/,
        /mtf_url: must be an http:\/\/ or https:\/\/ URL/,
        /ping_interval: .*greater than 0/,
        /max_attempts: must be a whole number/,
        /workers: must be at least 1/,
        /retry_backoff: must be at least 1/,
        /current_tf: must be one of/,
        /continue_mode: must be "auto" or "signal"/,
        /status_url: must contain \{run_id\}/,
      ],
    );
    assert.equal(error.message.split('; ').length, 9, error.message);
  });

  void test('a field rule and the live rule are reported together', () => {
    assertRejected({ symbols: ['btc'], dry_run: false }, [/symbols\.0: /, /dry_run: .*confirm_live: true/]);
  });

  void test('both cross-key rules are reported together', () => {
    assertRejected({ retry_initial_interval: 10, retry_max_interval: 5, symbols: ['BTCUSDT'], dry_run: false }, [
      /retry_max_interval: must not be shorter/,
      /dry_run: .*confirm_live: true/,
    ]);
  });

  void test("an activity_timeout longer than the cycle's budget is accepted: each attempt is cut to the budget (the original's test config sets max_execution_time 60)", () => {
    const config = parseLoopConfig({ max_execution_time: 60 });
    assert.equal(config.activity_timeout, 120);
    assert.equal(attemptTimeout(config), 60);
    assert.equal(attemptTimeout(parseLoopConfig({ activity_timeout: 30 })), 30);
    // What `status` shows on its `call timeout` row.
    assert.match(
      attemptLine(config),
      /^1m per attempt, 3 attempt\(s\), 1m per cycle \(warning: activity_timeout 2m is longer than the cycle's budget/,
    );
    assert.equal(attemptLine(parseLoopConfig({})), '2m per attempt, 3 attempt(s), 7m per cycle');
  });
});

void describe('parseWorkflowInput', () => {
  void test('a config with no carried_state gives the defaults', () => {
    assert.deepEqual(parseWorkflowInput({}), SEED_DEFAULTS);
    assert.deepEqual(parseWorkflowInput(undefined), SEED_DEFAULTS);
  });

  void test('a config plus carried_state is accepted and kept', () => {
    const carried_state = freshState();
    const input = parseWorkflowInput({ ...PYTHON_CLIENT_CONFIG, carried_state });
    assert.deepEqual(input, { ...SEED_DEFAULTS, ...PYTHON_CLIENT_CONFIG, carried_state });
  });

  // Until this release these keys were dropped; now a newer worker that takes the loop over
  // later must find them again, so an older worker keeps them as they are.
  void test('a carried_state from a newer release keeps every key, those this one does not know included', () => {
    const state = freshState();
    const newer = { ...state, a_future_field: { nested: [1, 2] }, counters: { ...state.counters, a_future_count: 3 } };
    const carried = parseWorkflowInput({ carried_state: newer }).carried_state;
    assert.deepEqual(carried, newer);
    assert.deepEqual(unknownCarriedKeys(carried), ['carried_state.a_future_field', 'carried_state.counters.a_future_count']);
  });

  void test('a carried_state from before pause and aligned cadence reads as not paused, with no beat missed', () => {
    const { pause, missed_beats_unrecorded, ...older } = freshState({
      pause: { reason: 'x', requested_at: '2024-01-01T00:00:00.000Z', since: null },
      missed_beats_unrecorded: 4,
    });
    assert.ok(pause && missed_beats_unrecorded);
    const { missed_beats, ...olderCounters } = older.counters;
    assert.equal(missed_beats, 0);
    const carried = parseWorkflowInput({ carried_state: { ...older, counters: olderCounters } }).carried_state;
    assert.deepEqual([carried?.pause, carried?.missed_beats_unrecorded, carried?.counters.missed_beats], [null, 0, 0]);
  });

  void test('a carried_state from before notifications reads as none sent and none waiting', () => {
    const { notifications, ...older } = freshState();
    assert.ok(notifications);
    const carried = parseWorkflowInput({ carried_state: older }).carried_state;
    assert.deepEqual(carried?.notifications, { sent: 0, failed: 0, no_endpoint: 0, last_failure: null, pause_said: null, queued: [] });
  });

  void test('a pause asked for, or in force, is carried as it is', () => {
    const paused = { reason: 'exchange maintenance', requested_at: '2024-01-01T00:00:00.000Z', since: '2024-01-01T00:00:05.000Z' };
    assert.deepEqual(parseWorkflowInput({ carried_state: freshState({ pause: paused }) }).carried_state?.pause, paused);
    assertRejected(
      { carried_state: freshState({ pause: { reason: 3 } as never }) },
      /carried_state\.pause\.reason: must be a string/,
      parseWorkflowInput,
    );
  });

  void test('a carried_state from before the recent-cycles window gets an empty window', () => {
    const older: Partial<CarriedStateInput> = freshState();
    delete older.recent_cycles;
    assert.deepEqual(parseWorkflowInput({ carried_state: older }).carried_state?.recent_cycles, []);
  });

  void test('a carried_state written before the findings existed reads as "nothing known" in its last cycle and its points', () => {
    const older = freshState({
      last_cycle: LAST_CYCLE_BEFORE_FINDINGS,
      recent_cycles: [{ iteration: 7, outcome: 'succeeded', finished_at: '2024-01-01T00:06:42.000Z', cycle_seconds: 42 }],
    });
    const carried = parseWorkflowInput({ carried_state: older }).carried_state;
    assert.deepEqual(carried?.last_cycle, {
      ...older.last_cycle,
      ready_share: null,
      errors: null,
      x_run_id: null,
      missed_beats: 0,
      app_status: null,
      signals: [],
      signals_unlisted: 0,
      contracts: null,
      symbol_errors: [],
      orders: null,
      protection_alert: false,
      trades: null,
    });
    assert.deepEqual(carried?.recent_cycles, [
      {
        iteration: 7,
        outcome: 'succeeded',
        finished_at: '2024-01-01T00:06:42.000Z',
        cycle_seconds: 42,
        ready: null,
        orders: null,
        protection_alert: false,
        trades: null,
      },
    ]);
  });

  void test('a carried_state from before trades were read asks the app again, and its records read as "not read"', () => {
    const { lineage_absent, ...older } = freshState({ lineage_absent: true });
    assert.equal(lineage_absent, true);
    const carried = parseWorkflowInput({ carried_state: older }).carried_state;
    assert.equal(carried?.lineage_absent, false);
    assert.equal(carried?.recent_cycles[0]?.trades, null);
  });

  void test('a carried_state with a last cycle (its findings too) and a last error is accepted', () => {
    const carried_state = freshState({
      last_cycle: {
        ...LAST_CYCLE_BEFORE_FINDINGS,
        outcome: 'partial',
        success_rate: 0.8,
        message: '1 symbol failed',
        ready_share: 0.8,
        errors: 1,
        x_run_id: 'mtfpp.0123456789abcdef.7',
        missed_beats: 2,
        app_status: 'partial_failure',
        signals: [{ symbol: 'BTCUSDT', timeframe: '5m', side: 'LONG' }],
        signals_unlisted: 0,
        contracts: { ready: 1, invalid: 3, error: 1, other: 0 },
        symbol_errors: ['ETHUSDT: timeout'],
        orders: {
          count: { total: 1, submitted: 0, pending: 0, protection_failed: 1, simulated: 0 },
          list: [{ symbol: 'BTCUSDT', status: 'critical_unprotected_position', exchange_order_id: '42' }],
          unlisted: 0,
        },
        protection_alert: true,
        trades: {
          state: 'pending',
          by_status: { SENT: 1, none: 1 },
          list: [{ symbol: 'BTCUSDT', side: 'LONG', status: 'SENT', event: 'position_opened', internal_trade_id: 'T-1' }],
          unlisted: 1,
        },
      },
      last_error: 'HTTP 502',
      continue_pending: true,
    });
    assert.deepEqual(parseWorkflowInput({ carried_state }).carried_state, carried_state);
  });

  void test('the config keys are checked as in parseLoopConfig', () => {
    assertRejected(
      { symbols: [], dry_run: false, confirm_live: true, carried_state: freshState() },
      /symbols: an empty list means every active contract.*confirm_all_symbols: true/,
      parseWorkflowInput,
    );
    assertRejected({ bogus: 1 }, /bogus: unknown key/, parseWorkflowInput);
  });

  void test('the live rule applies', () => {
    assertRejected({ dry_run: false, carried_state: freshState() }, [/dry_run: /, /real orders/, /confirm_live: true/], parseWorkflowInput);
    assert.equal(parseWorkflowInput({ dry_run: false, confirm_live: true, carried_state: freshState() }).dry_run, false);
  });

  void test('a continued run sets aside the config keys this version does not know; a fresh start refuses them', () => {
    const written = { ...PYTHON_CLIENT_CONFIG, a_future_key: 'x', carried_state: freshState() };
    const { known, unknown_config } = setAsideUnknownConfig(written);
    assert.deepEqual(unknown_config, { a_future_key: 'x' });
    assert.deepEqual(parseWorkflowInput(known), { ...SEED_DEFAULTS, ...PYTHON_CLIENT_CONFIG, carried_state: freshState() });
    assertRejected(written, /a_future_key: unknown key/, parseWorkflowInput);
  });

  void test('parseLoopConfig does not accept carried_state', () => {
    assertRejected({ carried_state: freshState() }, /carried_state: unknown key/);
  });

  const malformed: [name: string, state: unknown, pattern: RegExp][] = [
    ['a negative iteration', freshState({ iteration: -1 }), /carried_state\.iteration: /],
    ['a fractional iteration', freshState({ iteration: 1.5 }), /carried_state\.iteration: /],
    ['a string iteration', { ...freshState(), iteration: '7' }, /carried_state\.iteration: /],
    [
      'a counter missing',
      { ...freshState(), counters: { ...freshState().counters, failed: undefined } },
      /carried_state\.counters\.failed: /,
    ],
    ['a negative counter', { ...freshState(), counters: { ...freshState().counters, cycles: -1 } }, /carried_state\.counters\.cycles: /],
    ['continue_pending missing', { ...freshState(), continue_pending: undefined }, /carried_state\.continue_pending: /],
    ['started_at as a number', { ...freshState(), started_at: 0 }, /carried_state\.started_at: /],
    ['last_error as a number', { ...freshState(), last_error: 500 }, /carried_state\.last_error: /],
    [
      'a last_cycle with an unknown outcome',
      { ...freshState(), last_cycle: { iteration: 1, outcome: 'ok' } },
      /carried_state\.last_cycle\./,
    ],
    ['carried_state as a string', 'iteration=7', /carried_state: /],
    ['carried_state as null', null, /carried_state: /],
  ];
  for (const [name, carried_state, pattern] of malformed) {
    void test(`a carried_state with ${name} is rejected`, () => {
      assertRejected({ carried_state }, pattern, parseWorkflowInput);
    });
  }
});

void describe('wireConfig: what a client sends at start', () => {
  void test('every key older workers know is sent, defaults included; a later one only when set', () => {
    const config = parseLoopConfig(PYTHON_CLIENT_CONFIG);
    // The keys added after the tolerant release, with their defaults.
    const later: Partial<LoopConfig> = {
      confirm_all_symbols: false,
      request_extra: {},
      cadence: 'interval',
      align_every: 60,
      align_offset: 2,
      align_spread: 0,
      notify: true,
      health_url: null,
      lineage: true,
      lineage_url: null,
      lineage_wait: 3,
      fleet: null,
      group: null,
    };
    const isLater = (key: string) => key in later;
    assert.deepEqual(Object.fromEntries(Object.entries(config).filter(([key]) => isLater(key))), later);
    const older = Object.fromEntries(Object.entries(config).filter(([key]) => !isLater(key)));
    assert.deepEqual(
      wireConfig(config),
      older,
      'confirm_all_symbols, request_extra, the cadence keys, notify, health_url, the lineage keys and the labels came later: at their defaults, they are left out',
    );
    const allLive = parseLoopConfig({
      symbols: [],
      dry_run: false,
      confirm_live: true,
      confirm_all_symbols: true,
      request_extra: { mtf_profile: 'scalper' },
      cadence: 'aligned',
      align_every: 300,
      align_offset: 3,
      align_spread: 20,
      notify: false,
      health_url: 'http://trading-app-nginx:80/health',
      lineage: false,
      lineage_url: 'http://trading-app-nginx:80/api/lineage/v1/search',
      lineage_wait: 10,
      fleet: 'bitmart-prod',
      group: 'bitmart',
    });
    assert.deepEqual(wireConfig(allLive), allLive, 'set, they go');
  });

  void test('a key added after this release goes only when it differs from its default', () => {
    // As a later release will see it: `ping_interval` stands for a key this release did not have.
    const release = CONFIG_KEYS.filter((key) => key !== 'ping_interval');
    assert.equal('ping_interval' in wireConfig(parseLoopConfig({}), release), false);
    assert.equal(wireConfig(parseLoopConfig({ ping_interval: 60 }), release).ping_interval, 60);
    assert.deepEqual(
      parseLoopConfig(wireConfig(parseLoopConfig({}), release)),
      parseLoopConfig({}),
      'the worker fills the default back in',
    );
  });
});

void describe('statusUrlTemplate', () => {
  void test("the default is the run URL's origin + /api/mtf/runs/{run_id}", () => {
    assert.equal(statusUrlTemplate(parseLoopConfig({})), 'http://trading-app-nginx:80/api/mtf/runs/{run_id}');
  });

  const cases: [mtf_url: string, expected: string][] = [
    ['http://trading-app-nginx:80/api/mtf/run', 'http://trading-app-nginx:80/api/mtf/runs/{run_id}'],
    ['https://app.example.com/deep/prefix/api/mtf/run', 'https://app.example.com/api/mtf/runs/{run_id}'],
    ['http://localhost:8080', 'http://localhost:8080/api/mtf/runs/{run_id}'],
    ['http://localhost:8080?x=1', 'http://localhost:8080/api/mtf/runs/{run_id}'],
    ['https://[::1]:8443/api/mtf/run#frag', 'https://[::1]:8443/api/mtf/runs/{run_id}'],
  ];
  for (const [mtf_url, expected] of cases) {
    void test(`${mtf_url} -> ${expected}`, () => {
      assert.equal(statusUrlTemplate(parseLoopConfig({ mtf_url })), expected);
    });
  }

  void test('a configured status_url wins', () => {
    const status_url = 'https://status.example.com/runs/{run_id}/state';
    assert.equal(statusUrlTemplate(parseLoopConfig({ status_url })), status_url);
  });
});
