/**
 * `pause` and `resume`: the loop's Updates, so an older worker without them refuses instead of
 * buffering them while the loop keeps trading. `pause` waits (bounded) until the loop is held:
 * a cycle that runs when it is asked is recorded first.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { TemporalTarget } from '../../client/connection';
import { pauseLoop, resumeLoop } from '../../client/loops';
import { DEFAULT_WORKFLOW_ID } from '../../shared/messages';
import type { LoopStatus } from '../../shared/status';
import { pausedText } from '../format';
import { CliError, ExitCode, action, durationArg, examples, formatDuration, say, warn } from '../output';
import { addGroupOptions, groupOrId, steerGroup, type GroupOptions } from '../group-steering';
import { UPDATE_TIMEOUT_MS, addTemporalOptions, answeredWithin, statusWithin, withClient, type TemporalOptions } from '../temporal';

/** A pause waits for the running cycle, whose budget is max_execution_time: that plus this margin bounds the wait by default. */
const PAUSE_MARGIN_S = 30;
/** How often the wait reads get_status: often enough to answer soon after the cycle, rarely enough for a busy worker. */
const PAUSE_POLL_MS = 400;

interface PauseOptions extends TemporalOptions, GroupOptions {
  reason?: string;
  wait: boolean;
  timeout?: number;
}

/** Reads get_status until the pause is in force; throws when it is not by the deadline, or cannot be any more. */
async function awaitPaused(
  client: Client,
  target: TemporalTarget,
  id: string,
  timeout: number | undefined,
  quiet = false,
): Promise<LoopStatus> {
  let status = await statusWithin(client, id, target);
  const seconds = timeout ?? status.config.max_execution_time + PAUSE_MARGIN_S;
  const deadline = Date.now() + seconds * 1000;
  if (status.phase !== 'paused' && !quiet)
    warn(`waiting up to ${formatDuration(seconds)} for iteration ${status.current_iteration} to be recorded...`);
  while (status.phase !== 'paused') {
    if (!status.is_running) throw new CliError(`loop ${id} ended (${status.phase}) before it paused`, ExitCode.Failure);
    if (!status.pause) throw new CliError(`loop ${id}: the pause was withdrawn (resumed) before it took effect`, ExitCode.Failure);
    if (Date.now() >= deadline) {
      throw new CliError(
        `loop ${id} has not paused within ${formatDuration(seconds)}; the pause stays asked: it takes ` +
          `effect once iteration ${status.current_iteration} is recorded (see mtf-ping-pong status ${id})`,
        ExitCode.Failure,
      );
    }
    await delay(PAUSE_POLL_MS);
    status = await statusWithin(client, id, target);
  }
  return status;
}

function registerPause(program: Command): void {
  const command = program
    .command('pause')
    .description('hold a loop: its running cycle finishes and is recorded, then it sends nothing and keeps no timer until resume')
    .argument('[id]', `workflow ID of the loop (default ${DEFAULT_WORKFLOW_ID})`)
    .option('--reason <text>', 'why, shown in status')
    .option('--no-wait', 'only ask for the pause; do not wait until it is in force')
    .option('--timeout <duration>', "how long to wait until it is in force (default: the loop's max_execution_time + 30s)", durationArg)
    .addHelpText(
      'after',
      examples([
        'mtf-ping-pong pause',
        'mtf-ping-pong pause nightly --reason maintenance',
        'mtf-ping-pong pause --no-wait',
        'mtf-ping-pong pause --group bitmart --reason "exchange maintenance"',
      ]),
    );
  addTemporalOptions(addGroupOptions(command, 'pause')).action(
    action(async (given: string | undefined, options: PauseOptions) => {
      const group = groupOrId(given, options);
      const id = given ?? DEFAULT_WORKFLOW_ID;
      return withClient(options, async (client, target) => {
        const pause = (loopId: string) =>
          answeredWithin(client, target, { workflowId: loopId, what: 'pause', timeoutMs: UPDATE_TIMEOUT_MS }, () =>
            pauseLoop(client, loopId, options.reason),
          );
        if (group)
          return steerGroup(client, target, group.group, { ...options, verb: 'pause' }, async (loopId) => {
            const answer = await pause(loopId);
            return options.wait ? pausedText(await awaitPaused(client, target, loopId, options.timeout, true)) : answer;
          });
        say(`loop ${id} ${await pause(id)}`);
        if (!options.wait) return ExitCode.Ok;
        const held = await awaitPaused(client, target, id, options.timeout);
        say(`loop ${id} ${pausedText(held)}: it sends nothing and keeps no timer until \`mtf-ping-pong resume ${id}\``);
        return ExitCode.Ok;
      });
    }),
  );
}

function registerResume(program: Command): void {
  const command = program
    .command('resume')
    .description('end a pause: the loop goes on (in signal mode it waits for continue_signal; aligned, for the next beat)')
    .argument('[id]', `workflow ID of the loop (default ${DEFAULT_WORKFLOW_ID})`)
    .addHelpText('after', examples(['mtf-ping-pong resume', 'mtf-ping-pong resume nightly', 'mtf-ping-pong resume --group bitmart']));
  addTemporalOptions(addGroupOptions(command, 'resume')).action(
    action(async (given: string | undefined, options: TemporalOptions & GroupOptions) => {
      const group = groupOrId(given, options);
      return withClient(options, async (client, target) => {
        const resume = (id: string) =>
          answeredWithin(client, target, { workflowId: id, what: 'resume', timeoutMs: UPDATE_TIMEOUT_MS }, () => resumeLoop(client, id));
        if (group) return steerGroup(client, target, group.group, { ...options, verb: 'resume' }, resume);
        const id = given ?? DEFAULT_WORKFLOW_ID;
        say(`loop ${id} ${await resume(id)}`);
        return ExitCode.Ok;
      });
    }),
  );
}

export function registerPauseResume(program: Command): void {
  registerPause(program);
  registerResume(program);
}
