/**
 * What every command shares: the documented exit codes, one-line errors, duration parsing, and
 * the few printing helpers that keep people's output (stdout, short) apart from JSON and warnings.
 */
import { InvalidArgumentError } from 'commander';
import { CREDENTIALS_REFUSED_EXIT, CredentialsRefusedError } from '../client/connection-errors';
import { LoopAlreadyRunningError, LoopNotFoundError } from '../client/loops';
import { withEncryptionHint } from '../codec/encryption';
import { messageOf } from '../lib/errors';
import { ConfigError } from '../shared/config';
import { FleetFileError } from '../fleet/fleet-file';

/** The exit codes, documented in `mtf-ping-pong --help`; scripts and container entrypoints rely on them. */
export const ExitCode = {
  Ok: 0,
  /** Unhealthy, or any failure without a code of its own. */
  Failure: 1,
  /** A usage error or an invalid config: fix the command line or the file. */
  Usage: 2,
  TemporalUnreachable: 3,
  LoopNotFound: 4,
  AlreadyRunning: 5,
  /** Temporal answered but refused the credentials, or its certificate is not trusted: retrying cannot help. */
  CredentialsRefused: CREDENTIALS_REFUSED_EXIT,
  /** `apply --plan` / `diff`: the fleet file is valid and the namespace does not match it yet. */
  ChangesPending: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  unhealthy, or another failure
  2  usage error or invalid config
  3  Temporal unreachable ("cannot reach Temporal at ADDRESS (namespace NS): reason")
  4  no loop with that ID
  5  the loop is already running
  6  TLS or credentials refused (untrusted or misnamed server certificate, client certificate or API key refused)
  7  apply --plan / diff: changes are pending (the namespace does not match the fleet file yet)`;

/** An expected failure: its message is the whole story, printed as one line with its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

/** The one line and exit code for any error; never a stack trace. */
export function describeFailure(err: unknown): { message: string; exitCode: ExitCode } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof LoopNotFoundError) return { message: err.message, exitCode: ExitCode.LoopNotFound };
  if (err instanceof LoopAlreadyRunningError) return { message: err.message, exitCode: ExitCode.AlreadyRunning };
  if (err instanceof ConfigError || err instanceof FleetFileError) return { message: err.message, exitCode: ExitCode.Usage };
  if (err instanceof CredentialsRefusedError) return { message: err.message, exitCode: ExitCode.CredentialsRefused };
  return { message: oneLine(withEncryptionHint(messageOf(err))), exitCode: ExitCode.Failure };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** `30s`, `2m`, `1h`, `200ms` or plain seconds (`45`, `0.5`) → seconds. Throws on anything else. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?$/i.exec(text.trim());
  if (!match?.[1]) throw new Error(`"${text}" is not a duration: use 30s, 2m, 1h, 200ms or plain seconds`);
  const unit = UNIT_SECONDS[(match[2] ?? 's').toLowerCase()] ?? 1;
  // Rounded to the millisecond so `0.1s` does not become 0.30000000000000004-style noise in the config.
  return Math.round(Number(match[1]) * unit * 1000) / 1000;
}

/** Commander's parser for a duration option; the schema decides which values a config accepts. */
export function durationArg(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new InvalidArgumentError(messageOf(err));
  }
}

/** Seconds for people: `30s`, `2m`, `1h30m`, `0.5s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60 || !Number.isInteger(seconds)) return `${Math.round(seconds * 1000) / 1000}s`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].join('');
}

export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Warnings and progress go to stderr, so stdout stays the answer (and valid JSON with --json). */
export function warn(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  say(JSON.stringify(value, null, 2));
}

/** Examples for a command's `--help`. */
export function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

/**
 * Ends the process once stdout and stderr have been handed their last line. Exiting explicitly is
 * what lets a command end while the client's gRPC channel (or a pending long poll) is still open.
 */
export function exitWith(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

/** Wraps a command's action: its result is the exit code; an error becomes one line and its code. */
export function action<A extends unknown[]>(run: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      exitWith((await run(...args)) ?? ExitCode.Ok);
    } catch (err) {
      const { message, exitCode } = describeFailure(err);
      warn(`mtf-ping-pong: ${message}`);
      exitWith(exitCode);
    }
  };
}
