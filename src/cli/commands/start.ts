/** `start`: the seed's `start_workflow.py start`, with live mode behind an explicit --live. */
import type { Command } from 'commander';
import { startLoop } from '../../client/loops';
import { DEFAULT_WORKFLOW_ID } from '../../shared/messages';
import { parseResolvedConfig, resolveStartConfig } from '../config-env';
import { addConfigFlags, warnIdleOffset, warnLive, type ConfigFlags } from '../config-flags';
import { configLine, endLines } from '../format';
import { followLoop } from '../follow';
import { ExitCode, action, examples, say } from '../output';
import { addTemporalOptions, withClient, type TemporalOptions } from '../temporal';

interface StartOptions extends ConfigFlags, TemporalOptions {
  id: string;
  config?: string;
  wait?: boolean;
}

export function registerStart(program: Command): void {
  const command = program
    .command('start')
    .description('start a loop (refused if one with that ID is already running)')
    .option('--id <id>', 'workflow ID of the loop', DEFAULT_WORKFLOW_ID)
    .option(
      '--config <file.json>',
      'a JSON object of config keys (default: $MTF_CONFIG_FILE); MTF_<KEY> env vars override it, flags override both',
    );
  addConfigFlags(command)
    .option('--wait', 'follow the loop, one line per cycle, until it ends')
    .addHelpText(
      'after',
      examples([
        'mtf-ping-pong start',
        'mtf-ping-pong start --url http://trading-app-nginx/api/mtf/run --symbols BTCUSDT,ETHUSDT --interval 1m',
        'mtf-ping-pong start --id nightly --mode signal --config loop.json',
        'mtf-ping-pong start --align 1m --offset 2s',
        'mtf-ping-pong start --config live.json --live --wait',
        'MTF_SYMBOLS=BTCUSDT,ETHUSDT MTF_PING_INTERVAL=60 mtf-ping-pong start',
        'MTF_CADENCE=aligned MTF_ALIGN_EVERY=300 MTF_ALIGN_OFFSET=3 mtf-ping-pong start',
      ]),
    );
  addTemporalOptions(command).action(
    action(async (options: StartOptions) => {
      // Checked before connecting: a bad config is the same mistake whether or not Temporal answers.
      // Precedence: flag > env (MTF_<KEY>) > file (--config, else MTF_CONFIG_FILE) > default.
      const resolved = resolveStartConfig({ file: options.config, env: process.env, flags: options });
      const input = resolved.input;
      const config = parseResolvedConfig(resolved);
      if (!config.dry_run) warnLive(options.id, config);
      warnIdleOffset(options, config);
      return withClient(options, async (client, target) => {
        const started = await startLoop(client, { taskQueue: target.taskQueue, config: input, workflowId: options.id });
        say(`started loop ${started.workflowId} (run ${started.runId}) on task queue ${target.taskQueue}`);
        say(`  ${configLine(started.config)}`);
        if (!options.wait) return ExitCode.Ok;
        const end = await followLoop(client, target, started.workflowId);
        endLines(started.workflowId, end).forEach((line) => say(line));
        return end.how === 'failed' ? ExitCode.Failure : ExitCode.Ok;
      });
    }),
  );
}
