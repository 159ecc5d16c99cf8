/**
 * What one run of the loop hands to the next at continue-as-new, and the workflow's argument that
 * carries it. Imported by workflow code: no Node built-ins.
 */
import { CONFIG_KEYS, loopConfigSchema, parseWith } from './config';
import { count, countersSchema, cyclePointSchema, cycleRecordSchema, keep, text } from './cycle-record';
import { noNotifications, notificationsStateSchema } from './notifications';
import * as s from './schema';

/** A pause: asked for by the `pause` update, in force from `since` (null while the cycle it waits for runs). */
export const pauseSchema = s.object(
  {
    reason: text().nullable(),
    requested_at: text(),
    since: text().nullable(),
  },
  keep,
);
export type Pause = s.Output<typeof pauseSchema>;

/**
 * What one workflow run hands to the next through continue-as-new, so numbering never restarts.
 * Unknown keys (here and in its parts) are kept, not refused: see `keep` in cycle-record.ts.
 */
export const carriedStateSchema = s.object(
  {
    iteration: count,
    counters: countersSchema,
    last_cycle: cycleRecordSchema.nullable(),
    last_error: text().nullable(),
    continue_pending: s.boolean('must be true or false'),
    started_at: text(),
    /** Absent in runs started before the window existed. */
    recent_cycles: s.list(cyclePointSchema, 'must be a list').default([]),
    /** A pause asked for or in force (absent in runs of releases before pause). */
    pause: pauseSchema.nullable().default(null),
    /** Beats missed since the last cycle started, for the next cycle's record. */
    missed_beats_unrecorded: count.default(0),
    /** What the loop's notifications did, and those still to send (absent before notifications). */
    notifications: notificationsStateSchema.default(noNotifications()),
    /** The app answered that it has no lineage API: the loop stops asking until its config changes. */
    lineage_absent: s.boolean('must be true or false').default(false),
  },
  keep,
);
export type CarriedState = s.Output<typeof carriedStateSchema>;
/** Carried state as a run may receive it: written by this release or an older one (keys added since are optional). */
export type CarriedStateInput = s.Input<typeof carriedStateSchema>;

/** The workflow's single argument: a config (as the original sends it) plus, after continue-as-new, its state. */
export const workflowInputSchema = loopConfigSchema.extend({ carried_state: carriedStateSchema.optional() });
export type WorkflowInput = s.Input<typeof workflowInputSchema>;

/** Parses the workflow's argument (config + optional carried state); unknown config keys are refused, naming them. */
export function parseWorkflowInput(input: unknown): s.Output<typeof workflowInputSchema> {
  return parseWith(workflowInputSchema, input);
}

/**
 * A continued run's argument was written by a loop of this release or a newer one: config keys
 * this version does not know are set aside (and handed on at the next continue-as-new), never a
 * reason to kill the loop. A fresh start does not come through here: it still refuses them.
 */
export function setAsideUnknownConfig(input: unknown): { known: unknown; unknown_config: Record<string, unknown> } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { known: input, unknown_config: {} };
  const entries = Object.entries(input as Record<string, unknown>);
  const isKnown = (key: string) => key === 'carried_state' || (CONFIG_KEYS as string[]).includes(key);
  return {
    known: Object.fromEntries(entries.filter(([key]) => isKnown(key))),
    unknown_config: Object.fromEntries(entries.filter(([key]) => !isKnown(key))),
  };
}

/** The carried state's keys this version does not know (kept as they are), for one log line. */
export function unknownCarriedKeys(carried: CarriedState | undefined): string[] {
  if (!carried) return [];
  const counters = carried.counters as Record<string, unknown>;
  return [
    ...carriedStateSchema.unknownKeysOf(carried as Record<string, unknown>).map((key) => `carried_state.${key}`),
    ...countersSchema.unknownKeysOf(counters).map((key) => `carried_state.counters.${key}`),
  ];
}
