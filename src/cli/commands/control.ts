/** `stop`, `cancel`, `continue`: the signals (and the cancel) that steer a running loop. */
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { awaitLoopEnd, cancelLoop, continueLoop, loopStatus, requestStop, type LoopEnd } from '../../client/loops';
import { DEFAULT_WORKFLOW_ID } from '../../shared/messages';
import { endLines } from '../format';
import { CliError, ExitCode, action, durationArg, examples, formatDuration, printJson, say, warn } from '../output';
import { addGroupOptions, groupOrId, steerGroup, type GroupOptions } from '../group-steering';
import { addTemporalOptions, withClient, type TemporalOptions } from '../temporal';

/** A stop lets the running cycle finish, and a cycle's budget is 420 s by default: 10 minutes covers it. */
const DEFAULT_STOP_TIMEOUT_S = 600;
/** Node's timers overflow past ~24.8 days (and would then fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface StopOptions extends TemporalOptions, GroupOptions {
  reason?: string;
  wait: boolean;
  timeout: number;
  json?: boolean;
}

function registerStop(program: Command): void {
  const command = program
    .command('stop')
    .description('stop a loop gracefully: its running cycle finishes and is recorded, then it ends with a summary')
    .argument('[id]', `workflow ID of the loop (default ${DEFAULT_WORKFLOW_ID})`)
    .option('--reason <text>', 'why, kept in the summary')
    .option('--no-wait', 'only send stop_signal; do not wait for the end')
    .option('--timeout <duration>', 'how long to wait for the end', durationArg, DEFAULT_STOP_TIMEOUT_S)
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      examples([
        'mtf-ping-pong stop',
        'mtf-ping-pong stop nightly --reason maintenance',
        'mtf-ping-pong stop --no-wait',
        'mtf-ping-pong stop --group bitmart --reason "exchange retired"',
      ]),
    );
  addTemporalOptions(addGroupOptions(command, 'stop')).action(
    action(async (given: string | undefined, options: StopOptions) => {
      const group = groupOrId(given, options);
      return withClient(options, async (client, target) => {
        if (group)
          return steerGroup(client, target, group.group, { ...options, verb: 'stop' }, async (id) => {
            await requestStop(client, id, options.reason);
            if (!options.wait) return 'stop_signal sent: it ends once its running cycle is recorded';
            const end = await endWithin(client, id, options.timeout);
            if (end.how === 'failed') throw new CliError(endLines(id, end).join(' '), ExitCode.Failure);
            return endLines(id, end).join(' ');
          });
        const id = given ?? DEFAULT_WORKFLOW_ID;
        await requestStop(client, id, options.reason);
        if (!options.wait) {
          say(`stop_signal sent to loop ${id}: it ends once its running cycle is recorded`);
          return ExitCode.Ok;
        }
        warn(`stop_signal sent to loop ${id}; waiting up to ${formatDuration(options.timeout)} for its running cycle to finish...`);
        const end = await endWithin(client, id, options.timeout);
        if (options.json) printJson(end);
        else endLines(id, end).forEach((line) => say(line));
        return end.how === 'failed' ? ExitCode.Failure : ExitCode.Ok;
      });
    }),
  );
}

/** The loop's end, or the error that says the stop stays requested when it has not come within `timeout` seconds. */
async function endWithin(client: Client, id: string, timeout: number): Promise<LoopEnd> {
  const end = await Promise.race([awaitLoopEnd(client, id), delay(Math.min(timeout * 1000, MAX_TIMER_MS), null)]);
  if (end === null) {
    throw new CliError(
      `loop ${id} has not ended within ${formatDuration(timeout)}; the stop stays requested (see mtf-ping-pong status ${id})`,
      ExitCode.Failure,
    );
  }
  return end;
}

function registerCancel(program: Command): void {
  const command = program
    .command('cancel')
    .description('end a loop now: its running MTF call is cancelled (stop lets it finish)')
    .argument('[id]', 'workflow ID of the loop', DEFAULT_WORKFLOW_ID)
    .addHelpText('after', examples(['mtf-ping-pong cancel', 'mtf-ping-pong cancel nightly']));
  addTemporalOptions(command).action(
    action(async (id: string, options: TemporalOptions) =>
      withClient(options, async (client) => {
        await cancelLoop(client, id);
        say(`cancellation requested for loop ${id}`);
      }),
    ),
  );
}

function registerContinue(program: Command): void {
  const command = program
    .command('continue')
    .description('send continue_signal: the next cycle starts now (in signal mode, the one that waits for it)')
    .argument('[id]', `workflow ID of the loop (default ${DEFAULT_WORKFLOW_ID})`)
    .addHelpText('after', examples(['mtf-ping-pong continue', 'mtf-ping-pong continue nightly', 'mtf-ping-pong continue --group bitmart']));
  addTemporalOptions(addGroupOptions(command, 'send continue_signal to')).action(
    action(async (given: string | undefined, options: TemporalOptions & GroupOptions) => {
      const group = groupOrId(given, options);
      return withClient(options, async (client, target) => {
        // A paused loop drops the signal (only resume lets it go on): say so, or the operator waits for a cycle that never comes.
        const pausedNote = async (id: string) => {
          const pause = (await loopStatus(client, id).catch(() => null))?.pause;
          return pause
            ? `${pause.since ? 'is paused' : 'has a pause requested'}: it ignores continue_signal; \`mtf-ping-pong resume ${id}\` lets it go on`
            : null;
        };
        if (group)
          return steerGroup(client, target, group.group, { ...options, verb: 'continue' }, async (id) => {
            await continueLoop(client, id);
            const note = await pausedNote(id);
            return note ? `continue_signal sent, but it ${note}` : 'continue_signal sent';
          });
        const id = given ?? DEFAULT_WORKFLOW_ID;
        await continueLoop(client, id);
        say(`continue_signal sent to loop ${id}`);
        const note = await pausedNote(id);
        if (note) warn(`loop ${id} ${note}`);
        return ExitCode.Ok;
      });
    }),
  );
}

export function registerControl(program: Command): void {
  registerStop(program);
  registerCancel(program);
  registerContinue(program);
}
