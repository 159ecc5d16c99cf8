/**
 * What makes a loop recognisable in the Temporal UI and `temporal workflow list`: five custom
 * search attributes and a one-line summary. Neither ever holds symbols or MTF results: search
 * attributes and summaries stay readable on the server even when payloads are encrypted.
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { cadenceText } from './cadence';
import type { LoopConfig } from './config';

/** `running`, `failing` (FAILING_AFTER failed cycles in a row), `paused` (held by the `pause` update) or `stopped`. */
export const LOOP_STATE = defineSearchAttributeKey('MtfLoopState', SearchAttributeType.KEYWORD);
/** The outcome of the last finished cycle (succeeded, partial, failed, skipped, timed_out). */
export const LAST_OUTCOME = defineSearchAttributeKey('MtfLastOutcome', SearchAttributeType.KEYWORD);
/** True while the loop runs in dry-run mode: `MtfDryRun = false` lists the live loops. */
export const DRY_RUN = defineSearchAttributeKey('MtfDryRun', SearchAttributeType.BOOL);

/** The fleet file that manages the loop (config key `fleet`): `MtfFleet = 'bitmart-prod'`. Absent on loops started by hand. */
export const FLEET = defineSearchAttributeKey('MtfFleet', SearchAttributeType.KEYWORD);
/** The loop's group (config key `group`): what `pause --group` and `list --group` select on. */
export const GROUP = defineSearchAttributeKey('MtfGroup', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [LOOP_STATE, LAST_OUTCOME, DRY_RUN, FLEET, GROUP] as const;

export const LOOP_STATES = ['running', 'failing', 'paused', 'stopped'] as const;
export type LoopStateName = (typeof LOOP_STATES)[number];

/** Failed or timed-out cycles in a row after which a loop shows as `failing`. */
export const FAILING_AFTER = 3;

/** The `temporal` CLI's name for each attribute type, for the registration commands. */
const CLI_TYPE: Record<string, string> = { [SearchAttributeType.KEYWORD]: 'Keyword', [SearchAttributeType.BOOL]: 'Bool' };

/** `Name=Type` pairs, as `temporal server start-dev --search-attribute` takes them. */
export function searchAttributeSpecs(): string[] {
  return SEARCH_ATTRIBUTES.map((key) => `${key.name}=${CLI_TYPE[key.type]}`);
}

/** The command that registers the attributes on a cluster's namespace. */
export function registerCommand(namespace: string): string {
  const names = SEARCH_ATTRIBUTES.map((key) => `--name ${key.name}`).join(' ');
  const types = SEARCH_ATTRIBUTES.map((key) => `--type ${CLI_TYPE[key.type]}`).join(' ');
  return `temporal operator search-attribute create --namespace ${namespace} ${names} ${types}`;
}

export function loopStateOf(stopped: boolean, consecutiveFailures: number, paused = false): LoopStateName {
  if (stopped) return 'stopped';
  if (paused) return 'paused';
  return consecutiveFailures >= FAILING_AFTER ? 'failing' : 'running';
}

/**
 * The start's summary in the UI. It is fixed at the start and not carried by continue-as-new, so it
 * names no setting that an update can change (a stale "dry run" would mislead on a safety flag).
 */
export const LOOP_STATIC_SUMMARY = 'MTF ping-pong loop: its config in force is under Current Details';

/** The UI's current details (updated when the config changes): mode and timing, never the symbols. */
export function loopSummaryText(config: LoopConfig): string {
  const mode = config.continue_mode === 'signal' ? 'waits for continue_signal' : 'runs on its own';
  return `MTF ping-pong loop: ${config.dry_run ? 'dry run' : 'LIVE'}, ${mode}, ${cadenceText(config)}, ${config.max_execution_time} s budget per cycle`;
}
