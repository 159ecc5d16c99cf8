/**
 * The loop config from the environment (MTF_<KEY>) and from files, and the one precedence
 * flag > env > file > default: the functions directly, then the real `mtf-ping-pong start` binary
 * for what reaches a user (exit code and one line), against a closed port so no server is needed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  CONFIG_ENV_VARS,
  CONFIG_FILE_ENV,
  configFromEnv,
  envKind,
  envVarName,
  parseResolvedConfig,
  resolveStartConfig,
} from '../../src/cli/config-env';
import { flagPatch, patchFromFlags } from '../../src/cli/config-flags';
import { CliError, ExitCode } from '../../src/cli/output';
import { CONFIG_KEYS, ConfigError, parseLoopConfig } from '../../src/shared/config';
import { freePort } from '../../harness/processes';

const CLI = join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const scratch = mkdtempSync(join(tmpdir(), 'mtf-config-env-'));

after(() => rmSync(scratch, { recursive: true, force: true }));

function jsonFile(name: string, content: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

/** Env vars that are not loop config, read elsewhere: none of them may be taken as a key. */
const NOT_CONFIG = {
  MTF_API_TOKEN: 'secret-token',
  MTF_API_TOKEN_FILE: '/run/secrets/token',
  MTF_ENCRYPTION_KEY: 'a'.repeat(64),
  MTF_ENCRYPTION_KEY_FILE: '/run/secrets/key',
  MTF_ENCRYPTION_KEY_ID: 'mtf-key-2',
  MTF_ENCRYPTION_OLD_KEYS: 'mtf-key-1:abc',
  MTF_DATA_DIR: '/tmp/data',
  MTF_SIMULATOR_PORT: '8088',
  MTF_TOOLCHAIN_DIR: '/tmp/toolchain',
  MTF_DRY_RUN_EXTRA: 'garbage',
  mtf_dry_run: 'garbage',
  MTF_URL_OLD: 'garbage',
};

describe('env var names', () => {
  test('every config key has its own MTF_ env var, derived from the key', () => {
    assert.deepEqual(Object.keys(CONFIG_ENV_VARS), CONFIG_KEYS);
    for (const key of CONFIG_KEYS) {
      assert.equal(CONFIG_ENV_VARS[key], envVarName(key));
      assert.match(CONFIG_ENV_VARS[key], /^MTF_[A-Z0-9_]+$/);
    }
    assert.equal(new Set(Object.values(CONFIG_ENV_VARS)).size, CONFIG_KEYS.length, 'no two keys share a name');
    assert.equal(CONFIG_ENV_VARS.mtf_url, 'MTF_URL');
    assert.equal(CONFIG_ENV_VARS.ping_interval, 'MTF_PING_INTERVAL');
    assert.equal(CONFIG_ENV_VARS.dry_run, 'MTF_DRY_RUN');
    assert.equal(CONFIG_ENV_VARS.symbols, 'MTF_SYMBOLS');
    assert.equal(CONFIG_ENV_VARS.confirm_live, 'MTF_CONFIRM_LIVE');
    assert.equal(CONFIG_ENV_VARS.mtf_idempotent, 'MTF_IDEMPOTENT');
    for (const name of [...Object.keys(NOT_CONFIG), CONFIG_FILE_ENV]) {
      assert.ok(!Object.values(CONFIG_ENV_VARS).includes(name), `${name} is not a config key's env var`);
    }
  });

  test('every key has a kind read from the schema, and its default written as env text reads back the same', () => {
    const defaults = parseLoopConfig({});
    for (const key of CONFIG_KEYS) {
      const kind = envKind(key);
      // request_extra is the one key whose value is free JSON: the app's own fields, as they are.
      if (key !== 'request_extra')
        assert.notEqual(kind.scalar, 'json', `${key} has a kind of its own (boolean, number, text), not raw JSON`);
      const value: unknown = defaults[key];
      const text = typeof value === 'string' ? value : Array.isArray(value) ? value.join(',') : JSON.stringify(value);
      assert.deepEqual(configFromEnv({ [CONFIG_ENV_VARS[key]]: text }), { [key]: value }, key);
    }
    assert.deepEqual(envKind('symbols'), { scalar: 'text', list: true, nullable: false });
    assert.deepEqual(envKind('dry_run'), { scalar: 'boolean', list: false, nullable: false });
    assert.deepEqual(envKind('continue_timeout'), { scalar: 'number', list: false, nullable: true });
  });
});

describe('configFromEnv', () => {
  test("MTF_REQUEST_EXTRA is JSON; MTF_SYMBOLS=all means the app's active contracts", () => {
    assert.deepEqual(configFromEnv({ MTF_REQUEST_EXTRA: '{"mtf_profile": "scalper", "workers_hint": 4}' }), {
      request_extra: { mtf_profile: 'scalper', workers_hint: 4 },
    });
    assert.equal(
      configErrorOf(() => configFromEnv({ MTF_REQUEST_EXTRA: 'mtf_profile=scalper' })).message,
      'MTF_REQUEST_EXTRA must be JSON, not "mtf_profile=scalper"',
    );
    assert.deepEqual(configFromEnv({ MTF_SYMBOLS: ' ALL ' }), { symbols: [] });
    assert.deepEqual(configFromEnv({ MTF_SYMBOLS: '' }), {}, 'an empty variable is unset, not "all"');
    assert.equal(
      configErrorOf(() => configFromEnv({ MTF_SYMBOLS: ' , ' })).message,
      "MTF_SYMBOLS must name at least one symbol, or all for the app's own active contracts",
    );
  });

  test('booleans: true/false, 1/0, yes/no, on/off in any case; anything else names the env var', () => {
    const dryRun = (text: string): unknown => configFromEnv({ MTF_DRY_RUN: text }).dry_run;
    assert.equal(dryRun('false'), false);
    assert.equal(dryRun('0'), false);
    assert.equal(dryRun('TRUE'), true);
    assert.equal(dryRun(' Yes '), true);
    assert.equal(dryRun('off'), false);
    assert.equal(dryRun('ON'), true);
    const err = configErrorOf(() => configFromEnv({ MTF_DRY_RUN: 'flase' }));
    assert.equal(err.message, 'MTF_DRY_RUN must be true or false (or 1/0, yes/no, on/off), not "flase"');
  });

  test('numbers are parsed strictly; ranges are left to the schema', () => {
    assert.deepEqual(configFromEnv({ MTF_PING_INTERVAL: '60', MTF_RETRY_BACKOFF: ' 1.5 ', MTF_WORKERS: '4' }), {
      ping_interval: 60,
      retry_backoff: 1.5,
      workers: 4,
    });
    for (const bad of ['abc', '0x10', '30s', 'Infinity', '1,5', '1e']) {
      const err = configErrorOf(() => configFromEnv({ MTF_PING_INTERVAL: bad }));
      assert.equal(err.message, `MTF_PING_INTERVAL must be a number, not ${JSON.stringify(bad)}`);
    }
    assert.deepEqual(configFromEnv({ MTF_PING_INTERVAL: '0' }), { ping_interval: 0 }, 'read as 0; the schema says no');
  });

  test('lists are comma-separated, items trimmed', () => {
    assert.deepEqual(configFromEnv({ MTF_SYMBOLS: ' BTCUSDT, ETHUSDT ' }), { symbols: ['BTCUSDT', 'ETHUSDT'] });
    assert.deepEqual(configFromEnv({ MTF_SYMBOLS: 'SOLUSDT,,DOTUSDT,' }), { symbols: ['SOLUSDT', 'DOTUSDT'] });
  });

  test('nullable keys take "null"; text is taken as is; an empty or blank variable is unset', () => {
    assert.deepEqual(configFromEnv({ MTF_CONTINUE_TIMEOUT: 'null', MTF_CURRENT_TF: 'NULL', MTF_STATUS_URL: 'Null' }), {
      continue_timeout: null,
      current_tf: null,
      status_url: null,
    });
    assert.deepEqual(configFromEnv({ MTF_CONTINUE_TIMEOUT: '90', MTF_CURRENT_TF: '1h', MTF_CONTINUE_MODE: 'signal' }), {
      continue_timeout: 90,
      current_tf: '1h',
      continue_mode: 'signal',
    });
    configErrorOf(() => configFromEnv({ MTF_PING_INTERVAL: 'null' }));
    assert.deepEqual(configFromEnv({ MTF_DRY_RUN: '', MTF_SYMBOLS: '  ', MTF_URL: '' }), {});
  });

  test('every bad env var is named in one error', () => {
    const err = configErrorOf(() => configFromEnv({ MTF_DRY_RUN: 'maybe', MTF_WORKERS: 'four' }));
    assert.equal(
      err.message,
      'MTF_DRY_RUN must be true or false (or 1/0, yes/no, on/off), not "maybe"; MTF_WORKERS must be a number, not "four"',
    );
  });

  test('MTF_* vars that are not loop config are ignored', () => {
    assert.deepEqual(configFromEnv({ ...NOT_CONFIG, [CONFIG_FILE_ENV]: '/nowhere.json', PATH: '/usr/bin' }), {});
    assert.deepEqual(configFromEnv({ ...NOT_CONFIG, MTF_PING_INTERVAL: '45' }), { ping_interval: 45 });
  });
});

describe('resolveStartConfig: flag > env > file > default', () => {
  test('one key set at all four levels', () => {
    const file = jsonFile('interval.json', { ping_interval: 40 });
    const env = { MTF_PING_INTERVAL: '50' };
    const flags = { interval: 60 };
    const interval = (sources: Parameters<typeof resolveStartConfig>[0]): number =>
      parseResolvedConfig(resolveStartConfig(sources)).ping_interval;
    assert.equal(interval({ file, env, flags }), 60, 'the flag wins');
    assert.equal(interval({ file, env }), 50, 'then env');
    assert.equal(interval({ file, env: {} }), 40, 'then the file');
    assert.equal(interval({ env: {} }), 30, 'then the default');
    assert.deepEqual(resolveStartConfig({ file, env, flags }).sources, { ping_interval: '--interval', cadence: '--interval' });
  });

  test('the cadence from MTF_CADENCE / MTF_ALIGN_EVERY / MTF_ALIGN_OFFSET, and from --align / --offset / --interval over them', () => {
    const env = { MTF_CADENCE: 'aligned', MTF_ALIGN_EVERY: '300', MTF_ALIGN_OFFSET: '3' };
    assert.deepEqual(configFromEnv(env), { cadence: 'aligned', align_every: 300, align_offset: 3 });
    const clock = (sources: Parameters<typeof resolveStartConfig>[0]) => {
      const c = parseResolvedConfig(resolveStartConfig(sources));
      return { cadence: c.cadence, align_every: c.align_every, align_offset: c.align_offset, ping_interval: c.ping_interval };
    };
    assert.deepEqual(clock({ env }), { cadence: 'aligned', align_every: 300, align_offset: 3, ping_interval: 30 });
    assert.deepEqual(clock({ env: {}, flags: { align: 60, offset: 2.5 } }), {
      cadence: 'aligned',
      align_every: 60,
      align_offset: 2.5,
      ping_interval: 30,
    });
    assert.deepEqual(
      clock({ env, flags: { interval: 45 } }),
      { cadence: 'interval', align_every: 300, align_offset: 3, ping_interval: 45 },
      "--interval switches the env's aligned cadence back",
    );
    assert.equal(configErrorOf(() => configFromEnv({ MTF_ALIGN_EVERY: 'five' })).message, 'MTF_ALIGN_EVERY must be a number, not "five"');
    const bad = configErrorOf(() => parseResolvedConfig(resolveStartConfig({ env: { MTF_CADENCE: 'hourly', MTF_ALIGN_EVERY: '7' } })));
    assert.match(bad.message, /cadence: must be "interval" or "aligned" \(from MTF_CADENCE\)/);
    assert.match(bad.message, /align_every: must be a whole number of seconds that divides a day .*\(from MTF_ALIGN_EVERY\)/);
    const offset = configErrorOf(() => parseResolvedConfig(resolveStartConfig({ env: {}, flags: { align: 5, offset: 5 } })));
    assert.match(offset.message, /align_offset: must be smaller than align_every \(5 s\) \(from --offset\)/);
  });

  test('request_extra from a file, the env or --param: each level sets it as a whole, and a refused key names where it came from', () => {
    const file = jsonFile('extra.json', { request_extra: { mtf_profile: 'regular', exchange: 'bitmart' } });
    const extra = (sources: Parameters<typeof resolveStartConfig>[0]) => parseResolvedConfig(resolveStartConfig(sources)).request_extra;
    assert.deepEqual(extra({ file, env: {} }), { mtf_profile: 'regular', exchange: 'bitmart' });
    assert.deepEqual(extra({ file, env: { MTF_REQUEST_EXTRA: '{"mtf_profile":"scalper"}' } }), { mtf_profile: 'scalper' });
    assert.deepEqual(extra({ file, env: {}, flags: { param: { market_type: 'perpetual' } } }), { market_type: 'perpetual' });
    const refused = configErrorOf(() => parseResolvedConfig(resolveStartConfig({ env: {}, flags: { param: { current_tf: '5m' } } })));
    assert.match(
      refused.message,
      /request_extra.*--param.*current_tf is a config key of its own: set current_tf instead|current_tf is a config key of its own: set current_tf instead/,
    );
  });

  test('levels merge key by key', () => {
    const file = jsonFile('merge.json', { symbols: ['ADAUSDT'], continue_mode: 'signal', workers: 2 });
    const config = parseResolvedConfig(
      resolveStartConfig({ file, env: { MTF_WORKERS: '3', MTF_SYMBOLS: 'BTCUSDT,ETHUSDT' }, flags: { symbols: ['SOLUSDT'] } }),
    );
    assert.deepEqual([config.symbols, config.continue_mode, config.workers, config.ping_interval], [['SOLUSDT'], 'signal', 3, 30]);
  });

  test('MTF_CONFIG_FILE is read when no --config is given; --config replaces it', () => {
    const fromEnv = jsonFile('env-file.json', { ping_interval: 90, workers: 2 });
    const fromFlag = jsonFile('flag-file.json', { ping_interval: 120 });
    const viaEnv = parseResolvedConfig(resolveStartConfig({ env: { [CONFIG_FILE_ENV]: fromEnv } }));
    assert.deepEqual([viaEnv.ping_interval, viaEnv.workers], [90, 2]);
    const viaFlag = parseResolvedConfig(resolveStartConfig({ file: fromFlag, env: { [CONFIG_FILE_ENV]: fromEnv } }));
    assert.deepEqual([viaFlag.ping_interval, viaFlag.workers], [120, 1], 'the env file is not read at all');
    assert.throws(
      () => resolveStartConfig({ env: { [CONFIG_FILE_ENV]: join(scratch, 'missing.json') } }),
      (err: unknown) =>
        err instanceof CliError &&
        err.exitCode === ExitCode.Usage &&
        /^cannot read config file .*missing\.json: .*\(from MTF_CONFIG_FILE\)$/.test(err.message),
    );
  });

  test("schema errors are the schema's own lines, naming where the value came from", () => {
    const file = jsonFile('bad.json', { workers: 99, colour: 'blue' });
    const err = configErrorOf(() =>
      parseResolvedConfig(resolveStartConfig({ file, env: { MTF_PING_INTERVAL: '0' }, flags: { url: 'ftp://x' } })),
    );
    assert.match(err.message, /^invalid config: /);
    assert.match(err.message, /ping_interval: must be greater than 0 seconds \(from MTF_PING_INTERVAL\)/);
    assert.match(err.message, /mtf_url: must be an http:\/\/ or https:\/\/ URL \(from --url\)/);
    assert.match(
      err.message,
      new RegExp(`workers: must be at most 64 \\(from config file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`),
    );
    assert.match(err.message, /colour: unknown key \(known keys: .*\) \(from config file /);
  });

  test('live needs confirming: MTF_DRY_RUN=false alone is refused; MTF_CONFIRM_LIVE=true or --live confirms it', () => {
    const refused = configErrorOf(() => parseResolvedConfig(resolveStartConfig({ env: { MTF_DRY_RUN: 'false' } })));
    assert.equal(
      refused.message,
      'invalid config: dry_run: false means a live run that can place real orders; it needs confirm_live: true in the same config (from MTF_DRY_RUN)',
    );
    const confirmed = parseResolvedConfig(resolveStartConfig({ env: { MTF_DRY_RUN: 'false', MTF_CONFIRM_LIVE: 'true' } }));
    assert.deepEqual([confirmed.dry_run, confirmed.confirm_live], [false, true]);
    const flagged = parseResolvedConfig(resolveStartConfig({ env: { MTF_DRY_RUN: 'false' }, flags: { live: true } }));
    assert.deepEqual([flagged.dry_run, flagged.confirm_live], [false, true]);
  });

  test('a live config file still needs --live, unless env or a flag overrides its dry_run', () => {
    const file = jsonFile('live.json', { dry_run: false, confirm_live: true });
    assert.throws(
      () => resolveStartConfig({ file, env: {} }),
      (err: unknown) => err instanceof CliError && err.exitCode === ExitCode.Usage && /sets dry_run: false.*pass --live/.test(err.message),
    );
    assert.throws(() => resolveStartConfig({ env: { [CONFIG_FILE_ENV]: file } }), CliError, 'the same from MTF_CONFIG_FILE');
    assert.equal(parseResolvedConfig(resolveStartConfig({ file, env: {}, flags: { live: true } })).dry_run, false);
    assert.equal(parseResolvedConfig(resolveStartConfig({ file, env: { MTF_DRY_RUN: 'true' } })).dry_run, true);
  });
});

describe('config flags: what each sets', () => {
  test('--align sets an aligned cadence and its period, --offset the offset, --interval the pause and the interval cadence', () => {
    assert.deepEqual(patchFromFlags({ align: 300 }), { cadence: 'aligned', align_every: 300 });
    assert.deepEqual(patchFromFlags({ align: 60, offset: 2 }), { cadence: 'aligned', align_every: 60, align_offset: 2 });
    assert.deepEqual(patchFromFlags({ offset: 3 }), { align_offset: 3 }, '--offset alone leaves the cadence as it is');
    assert.deepEqual(patchFromFlags({ interval: 30 }), { ping_interval: 30, cadence: 'interval' });
    assert.deepEqual(flagPatch({ align: 60, offset: 2 }).sources, { cadence: '--align', align_every: '--align', align_offset: '--offset' });
    assert.deepEqual(
      flagPatch({ live: true, forceRun: false }).sources,
      { dry_run: '--live', confirm_live: '--live' },
      'a switch that is off sets nothing',
    );
  });

  test('--align with --interval is a usage error, in one line', () => {
    assert.throws(
      () => patchFromFlags({ align: 60, interval: 30 }),
      (err: unknown) =>
        err instanceof CliError &&
        err.exitCode === ExitCode.Usage &&
        err.message ===
          '--align and --interval contradict each other: --align starts cycles on beats (cadence aligned), --interval after a pause (cadence interval)',
    );
  });
});

describe('mtf-ping-pong start (the real binary) reads the environment', () => {
  interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
  }

  /** The binary with only these MTF_ and TEMPORAL_ vars, pointed at a closed port: a valid config ends in exit 3. */
  async function start(extraEnv: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
    const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(MTF_|TEMPORAL_)/i.test(name)));
    const address = `127.0.0.1:${await freePort()}`;
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'start', '--address', address, ...args],
        { env: { ...base, ...extraEnv }, timeout: 20_000, encoding: 'utf8' },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
      );
    });
  }

  function oneLine(run: Run, code: number, pattern: RegExp): void {
    assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
    assert.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
    assert.match(run.stderr.trim(), pattern);
  }

  test('a bad env var, a live env without confirmation, a missing MTF_CONFIG_FILE and --align with --interval are usage errors', async () => {
    const [typo, live, missing, outOfRange, bothCadences, badPeriod] = await Promise.all([
      start({ MTF_DRY_RUN: 'flase' }),
      start({ MTF_DRY_RUN: 'false' }),
      start({ [CONFIG_FILE_ENV]: join(scratch, 'missing.json') }),
      start({ MTF_PING_INTERVAL: '0' }),
      start({}, '--align', '1m', '--interval', '30s'),
      start({ MTF_CADENCE: 'aligned', MTF_ALIGN_EVERY: '7' }),
    ]);
    oneLine(bothCadences, ExitCode.Usage, /^mtf-ping-pong: --align and --interval contradict each other: /);
    oneLine(
      badPeriod,
      ExitCode.Usage,
      /^mtf-ping-pong: invalid config: align_every: must be a whole number of seconds that divides a day .*\(from MTF_ALIGN_EVERY\)$/,
    );
    oneLine(typo, ExitCode.Usage, /^mtf-ping-pong: MTF_DRY_RUN must be true or false .*not "flase"$/);
    oneLine(
      live,
      ExitCode.Usage,
      /^mtf-ping-pong: invalid config: dry_run: false means a live run .*confirm_live: true.*\(from MTF_DRY_RUN\)$/,
    );
    oneLine(missing, ExitCode.Usage, /^mtf-ping-pong: cannot read config file .*missing\.json.*\(from MTF_CONFIG_FILE\)$/);
    oneLine(
      outOfRange,
      ExitCode.Usage,
      /^mtf-ping-pong: invalid config: ping_interval: must be greater than 0 seconds \(from MTF_PING_INTERVAL\)$/,
    );
  });

  test('a valid env config gets past the config check (to Temporal, here unreachable); a flag overrides a bad env value', async () => {
    const file = jsonFile('cli.json', { ping_interval: 0 });
    const [fine, flagWins, liveConfirmed, aligned] = await Promise.all([
      start({ MTF_SYMBOLS: ' BTCUSDT, ETHUSDT ', MTF_DRY_RUN: 'TRUE', MTF_API_TOKEN: 'not-config', MTF_DATA_DIR: '/nowhere' }),
      start({ MTF_PING_INTERVAL: '0', [CONFIG_FILE_ENV]: file }, '--interval', '5s'),
      start({ MTF_DRY_RUN: 'false', MTF_CONFIRM_LIVE: 'yes' }),
      start({ MTF_CADENCE: 'aligned', MTF_ALIGN_EVERY: '300', MTF_ALIGN_OFFSET: '3' }),
    ]);
    for (const run of [fine, flagWins, aligned]) oneLine(run, ExitCode.TemporalUnreachable, /^mtf-ping-pong: cannot reach Temporal at /);
    assert.equal(liveConfirmed.code, ExitCode.TemporalUnreachable, liveConfirmed.stderr);
    assert.match(
      liveConfirmed.stderr,
      /^warning: LIVE: loop mtf-ping-pong sends dry_run: false to http:\/\/trading-app-nginx:80\/api\/mtf\/run/,
    );
  });

  test('--help lists the config env vars', async () => {
    const { stdout: help } = await promisify(execFile)(process.execPath, [CLI, '--help'], { encoding: 'utf8', timeout: 20_000 });
    assert.match(help, /MTF_<KEY> +any loop config key/);
    assert.match(help, /MTF_CONFIG_FILE +a JSON config file/);
    assert.match(help, /Precedence: flag > env > config file > default/);
  });
});
