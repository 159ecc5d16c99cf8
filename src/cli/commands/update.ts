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
import { UPDATE_TIMEOUT_MS, addTemporalOptions, answeredWithin, withClient, type TemporalOptions } from '../temporal';

interface UpdateOptions extends ConfigFlags, TemporalOptions {
  dryRun?: boolean;
}

export function registerUpdate(program: Command): void {
  const command = program
    .command('update')
    .description("change a running loop's config; it applies from the next cycle and shows in status")
    .argument('[id]', 'workflow ID of the loop', DEFAULT_WORKFLOW_ID);
  addConfigFlags(command)
    .option('--dry-run', 'back to dry runs (dry_run true)')
    .addHelpText(
      'after',
      examples([
        'mtf-ping-pong update --interval 2m',
        'mtf-ping-pong update --align 5m --offset 3s',
        'mtf-ping-pong update nightly --symbols BTCUSDT,SOLUSDT --mode signal',
        'mtf-ping-pong update --url https://app.example/api/mtf/run --live',
      ]),
    );
  addTemporalOptions(command).action(
    action(async (id: string, options: UpdateOptions) => {
      if (options.live && options.dryRun) throw new CliError('--live and --dry-run contradict each other', ExitCode.Usage);
      const patch = { ...patchFromFlags(options), ...(options.dryRun && { dry_run: true }) };
      if (Object.keys(patch).length === 0) {
        throw new CliError(
          'nothing to update: give --interval, --align, --offset, --symbols, --mode, --url, --force-run, --live or --dry-run',
          ExitCode.Usage,
        );
      }
      return withClient(options, async (client, target) => {
        const next = await answeredWithin(client, target, { workflowId: id, what: 'update_config', timeoutMs: UPDATE_TIMEOUT_MS }, () =>
          updateLoop(client, id, patch),
        );
        if (!next.dry_run && options.live) warnLive(id, next);
        warnIdleOffset(options, next);
        say(`loop ${id}: config updated; it applies from the next cycle`);
        say(`  ${configLine(next)}`);
      });
    }),
  );
}
