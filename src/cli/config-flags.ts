/**
 * The config flags `start` and `update` share, turned into the schema's snake_case keys. Values are
 * not judged here: the one schema (config.ts, and the workflow's update validator) does that.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { JsonValue } from '../shared/schema';
import { NO_SYMBOL_NAMED, allSymbols, symbolsFromText, type ConfigPatch, type LoopConfig } from '../shared/config';
import { messageOf } from '../lib/errors';
import { CliError, ExitCode, durationArg, warn } from './output';

export interface ConfigFlags {
  symbols?: string[];
  interval?: number;
  /** `--align`: the period of an aligned cadence, seconds. */
  align?: number;
  /** `--offset`: seconds after each aligned boundary. */
  offset?: number;
  /** `--spread`: seconds over which loops on one period spread their starts. */
  spread?: number;
  mode?: 'auto' | 'signal';
  url?: string;
  forceRun?: boolean;
  live?: boolean;
  confirmAllSymbols?: boolean;
  /** `--param key=value`, repeated: request_extra. */
  param?: Record<string, JsonValue>;
  /** `--notify on|off`: whether this loop tells a human on transitions (notify). */
  notify?: 'on' | 'off';
}

/** `key=value`: the value is JSON when it reads as JSON (`4`, `true`, `{"a":1}`), else the text itself (`scalper`). */
function paramArg(text: string, previous: Record<string, JsonValue> | undefined): Record<string, JsonValue> {
  const at = text.indexOf('=');
  const key = at < 0 ? '' : text.slice(0, at).trim();
  if (key === '') throw new InvalidArgumentError('must be key=value, like mtf_profile=scalper');
  const raw = text.slice(at + 1);
  let value: JsonValue = raw;
  try {
    value = JSON.parse(raw) as JsonValue;
  } catch {
    // Not JSON: a plain word such as `scalper` is meant as text.
  }
  return { ...previous, [key]: value };
}

/** `A,B,…`, or `all`: the app's own active contracts (`symbols: []`). */
function symbolsArg(text: string): string[] {
  const symbols = symbolsFromText(text);
  if (!symbols) throw new InvalidArgumentError(NO_SYMBOL_NAMED);
  return symbols;
}

export function addConfigFlags(command: Command): Command {
  return command
    .option(
      '--symbols <A,B,...|all>',
      "contracts to process, comma-separated, or all: the app's own active contracts (symbols)",
      symbolsArg,
    )
    .option('--interval <duration>', 'pause between cycles: 30s, 2m, 1h or seconds (ping_interval; cadence interval)', durationArg)
    .option(
      '--align <duration>',
      'start cycles on candle closes instead: every 1m, 5m, 1h counted from midnight UTC (cadence aligned, align_every)',
      durationArg,
    )
    .option(
      '--offset <duration>',
      'with an aligned cadence: how long after each boundary a cycle starts, default 2s (align_offset)',
      durationArg,
    )
    .option(
      '--spread <duration>',
      'with an aligned cadence: each loop starts at its own point of this span after the offset, from its workflow ID, default 0 (align_spread)',
      durationArg,
    )
    .addOption(
      new Option('--mode <mode>', 'auto: runs by itself; signal: waits for continue_signal (continue_mode)').choices(['auto', 'signal']),
    )
    .option('--url <url>', "the app's MTF run endpoint (mtf_url)")
    .option('--force-run', "run even when the app's kill switch is OFF (force_run)")
    .option('--live', 'LIVE runs that can place real orders: dry_run false + confirm_live true')
    .option(
      '--confirm-all-symbols',
      'with --live and --symbols all: trade every active contract of the app, present and future (confirm_all_symbols)',
    )
    .option(
      '--param <key=value>',
      'a further field of the run request, repeatable; JSON when it reads as JSON, else text (request_extra, as a whole)',
      paramArg,
    )
    .addOption(
      new Option('--notify <on|off>', "tell a human on transitions through the worker's MTF_NOTIFY_URL, default on (notify)").choices([
        'on',
        'off',
      ]),
    );
}

/** What each flag sets: the patch and the flag named as the source of each key it sets, from one table. */
type FlagEffects = { [F in keyof ConfigFlags]-?: { flag: string; patch: (value: NonNullable<ConfigFlags[F]>) => ConfigPatch } };

const FLAG_EFFECTS: FlagEffects = {
  symbols: { flag: '--symbols', patch: (symbols) => ({ symbols }) },
  // --interval names the cadence too, so `update --interval 30s` takes an aligned loop back to pauses.
  interval: { flag: '--interval', patch: (seconds) => ({ ping_interval: seconds, cadence: 'interval' }) },
  align: { flag: '--align', patch: (seconds) => ({ cadence: 'aligned', align_every: seconds }) },
  offset: { flag: '--offset', patch: (seconds) => ({ align_offset: seconds }) },
  spread: { flag: '--spread', patch: (seconds) => ({ align_spread: seconds }) },
  mode: { flag: '--mode', patch: (mode) => ({ continue_mode: mode }) },
  url: { flag: '--url', patch: (url) => ({ mtf_url: url }) },
  forceRun: { flag: '--force-run', patch: (on) => (on ? { force_run: true } : {}) },
  live: { flag: '--live', patch: (on) => (on ? { dry_run: false, confirm_live: true } : {}) },
  confirmAllSymbols: { flag: '--confirm-all-symbols', patch: (on) => (on ? { confirm_all_symbols: true } : {}) },
  param: { flag: '--param', patch: (extra) => ({ request_extra: extra }) },
  notify: { flag: '--notify', patch: (on) => ({ notify: on === 'on' }) },
};

export interface FlagPatch {
  /** Only the keys the given flags set, so a file's (or the running loop's) values stay where no flag speaks. */
  patch: ConfigPatch;
  /** The flag behind each key of the patch, for "where did this value come from" in error messages. */
  sources: Record<string, string>;
}

/** The config keys the given flags set; --align with --interval is a usage error (they name two cadences). */
export function flagPatch(flags: ConfigFlags): FlagPatch {
  if (flags.align !== undefined && flags.interval !== undefined) {
    throw new CliError(
      '--align and --interval contradict each other: --align starts cycles on beats (cadence aligned), --interval after a pause (cadence interval)',
      ExitCode.Usage,
    );
  }
  const result: FlagPatch = { patch: {}, sources: {} };
  for (const name of Object.keys(FLAG_EFFECTS) as (keyof ConfigFlags)[]) {
    const value = flags[name];
    if (value === undefined) continue;
    const { flag, patch } = FLAG_EFFECTS[name] as { flag: string; patch: (value: unknown) => ConfigPatch };
    const keys = patch(value);
    Object.assign(result.patch, keys);
    for (const key of Object.keys(keys)) result.sources[key] = flag;
  }
  return result;
}

export function patchFromFlags(flags: ConfigFlags): ConfigPatch {
  return flagPatch(flags).patch;
}

/** A JSON object of config keys; what the keys hold is the schema's business. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read config file ${path}: ${messageOf(err)}`, ExitCode.Usage);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(`config file ${path} is not valid JSON: ${messageOf(err)}`, ExitCode.Usage);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`config file ${path} must hold a JSON object of config keys, like {"ping_interval": 60}`, ExitCode.Usage);
  }
  return parsed as Record<string, unknown>;
}

/** `--offset` on a loop whose cadence is `interval`: accepted (it is kept for a later --align), but it changes nothing now. */
export function warnIdleOffset(flags: ConfigFlags, config: LoopConfig): void {
  for (const [given, flag] of [
    [flags.offset, '--offset'],
    [flags.spread, '--spread'],
  ] as const) {
    if (given !== undefined && config.cadence !== 'aligned')
      warn(
        `warning: ${flag} applies to an aligned cadence only; this loop pauses ping_interval between cycles (add --align to start cycles on beats)`,
      );
  }
}

/** Said before every live start or switch: what will be called, and whether a failed call may be sent again. */
export function warnLive(workflowId: string, config: LoopConfig): void {
  const retries = config.mtf_idempotent
    ? 'the app is declared idempotent (mtf_idempotent: true), so a failed call may be retried with the same Idempotency-Key'
    : 'the app is NOT declared idempotent (mtf_idempotent: false), so a call that may have reached it is never sent again';
  const which = allSymbols(config) ? ' on EVERY active contract of the app, present and future,' : '';
  warn(`warning: LIVE: loop ${workflowId} sends dry_run: false to ${config.mtf_url}, which can place real orders${which}; ${retries}`);
}
