/**
 * `update`: changes a running loop's config through the `update_config` Update. The loop's own
 * validator judges the patch, so a refused one changes nothing and its reason is printed as is.
 */
import type { Command } from 'commander';
import { updateLoop } from '../../client/loops';
import { DEFAULT_WORKFLOW_ID } from '../../shared/messages';
import { addConfigFlags, patchFromFlags, warnIdleOffset, warnLive, type ConfigFlags } from '../config-flags';
import { configLine } from '../format';
import { CliError, ExitCode, action, examples, say } from '../output';
import { addGroupOptions, groupOrId, steerGroup, type GroupOptions } from '../group-steering';
import { UPDATE_TIMEOUT_MS, addTemporalOptions, answeredWithin, withClient, type TemporalOptions } from '../temporal';

interface UpdateOptions extends ConfigFlags, TemporalOptions, GroupOptions {
  dryRun?: boolean;
  confirmLive?: boolean;
}

export function registerUpdate(program: Command): void {
  const command = program
    .command('update')
    .description("change a running loop's config; it applies from the next cycle and shows in status")
    .argument('[id]', `workflow ID of the loop (default ${DEFAULT_WORKFLOW_ID})`);
  addConfigFlags(command)
    .option('--dry-run', 'back to dry runs (dry_run true)')
    .option('--confirm-live', 'with --group and --live: yes, turn every loop of the group LIVE')
    .addHelpText(
      'after',
      examples([
        'mtf-ping-pong update --interval 2m',
        'mtf-ping-pong update --align 5m --offset 3s',
        'mtf-ping-pong update nightly --symbols BTCUSDT,SOLUSDT --mode signal',
        'mtf-ping-pong update --url https://app.example/api/mtf/run --live',
        'mtf-ping-pong update --group bitmart --interval 5m',
      ]),
    );
  addTemporalOptions(addGroupOptions(command, 'update')).action(
    action(async (given: string | undefined, options: UpdateOptions) => {
      const group = groupOrId(given, options);
      const id = given ?? DEFAULT_WORKFLOW_ID;
      if (options.live && options.dryRun) throw new CliError('--live and --dry-run contradict each other', ExitCode.Usage);
      const patch = { ...patchFromFlags(options), ...(options.dryRun && { dry_run: true }) };
      if (Object.keys(patch).length === 0) {
        throw new CliError(
          'nothing to update: give --interval, --align, --offset, --symbols, --mode, --url, --force-run, --live or --dry-run',
          ExitCode.Usage,
        );
      }
      // Many loops live at once is one more step away than one: --live names the mode, --confirm-live the reach.
      if (group && options.live && !options.confirmLive)
        throw new CliError(
          `--live on --group ${group.group} turns every loop of the group LIVE (real orders): add --confirm-live to mean it`,
          ExitCode.Usage,
        );
      return withClient(options, async (client, target) => {
        const update = (loopId: string) =>
          answeredWithin(client, target, { workflowId: loopId, what: 'update_config', timeoutMs: UPDATE_TIMEOUT_MS }, () =>
            updateLoop(client, loopId, patch),
          );
        if (group)
          return steerGroup(client, target, group.group, { ...options, verb: 'update' }, async (loopId) => {
            const next = await update(loopId);
            if (!next.dry_run && options.live) warnLive(loopId, next);
            return `config updated; it applies from the next cycle: ${configLine(next)}`;
          });
        const next = await update(id);
        if (!next.dry_run && options.live) warnLive(id, next);
        warnIdleOffset(options, next);
        say(`loop ${id}: config updated; it applies from the next cycle`);
        say(`  ${configLine(next)}`);
        return ExitCode.Ok;
      });
    }),
  );
}
