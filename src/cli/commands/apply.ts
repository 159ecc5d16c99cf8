/**
 * `apply -f FILE`: makes the namespace match a fleet file (start the missing loops, update the
 * changed ones, leave the identical ones, stop with --prune those the file no longer lists), and
 * `apply --plan` / `diff`: says what that would do and changes nothing, with an exit code a CI
 * check can read. The file is judged whole first: one bad loop changes nothing.
 */
import type { Command } from 'commander';
import { applyExitCode, applyPlan, planAgainst, readFleetFile } from '../fleet-apply';
import { addConcurrencyOption } from '../group-steering';
import { planLines, resultLines } from '../fleet-text';
import { needsConfirmLive, pendingSteps, type Plan } from '../../fleet/plan';
import { ExitCode, action, examples, printJson, say, warn } from '../output';
import { addTemporalOptions, withClient, type TemporalOptions } from '../temporal';

interface ApplyOptions extends TemporalOptions {
  file: string;
  check?: boolean;
  plan?: boolean;
  prune?: boolean;
  confirmLive?: boolean;
  concurrency: number;
  json?: boolean;
}

function addApplyOptions(command: Command, planOnly: boolean): Command {
  command
    .requiredOption('-f, --file <file>', 'the fleet file, YAML or JSON; - reads stdin')
    .option('--prune', 'stop (gracefully) the loops of this fleet that the file no longer lists')
    .option('--confirm-live', 'allow the loops the plan starts LIVE or turns LIVE (they need confirm_live: true in the file too)')
    .option('--json', planOnly ? 'the plan as JSON' : 'the plan (with --plan) or the results as JSON');
  if (!planOnly)
    command
      .option('--plan', 'only print the plan (also: mtf-ping-pong diff); exit 7 when changes are pending')
      .option(
        '--check',
        'only judge the file, without Temporal: exit 0 valid, 2 invalid (what the container does before its worker starts)',
      );
  return addTemporalOptions(addConcurrencyOption(command));
}

/** The plan's exit code: 0 in sync, 7 changes pending, 1 a loop the file cannot take (a conflict). */
function planExitCode(plan: Plan, prune: boolean): ExitCode {
  if (plan.steps.some((step) => step.kind === 'conflict')) return ExitCode.Failure;
  return pendingSteps(plan, prune).length > 0 ? ExitCode.ChangesPending : ExitCode.Ok;
}

function run(planOnly: boolean) {
  return action(async (options: ApplyOptions) => {
    // Judged before connecting: an invalid file is the same mistake whether or not Temporal answers.
    const file = readFleetFile(options.file);
    if (options.check) {
      say(`fleet ${file.fleet} (${file.source}): ${file.loops.length} loop${file.loops.length === 1 ? '' : 's'}, valid`);
      return ExitCode.Ok;
    }
    const prune = options.prune ?? false;
    const confirmLive = options.confirmLive ?? false;
    return withClient(options, async (client, target) => {
      const { plan, missingAttributes } = await planAgainst(client, target, file, options.concurrency);
      if (planOnly || options.plan) {
        if (options.json)
          printJson({
            ...plan,
            pending: pendingSteps(plan, prune).length,
            needs_confirm_live: plan.steps.filter(needsConfirmLive).map((s) => s.id),
          });
        else planLines(plan, { prune, confirmLive }).forEach((line) => say(line));
        return planExitCode(plan, prune);
      }
      if (pendingSteps(plan, prune).some(needsConfirmLive))
        warn(
          `warning: LIVE: this apply starts or turns LIVE loops that can place real orders${confirmLive ? '' : ' (refused without --confirm-live)'}`,
        );
      const results = await applyPlan(client, target, plan, {
        taskQueue: target.taskQueue,
        prune,
        confirmLive,
        concurrency: options.concurrency,
        missingAttributes,
      });
      if (options.json) printJson({ fleet: plan.fleet, source: plan.source, results });
      else resultLines(plan, results).forEach((line) => say(line));
      return applyExitCode(results);
    });
  });
}

export function registerApply(program: Command): void {
  const apply = program
    .command('apply')
    .description(
      'make the namespace match a fleet file: start missing loops, update changed ones, leave identical ones; --prune stops the ones it no longer lists',
    )
    .addHelpText(
      'after',
      examples([
        'mtf-ping-pong apply -f examples/fleet.yaml --plan',
        'mtf-ping-pong apply -f examples/fleet.yaml',
        'mtf-ping-pong apply -f fleet.yaml --prune',
        'mtf-ping-pong apply -f live-fleet.yaml --confirm-live',
        'cat fleet.json | mtf-ping-pong apply -f -',
      ]),
    );
  addApplyOptions(apply, false).action(run(false));

  const diff = program
    .command('diff')
    .description('print what apply -f FILE would do and change nothing (apply --plan); exit 0 in sync, 7 changes pending, 2 invalid file')
    .addHelpText('after', examples(['mtf-ping-pong diff -f examples/fleet.yaml', 'mtf-ping-pong diff -f fleet.yaml --prune --json']));
  addApplyOptions(diff, true).action(run(true));
}
