/**
 * When cycles start. `interval`: a fixed pause after each cycle, so starts drift by each run's
 * own length. `aligned`: on beats, the boundaries of `align_every` seconds counted from midnight
 * UTC plus `align_offset` seconds, so each run reads candles that have just closed.
 *
 * Because `align_every` divides a day and Unix time has no leap seconds, the boundaries from
 * midnight UTC are the multiples of the period since the epoch: a beat is n × period + offset.
 * Workflow code imports this file: plain arithmetic on workflow time, nothing else.
 */

export const CADENCES = ['interval', 'aligned'] as const;
export type Cadence = (typeof CADENCES)[number];

export const SECONDS_PER_DAY = 86_400;
export const ALIGN_EVERY_RULE = 'must be a whole number of seconds that divides a day (86400), like 60, 300, 900, 3600 or 14400';

/**
 * The config keys a cadence reads. The config schema (config.ts) types them so; they are named
 * here so that this module, which the schema imports for its rules, does not import the schema.
 */
export interface CadenceConfig {
  cadence: Cadence;
  ping_interval: number;
  align_every: number;
  align_offset: number;
  align_spread: number;
  max_execution_time: number;
}

type Beat = Pick<CadenceConfig, 'align_every' | 'align_offset'>;

/**
 * `align_spread`: this loop's own point in [0, spread) after `align_offset`, milliseconds, taken
 * from its workflow ID (FNV-1a, then MurmurHash3's finalizer: IDs that differ in their last digit
 * land far apart), so that N loops on one period do not all call on the same second
 * (bench stage 6: 1,000 loops on one boundary queue behind the machine's throughput and miss beats;
 * spread over 25 s of a 30 s period, none does). The same ID always gets the same point: replay
 * and restarts keep it.
 */
export function spreadMs(workflowId: string, spreadSeconds: number): number {
  if (!(spreadSeconds > 0)) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < workflowId.length; i++) hash = Math.imul(hash ^ workflowId.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  hash = (hash ^ (hash >>> 16)) >>> 0;
  return Math.floor((hash / 2 ** 32) * spreadSeconds * 1000);
}

/** The beats one loop keeps: the period, and its offset with its share of the spread. */
export function loopBeat(config: Pick<CadenceConfig, 'align_every' | 'align_offset' | 'align_spread'>, workflowId: string): Beat {
  return { align_every: config.align_every, align_offset: config.align_offset + spreadMs(workflowId, config.align_spread) / 1000 };
}

function periodMs(config: Beat): number {
  return config.align_every * 1000;
}

/** The beat's index at or before `ms`: beats n × period + offset, so index n covers [beat n, beat n + 1). */
function beatIndex(config: Beat, ms: number): number {
  return Math.floor((ms - Math.round(config.align_offset * 1000)) / periodMs(config));
}

function beatAt(config: Beat, index: number): number {
  return index * periodMs(config) + Math.round(config.align_offset * 1000);
}

/** The first beat strictly after `ms`. */
export function nextBeat(config: Beat, ms: number): number {
  return beatAt(config, beatIndex(config, ms) + 1);
}

/** How many beats fall in (from, to]: those that passed without a cycle starting at them. */
export function beatsBetween(config: Beat, from: number, to: number): number {
  return Math.max(beatIndex(config, to) - beatIndex(config, from), 0);
}

/**
 * How late a cycle may start after its beat and still count as started at it: half a period, at
 * least 3 s (a server's timer fires a little late: the dev server's about half a second), at most
 * a minute. Later (a worker that was down when the timer fired), the run would read a candle long
 * since moving: the beat is counted missed and the loop waits for the next one.
 */
export function lateStartLimitMs(config: Beat): number {
  return Math.min(Math.max(periodMs(config) / 2, 3_000), 60_000);
}

/** `1m`, `15m`, `4h`, `90s`: the period as traders write it. */
export function periodText(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

const two = (n: number) => String(n).padStart(2, '0');

/** Where in its period a beat falls: `:02` in each minute, `:00:02` in each hour's quarters, `00:00:02 UTC` and so on. */
function offsetText(config: Beat): string {
  const whole = Math.floor(config.align_offset);
  const fraction = config.align_offset - whole;
  const secs = `${two(whole % 60)}${fraction > 0 ? String(Math.round(fraction * 1000) / 1000).slice(1) : ''}`;
  if (config.align_every < 60) return `+${Math.round(config.align_offset * 1000) / 1000}s`;
  if (config.align_every === 60) return `:${secs}`;
  if (config.align_every < 3600) return `:${two(Math.floor(whole / 60) % 60)}:${secs}`;
  return `${two(Math.floor(whole / 3600))}:${two(Math.floor(whole / 60) % 60)}:${secs} UTC`;
}

/**
 * The loop's clock in a few words: `every 30 s`, `every 1m at :02`, or with a spread
 * `every 1m at :02 + up to 10 s` (and, given the loop's workflow ID, `: this loop at :05.27`).
 */
export function cadenceText(
  config: Pick<CadenceConfig, 'cadence' | 'ping_interval' | 'align_every' | 'align_offset' | 'align_spread'>,
  workflowId?: string,
): string {
  if (config.cadence !== 'aligned') return `every ${config.ping_interval} s`;
  const text = `every ${periodText(config.align_every)} at ${offsetText(config)}`;
  if (!(config.align_spread > 0)) return text;
  const own = workflowId === undefined ? '' : `: this loop at ${offsetText(loopBeat(config, workflowId))}`;
  return `${text} + up to ${config.align_spread} s${own}`;
}

/**
 * The longest a healthy loop goes between two finished cycles, seconds: its wait (the pause, or a
 * period to the next beat) plus a whole cycle budget. Three of them without a cycle: stalled.
 */
export function expectedPeriodSeconds(
  config: Pick<CadenceConfig, 'cadence' | 'ping_interval' | 'align_every' | 'max_execution_time'>,
): number {
  return (config.cadence === 'aligned' ? config.align_every : config.ping_interval) + config.max_execution_time;
}

/** What `status` warns about a loop's clock, or nothing. */
export function cadenceWarnings(config: Pick<CadenceConfig, 'cadence' | 'align_every' | 'max_execution_time'>): string[] {
  if (config.cadence !== 'aligned' || config.max_execution_time <= config.align_every) return [];
  return [
    `the cycle budget (${config.max_execution_time} s) is longer than the period ` +
      `(${config.align_every} s): a long cycle misses beats, which are counted, not queued`,
  ];
}
