/**
 * `pause`, `resume`, `stop`, `continue` and `update` with `--group G`: the same action on every
 * running loop of the group, a bounded number at once, each loop's result on its own line. One
 * loop's refusal or failure never stops the others; the exit code says whether all went through.
 */
import type { Client } from '@temporalio/client';
import { InvalidArgumentError, type Command } from 'commander';
import type { TemporalTarget } from '../client/connection';
import { mapLimit } from '../lib/concurrency';
import { LABEL_PATTERN, LABEL_RULE } from '../shared/config';
import { describeFailure, CliError, ExitCode, say, warn } from './output';
import { labelledLoops } from './labelled-loops';

/** Loops read or changed at once by default: 100 loops in seconds, and few enough calls at once for a small frontend. */
export const DEFAULT_CONCURRENCY = 8;

export interface GroupOptions {
  group?: string;
  concurrency: number;
}

/** `--concurrency`: a whole number from 1 to 64. */
function concurrencyArg(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('must be a whole number from 1 to 64');
  return n;
}

function labelArg(text: string): string {
  if (!LABEL_PATTERN.test(text)) throw new InvalidArgumentError(LABEL_RULE);
  return text;
}

export function addConcurrencyOption(command: Command): Command {
  return command.option(
    '--concurrency <n>',
    `loops acted on at once (default ${DEFAULT_CONCURRENCY})`,
    concurrencyArg,
    DEFAULT_CONCURRENCY,
  );
}

/** `--group` and `--concurrency` on a command that takes one loop's `[id]`. */
export function addGroupOptions(command: Command, verb: string): Command {
  return addConcurrencyOption(command.option('--group <name>', `${verb} every running loop of this group (instead of one ID)`, labelArg));
}

/** The loop's ID, `--group` refused beside one: the two name the loops in two ways. */
export function groupOrId(id: string | undefined, options: GroupOptions): { group: string } | null {
  if (options.group === undefined) return null;
  if (id !== undefined) throw new CliError(`give a loop ID or --group, not both (got ${id} and --group ${options.group})`, ExitCode.Usage);
  return { group: options.group };
}

/**
 * Runs `act` on each running loop of the group; `act` answers the line to print ("paused"). Lines
 * come in the group's order once all are done, then a count; exit 0 when every loop went through,
 * 1 when one did not, 4 when the group has no running loop.
 */
export async function steerGroup(
  client: Client,
  target: TemporalTarget,
  group: string,
  options: GroupOptions & { verb: string },
  act: (id: string) => Promise<string>,
): Promise<ExitCode> {
  const ids = (await labelledLoops(client, target, { group })).sort();
  if (ids.length === 0) throw new CliError(`no running loop in group ${group}`, ExitCode.LoopNotFound);
  warn(`${options.verb}: ${ids.length} loop${ids.length > 1 ? 's' : ''} of group ${group}, ${options.concurrency} at once...`);
  const results = await mapLimit(ids, options.concurrency, async (id) => {
    try {
      return { id, ok: true, line: await act(id) };
    } catch (err) {
      return { id, ok: false, line: `not done: ${describeFailure(err).message}` };
    }
  });
  const width = Math.max(...ids.map((id) => id.length));
  for (const { id, line } of results) say(`  ${id.padEnd(width)}  ${line}`);
  const failed = results.filter((r) => !r.ok).length;
  say(
    `${options.verb} group ${group}: ${results.length - failed} of ${results.length} loops done${failed > 0 ? `, ${failed} not done` : ''}`,
  );
  return failed > 0 ? ExitCode.Failure : ExitCode.Ok;
}
