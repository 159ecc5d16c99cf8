#!/usr/bin/env node
/**
 * `mtf-ping-pong`: one CLI for every loop. Each command reaches Temporal through the worker's env
 * vars (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TASK_QUEUE_NAME, TLS / API key via envconfig) with
 * `--address` / `--namespace` on top, and drives loops only through src/client/loops.ts.
 *
 * Nothing runs at import time, so tests and other tools can build the program themselves.
 */
import { Command, CommanderError } from 'commander';
import { registerApply } from './commands/apply';
import { registerCodecServer } from './commands/codec-server';
import { registerControl } from './commands/control';
import { registerDashboard } from './commands/dashboard';
import { registerHealth } from './commands/health';
import { registerPauseResume } from './commands/pause';
import { registerProcesses } from './commands/processes';
import { registerSchema } from './commands/schema';
import { registerStart } from './commands/start';
import { registerStatusCommands } from './commands/status';
import { registerUpdate } from './commands/update';
import { messageOf } from '../lib/errors';
import { EXIT_CODES_HELP, ExitCode, examples, exitWith, warn } from './output';

const ENVIRONMENT_HELP = `
Environment (as the worker reads it):
  TEMPORAL_ADDRESS     default localhost:7233 (--address overrides)
  TEMPORAL_NAMESPACE   default "default" (--namespace overrides)
  TASK_QUEUE_NAME      default mtf-ping-pong-queue
  TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE   TLS and API key through @temporalio/envconfig
  MTF_<KEY>            any loop config key, for start and dev: MTF_URL (mtf_url; for dev also "use this app, not
                       the simulator"; for health the app to check), MTF_SYMBOLS=BTCUSDT,ETHUSDT, MTF_DRY_RUN=false,
                       MTF_CONFIRM_LIVE=true, MTF_PING_INTERVAL=60 (seconds), MTF_CADENCE=aligned,
                       MTF_ALIGN_EVERY=300, MTF_ALIGN_OFFSET=2, MTF_CURRENT_TF=null, ...
                       Precedence: flag > env > config file > default
  MTF_CONFIG_FILE      a JSON config file for start and dev when --config is not given
  DASHBOARD_ADDRESS    where dashboard and dev serve the dashboard, default 127.0.0.1:8080
  MTF_ENCRYPTION_KEY   32 bytes (base64 or hex): encrypt payloads, as the worker does (or MTF_ENCRYPTION_KEY_FILE;
                       MTF_ENCRYPTION_KEY_ID, default mtf-key-1; MTF_ENCRYPTION_OLD_KEYS=id:key,... to read older ones)`;

export function buildProgram(): Command {
  const program = new Command('mtf-ping-pong')
    .description('Drive MTF ping-pong loops on Temporal. A loop ID defaults to mtf-ping-pong wherever it is optional.')
    // Commander's own errors (unknown option, bad value) become exceptions, so they get exit code 2.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`mtf-ping-pong: ${text.replace(/^error: /, '')}`) })
    .addHelpText(
      'after',
      `${examples([
        'mtf-ping-pong dev',
        'mtf-ping-pong start --url http://trading-app-nginx/api/mtf/run --interval 30s',
        'mtf-ping-pong status --watch',
        'mtf-ping-pong update --interval 2m',
        'mtf-ping-pong start --align 5m --offset 2s',
        'mtf-ping-pong pause --reason maintenance',
        'mtf-ping-pong stop --reason maintenance',
        'mtf-ping-pong health --temporal-only --wait 60s',
        'mtf-ping-pong schema > fleet.schema.json',
      ])}${ENVIRONMENT_HELP}\n${EXIT_CODES_HELP}\n`,
    );
  registerProcesses(program);
  registerStart(program);
  registerControl(program);
  registerPauseResume(program);
  registerStatusCommands(program);
  registerUpdate(program);
  registerApply(program);
  registerHealth(program);
  registerDashboard(program);
  registerCodecServer(program);
  registerSchema(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  // A reader that goes away (`| head`) ends the output; it is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? ExitCode.Ok : ExitCode.Failure));
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    // Help and --version "fail" with exit code 0; every other commander error is a usage error.
    if (err instanceof CommanderError) return exitWith(err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage);
    warn(`mtf-ping-pong: ${messageOf(err)}`);
    exitWith(ExitCode.Failure);
  }
}

if (require.main === module) void main();
