/** `status` (one loop, once or watched) and `list` (the loops on the namespace). */
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { Option, type Command } from 'commander';
import type { TemporalTarget } from '../../client/connection';
import { LoopNotFoundError, listLoops, type LoopFilter } from '../../client/loops';
import { OUTCOMES } from '../../shared/outcomes';
import { LOOP_STATES, registerCommand } from '../../shared/search-attributes';
import { DEFAULT_WORKFLOW_ID } from '../../shared/messages';
import { listLines, runIdPrefixOf, statusLines, type ListedLoop } from '../format';
import { POLL_MS } from '../follow';
import { messageOf } from '../../lib/errors';
import { ExitCode, action, examples, printJson, say } from '../output';
import { addTemporalOptions, statusWithin, withClient, type TemporalOptions } from '../temporal';

/** `list` asks every loop for its iteration at once; one that does not answer soon is shown without it. */
const LIST_QUERY_TIMEOUT_MS = 5_000;
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

interface StatusOptions extends TemporalOptions {
  json?: boolean;
  watch?: boolean;
}

async function printStatus(client: Client, target: TemporalTarget, id: string, options: StatusOptions): Promise<void> {
  const status = await statusWithin(client, id, target);
  // Watched JSON is one object per line, so a pipe can read it as it comes.
  if (options.json) say(options.watch ? JSON.stringify(status) : JSON.stringify(status, null, 2));
  else statusLines(status).forEach((line) => say(line));
}

/** Refreshes every 2 s until Ctrl-C (or SIGTERM); in a terminal the view is redrawn in place. */
async function watch(client: Client, target: TemporalTarget, id: string, options: StatusOptions): Promise<number> {
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  let done = false;
  void interrupted.then(() => {
    done = true;
  });
  const redraw = process.stdout.isTTY && !options.json;
  while (!done) {
    if (redraw) process.stdout.write(CLEAR_SCREEN);
    try {
      await printStatus(client, target, id, options);
    } catch (err) {
      if (err instanceof LoopNotFoundError) throw err;
      // A passing failure (a worker restarting) is shown and the watch goes on.
      say(`status unavailable: ${messageOf(err)}`);
    }
    if (redraw) say(`\n(every ${POLL_MS / 1000}s; Ctrl-C to quit)`);
    await Promise.race([interrupted, delay(POLL_MS)]);
  }
  return ExitCode.Ok;
}

function registerStatus(program: Command): void {
  const command = program
    .command('status')
    .description(
      "a loop's phase, iteration, counters, success rate, last cycle (what its run found: " +
        'READY contracts, orders, a protection alert), next cycle, last error and pending config',
    )
    .argument('[id]', 'workflow ID of the loop', DEFAULT_WORKFLOW_ID)
    .option('--json', 'the full get_status answer as JSON')
    .option('--watch', 'refresh every 2s until Ctrl-C')
    .addHelpText('after', examples(['mtf-ping-pong status', 'mtf-ping-pong status nightly --json', 'mtf-ping-pong status --watch']));
  addTemporalOptions(command).action(
    action(async (id: string, options: StatusOptions) =>
      withClient(options, async (client, target) => {
        if (options.watch) return watch(client, target, id, options);
        await printStatus(client, target, id, options);
        return ExitCode.Ok;
      }),
    ),
  );
}

/**
 * Visibility lists every run; the status query goes to an ID's latest run, so only the newest
 * listing of each ID gets the answer (an older, closed run would show the new run's count).
 */
async function withIterations(client: Client, target: TemporalTarget, filter: LoopFilter): Promise<ListedLoop[]> {
  const loops = await listLoops(client, 100, filter);
  const newest = new Set<string>();
  return Promise.all(
    loops.map(async (loop) => {
      if (newest.has(loop.workflowId)) return { ...loop, iteration: null, lastTrades: null };
      newest.add(loop.workflowId);
      const status = await statusWithin(client, loop.workflowId, target, LIST_QUERY_TIMEOUT_MS).catch(() => null);
      // Visibility may not give the first run (the dev server's does not); the loop's own answer does.
      return {
        ...loop,
        firstRunId: loop.firstRunId ?? status?.first_run_id ?? null,
        // The loop's own config says its labels even where the namespace lacks their search attributes.
        fleet: status?.config.fleet ?? loop.fleet,
        group: status?.config.group ?? loop.group,
        iteration: status?.current_iteration ?? null,
        lastTrades: status?.last_cycle?.trades ?? null,
      };
    }),
  );
}

interface ListOptions extends StatusOptions {
  fleet?: string;
  group?: string;
  state?: LoopFilter['state'];
  outcome?: LoopFilter['outcome'];
  live?: boolean;
  dryRun?: boolean;
}

function filterOf(options: ListOptions): LoopFilter {
  const live = options.live ? true : options.dryRun ? false : undefined;
  return { state: options.state, outcome: options.outcome, live, fleet: options.fleet, group: options.group };
}

function registerList(program: Command): void {
  const command = program
    .command('list')
    .description('the loops on the namespace, newest first, with their state, iteration and last outcome')
    .option('--json', 'as a JSON array')
    .addOption(new Option('--state <state>', 'only loops in this state (search attribute MtfLoopState)').choices(LOOP_STATES))
    .addOption(new Option('--outcome <outcome>', 'only loops whose last cycle ended so (MtfLastOutcome)').choices(OUTCOMES))
    .addOption(new Option('--live', 'only live loops (MtfDryRun = false)').conflicts('dryRun'))
    .option('--dry-run', 'only dry-run loops (MtfDryRun = true)')
    .option('--fleet <name>', 'only loops of this fleet file (MtfFleet)')
    .option('--group <name>', 'only loops of this group (MtfGroup)')
    .addHelpText(
      'after',
      examples([
        'mtf-ping-pong list',
        'mtf-ping-pong list --state failing',
        'mtf-ping-pong list --state paused',
        'mtf-ping-pong list --live --outcome failed',
        'mtf-ping-pong list --group bitmart',
        'mtf-ping-pong list --fleet bitmart-prod --state paused',
        'mtf-ping-pong list --json --namespace prod',
      ]),
    );
  addTemporalOptions(command).action(
    action(async (options: ListOptions) =>
      withClient(options, async (client, target) => {
        const filter = filterOf(options);
        let loops: ListedLoop[];
        try {
          loops = await withIterations(client, target, filter);
        } catch (err) {
          // The usual cause: the namespace has not registered the attributes the filter names.
          if (Object.values(filter).some((v) => v !== undefined))
            throw new Error(`${messageOf(err)}; filters need: ${registerCommand(target.namespace)}`);
          throw err;
        }
        if (!options.json) {
          listLines(loops).forEach((line) => say(line));
          return;
        }
        printJson(
          loops.map((l) => ({
            workflow_id: l.workflowId,
            run_id: l.runId,
            first_run_id: l.firstRunId,
            run_id_prefix: runIdPrefixOf(l),
            status: l.status,
            iteration: l.iteration,
            loop_state: l.loopState ?? null,
            last_outcome: l.lastOutcome ?? null,
            last_trades: l.lastTrades,
            dry_run: l.dryRun ?? null,
            fleet: l.fleet ?? null,
            group: l.group ?? null,
            start_time: l.startTime.toISOString(),
            close_time: l.closeTime?.toISOString() ?? null,
          })),
        );
      }),
    ),
  );
}

export function registerStatusCommands(program: Command): void {
  registerStatus(program);
  registerList(program);
}
