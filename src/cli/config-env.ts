/**
 * The loop config from the environment, and the one merge of every source a start reads:
 *
 *     flag  >  env (MTF_<KEY>)  >  file (--config, else MTF_CONFIG_FILE)  >  default (the schema)
 *
 * Env names come from the schema's keys, mechanically: `MTF_` + the key upper-cased, the prefix not
 * doubled for keys that already start with `mtf_` (mtf_url → MTF_URL, mtf_idempotent →
 * MTF_IDEMPOTENT). Only exact
 * matches are read: MTF_API_TOKEN, MTF_DATA_DIR, MTF_ENCRYPTION_KEY and the like are not config.
 * Text becomes a value by the key's kind in the schema (boolean, number, list, nullable, text), so
 * a key added to the schema gets its env var, converted right, with no change here. The values
 * themselves (ranges, URLs, symbols, live needs confirm_live) are judged by the schema alone.
 */
import {
  NO_SYMBOL_NAMED,
  ConfigError,
  symbolsFromText,
  CONFIG_KEYS,
  describeIssues,
  loopConfigSchema,
  type LoopConfig,
} from '../shared/config';
import type { Schema } from '../shared/schema';
import { booleanOf, notBoolean, quoted } from '../lib/env';
import { flagPatch, readConfigFile, type ConfigFlags } from './config-flags';
import { CliError, ExitCode } from './output';

/** The env var that names a JSON config file, read when no --config flag is given. */
export const CONFIG_FILE_ENV = 'MTF_CONFIG_FILE';

type ConfigKey = keyof LoopConfig;

/** `MTF_` + the key upper-cased; a key that already starts with `mtf_` keeps a single prefix (mtf_url → MTF_URL). */
export function envVarName(key: string): string {
  const upper = key.toUpperCase();
  return upper.startsWith('MTF_') ? upper : `MTF_${upper}`;
}

/** Every config key's env var, in the schema's order. */
export const CONFIG_ENV_VARS: Readonly<Record<ConfigKey, string>> = Object.fromEntries(
  CONFIG_KEYS.map((key) => [key, envVarName(key)]),
) as Record<ConfigKey, string>;

// ---------------------------------------------------------------------------------------------
// The kind of each key, read from the schema itself.

type Scalar = 'boolean' | 'number' | 'text' | 'json';
export interface EnvKind {
  /** How one value (or each list item) is read. */
  scalar: Scalar;
  /** A comma-separated list. */
  list: boolean;
  /** The text `null` means null. */
  nullable: boolean;
}

function scalarOf(schema: Schema<unknown>): Scalar {
  if (schema.kind === 'boolean') return 'boolean';
  if (schema.kind === 'number') return 'number';
  if (schema.kind === 'string' || schema.kind === 'choice') return 'text';
  // Anything else (an object, ...) is written as JSON; the schema judges it.
  return 'json';
}

/** The value's own type, under default / nullable / optional. */
export function envKind(key: ConfigKey): EnvKind {
  const schema = loopConfigSchema.shape[key];
  const core = schema.core;
  const item = core.item?.core;
  return item
    ? { scalar: scalarOf(item), list: true, nullable: schema.isNullable }
    : { scalar: scalarOf(core), list: false, nullable: schema.isNullable };
}

// ---------------------------------------------------------------------------------------------
// Text → value.

/** Plain decimal numbers only: no hex, no `Infinity`, no empty string silently read as 0. */
const NUMBER_PATTERN = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

/** One value, or a problem (a sentence that starts after the env var's name). */
function readScalar(scalar: Scalar, text: string): { value: unknown } | { problem: string } {
  const trimmed = text.trim();
  switch (scalar) {
    case 'boolean': {
      // The one reading of a boolean variable (lib/env), the worker's included.
      const value = booleanOf(text);
      return value === null ? { problem: notBoolean(text) } : { value };
    }
    case 'number':
      return NUMBER_PATTERN.test(trimmed) ? { value: Number(trimmed) } : { problem: `must be a number, not ${quoted(text)}` };
    case 'json':
      try {
        return { value: JSON.parse(text) as unknown };
      } catch {
        return { problem: `must be JSON, not ${quoted(text)}` };
      }
    case 'text':
      return { value: text };
  }
}

function readEnvValue(kind: EnvKind, text: string): { value: unknown } | { problem: string } {
  if (kind.nullable && text.trim().toLowerCase() === 'null') return { value: null };
  if (!kind.list) return readScalar(kind.scalar, text);
  const items: unknown[] = [];
  for (const item of text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')) {
    const read = readScalar(kind.scalar, item);
    if ('problem' in read)
      return { problem: `must be a comma-separated list; item ${quoted(item)} ${read.problem.replace(/, not .*$/, '')}` };
    items.push(read.value);
  }
  return { value: items };
}

/** MTF_SYMBOLS: `all` is the app's own active contracts; a list that comes out empty (`,`) is refused, not taken for all. */
function readSymbols(text: string): { value: unknown } | { problem: string } {
  const symbols = symbolsFromText(text);
  return symbols ? { value: symbols } : { problem: NO_SYMBOL_NAMED };
}

/**
 * The config keys set in `env`, converted by their kind; an empty (or blank) variable is unset.
 * Throws one {@link ConfigError} naming every bad env var.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of CONFIG_KEYS) {
    const name = CONFIG_ENV_VARS[key];
    const text = env[name];
    if (text === undefined || text.trim() === '') continue;
    // An empty variable counts as unset: `all` says `symbols: []`, the app's own active contracts.
    const read = key === 'symbols' ? readSymbols(text) : readEnvValue(envKind(key), text);
    if ('problem' in read) problems.push(`${name} ${read.problem}`);
    else config[key] = read.value;
  }
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return config;
}

// ---------------------------------------------------------------------------------------------
// The merge.

export interface StartConfigSources {
  /** The --config flag, if given. */
  file?: string | undefined;
  env: NodeJS.ProcessEnv;
  flags?: ConfigFlags;
  /** How a live config file is confirmed, for its refusal; `start`'s is --live. */
  confirmLiveFile?: string;
}

export interface ResolvedConfig {
  /** The merged input, not yet checked: defaults are the schema's, filled in by {@link parseResolvedConfig}. */
  input: Record<string, unknown>;
  /** Where each key that is not a default came from: `--interval`, `MTF_PING_INTERVAL`, `config file loop.json`. */
  sources: Record<string, string>;
  /** The config file that was read, if any. */
  file: string | null;
}

function readFileFrom(path: string, fromEnv: boolean): Record<string, unknown> {
  try {
    return readConfigFile(path);
  } catch (err) {
    if (fromEnv && err instanceof CliError) throw new CliError(`${err.message} (from ${CONFIG_FILE_ENV})`, err.exitCode);
    throw err;
  }
}

/**
 * default < file < env < flags, as one input object for the schema. The file is --config, else
 * MTF_CONFIG_FILE. A file that makes the config live (its dry_run: false is not overridden) still
 * needs --live on the command line; a live env needs MTF_CONFIRM_LIVE=true (or --live), which the
 * schema enforces.
 */
export function resolveStartConfig({
  file,
  env,
  flags = {},
  confirmLiveFile = 'pass --live to confirm it',
}: StartConfigSources): ResolvedConfig {
  const envFile = env[CONFIG_FILE_ENV]?.trim() || undefined;
  const path = file ?? envFile ?? null;
  const fromFlags = flagPatch(flags);
  const layers: [Record<string, unknown>, (key: string) => string][] = [
    [path === null ? {} : readFileFrom(path, file === undefined), () => `config file ${path}`],
    [configFromEnv(env), envVarName],
    [fromFlags.patch, (key) => fromFlags.sources[key] ?? 'a flag'],
  ];
  const input: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const [layer, source] of layers) {
    for (const [key, value] of Object.entries(layer)) {
      input[key] = value;
      sources[key] = source(key);
    }
  }
  if (path !== null && input.dry_run === false && sources.dry_run === `config file ${path}`) {
    throw new CliError(
      `config file ${path} sets dry_run: false, a live run that can place real orders: ${confirmLiveFile}`,
      ExitCode.Usage,
    );
  }
  return { input, sources, file: path };
}

/**
 * The merged input through the one schema, once. Each problem is the schema's own line, followed by
 * where the key came from when it was not a default: `ping_interval: must be greater than 0 seconds (from MTF_PING_INTERVAL)`.
 */
export function parseResolvedConfig({ input, sources }: ResolvedConfig): LoopConfig {
  const result = loopConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.issues.map((issue) => {
    const line = describeIssues([issue]);
    const key = issue.unknownKeys ? issue.unknownKeys[0] : issue.path[0];
    const source = typeof key === 'string' ? sources[key] : undefined;
    return source ? `${line} (from ${source})` : line;
  });
  throw new ConfigError(`invalid config: ${lines.join('; ')}`);
}
